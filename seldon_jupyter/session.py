"""`Session`: the one facade that magics, widgets, the CLI and the server extension call.

Synchronous methods for deploying manifests, waiting for them, sending CloudEvents and
reading the responses back as DataFrames; async work runs on the package's private
event loop. The backend (local by default) is chosen once, at construction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from seldon_jupyter import (
    _loop,
    backends,
    batch,
    debugging,
    doctor,
    journal_reader,
    model_uris,
    resources,
    sender,
    tables,
    topology,
)
from seldon_jupyter.backends.base import Backend, Resource
from seldon_jupyter.errors import (
    EventError,
    NotFoundError,
    NotReadyError,
)
from seldon_jupyter.events import Event
from seldon_jupyter.explain import Explanation
from seldon_jupyter.session_results import Results
from seldon_jupyter.settings import DEFAULT_TIMEOUT
from seldon_jupyter.trace import Trace

DEFAULT_SOURCE = "seldon-jupyter"
WATCH_SLICE = 10.0  # seconds: the longest one wait for a change lasts


class Session(Results):
    """Deploy, send and read responses on one backend, in one namespace and broker.

    `namespace=None` takes the backend's default (the kubeconfig context's namespace on a
    cluster); `timeout` is the default wait for readiness. Backend options (`home`,
    `context`, `kubeconfig`, `start`, ...) go to the backend's factory.
    """

    def __init__(self, backend: str | Backend = "local", *, namespace: str | None = None,
                 broker: str = "default", source: str = DEFAULT_SOURCE,
                 timeout: float = DEFAULT_TIMEOUT, **options: Any) -> None:
        self._owns_backend = isinstance(backend, str)
        self.backend: Backend = backends.create(backend, **options) if isinstance(
            backend, str) else backend
        self.namespace = namespace or self.backend.default_namespace
        self.broker = broker
        self.source = source
        self.timeout = timeout
        self._http = requests.Session()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release connections; a backend passed in by the caller stays open."""
        self._http.close()
        if self._owns_backend:
            self.backend.close()

    # -- where it runs ------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Backend, home, host, namespace, broker and whether it runs (starts nothing)."""
        return {**self.backend.describe(), "namespace": self.namespace, "broker": self.broker}

    def start(self) -> dict[str, Any]:
        """Start the backend where the kit runs it (the local cluster); returns describe()."""
        return {**self.backend.start(), "namespace": self.namespace, "broker": self.broker}

    def stop(self) -> bool:
        """Stop what start() started; False when nothing was running."""
        return self.backend.stop()

    def doctor(self, namespace: str | None = None) -> doctor.Diagnosis:
        """Check what the walkthrough needs here (on a cluster: CRDs, RBAC, the addressable
        ClusterRole, broker ingress, sinks, mesh, PodSecurity; then the namespace's
        objects): a table of ok / warn / fail with the fix. Changes nothing."""
        return doctor.examine(self.backend, namespace or self.namespace)

    # -- resources ---------------------------------------------------------------------------

    def apply(self, manifests: str | Mapping[str, Any] | Iterable[Mapping[str, Any]], *,
              wait: bool = False, timeout: float | None = None,
              progress: Callable[[list[Resource]], None] | None = None) -> list[Resource]:
        """Create or update manifests (YAML text, a dict or a list); optionally wait for Ready."""
        here = self.backend.name != "kubernetes"  # the models run on this machine
        loaded = [model_uris.resolve_manifest(resources.validate(m, self.namespace),
                                              Path.cwd(), here=here)
                  for m in resources.load(manifests)]
        applied = self.backend.apply(loaded)
        if not wait:
            return applied
        return self.wait_ready(*applied, timeout=timeout, progress=progress)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        return self.backend.get(resources.canonical_kind(kind), namespace or self.namespace, name)

    def status(self, kind: str | None = None, *, all_namespaces: bool = False
               ) -> list[Resource]:
        """Resources in this session's namespace (or everywhere the backend can list)."""
        wanted = resources.canonical_kind(kind) if kind else None
        found = self.backend.list(None if all_namespaces else self.namespace)
        return [r for r in found if wanted is None or r.kind == wanted]

    def wait_ready(self, *targets: Resource | tuple[str, str] | Mapping[str, Any],
                   timeout: float | None = None,
                   progress: Callable[[list[Resource]], None] | None = None) -> list[Resource]:
        """Wait until every target (all resources if none given) is Ready/Available.

        `progress` is called with the current statuses on every poll. Raises NotReadyError
        with the controller's reason when one fails or time runs out.
        """
        keys = [self._key(t) for t in targets] or [
            (r.kind, r.namespace, r.name) for r in self.status()]
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        current: list[Resource] = []
        while True:
            current = [self.backend.get(*k) for k in keys]
            if progress is not None:
                progress(current)
            failed = [r for r in current if r.failed]
            orphans = [r for r in current if r.kind == "Trigger" and not r.ready and
                       r.reason.startswith("BrokerDoesNotExist") and not any(
                           k[0] == "Broker" and k[1] == r.namespace for k in keys)]
            if orphans:  # only the user can fix this: do not wait for it
                t = orphans[0]
                raise NotReadyError(
                    f"Trigger {t.namespace}/{t.name} cannot become Ready: {t.reason}",
                    hint="apply a Broker first: session.ensure_broker(), or %%seldon_apply "
                         "with kind: Broker (Knative's namespace injection would create "
                         "`default` for you)")
            if failed:
                raise NotReadyError("; ".join(f"{r.kind} {r.namespace}/{r.name} failed: "
                                              f"{r.reason}" for r in failed))
            if all(r.ready for r in current):
                return current
            if time.monotonic() >= deadline:
                waiting = [r for r in current if not r.ready]
                raise NotReadyError(
                    f"not ready after {timeout:g}s: " + "; ".join(
                        f"{r.kind} {r.namespace}/{r.name} is {r.state}"
                        + (f" ({r.reason})" if r.reason else "") for r in waiting),
                    hint="raise timeout=, or look at session.status() for the reason")
            self.backend.wait_for_change([r for r in current if not r.ready],
                                         min(deadline - time.monotonic(), WATCH_SLICE))

    def _key(self, target: Resource | tuple[str, str] | Mapping[str, Any]) -> tuple[str, str, str]:
        if isinstance(target, Resource):
            return target.kind, target.namespace, target.name
        if isinstance(target, tuple):
            return resources.canonical_kind(target[0]), self.namespace, target[1]
        meta = target.get("metadata") or {}
        return target["kind"], meta.get("namespace", self.namespace), meta["name"]

    def delete(self, kind: str | Mapping[str, Any], name: str | None = None,
               namespace: str | None = None) -> None:
        """Delete by (kind, name) or by manifest(s)."""
        if isinstance(kind, str) and name is not None:
            self.backend.delete(resources.canonical_kind(kind), namespace or self.namespace, name)
            return
        for m in resources.load(kind):
            meta = m.get("metadata") or {}
            self.backend.delete(m["kind"], meta.get("namespace", self.namespace), meta["name"])

    def cleanup(self) -> list[Resource]:
        """Delete what the kit created in this namespace (labelled managed-by seldon-jupyter);
        resources applied from hand-written YAML are left alone."""
        gone = [r for r in self.status() if resources.managed(r.manifest)]
        for r in gone:
            try:
                self.backend.delete(r.kind, r.namespace, r.name)
            except NotFoundError:
                pass  # deleted meanwhile (or with its owner): gone either way
        return gone

    # -- conveniences for the walkthrough ----------------------------------------------------

    def deploy(self, name: str, *, model_uri: str = resources.IRIS_URI,
               implementation: str = "SKLEARN_SERVER", wait: bool = True,
               timeout: float | None = None, **kw: Any) -> Resource:
        manifest = resources.seldon_deployment(name, model_uri=model_uri,
                                               implementation=implementation,
                                               namespace=self.namespace, **kw)
        return self.apply(manifest, wait=wait, timeout=timeout)[0]

    def ensure_broker(self, name: str | None = None, **kw: Any) -> Resource:
        return self.apply(resources.broker(name or self.broker, namespace=self.namespace, **kw),
                          wait=True, timeout=60)[0]

    def collector(self, name: str | None = None, *, type: str | None = None,  # noqa: A002
                  source: str | None = None, kind: str = "event-display") -> list[Resource]:
        """A collector for matching events: the walkthrough's event-display (`kind=
        "event-display"`) or the kit's own sink (`kind="sink"`), with a Trigger feeding it."""
        flt = {k: v for k, v in (("type", type), ("source", source)) if v}
        return self.apply(resources.collector_manifests(
            name, kind=kind, namespace=self.namespace, broker=self.broker, filter=flt),
            wait=True)

    # -- events ------------------------------------------------------------------------------

    def broker_url(self, broker: str | None = None, namespace: str | None = None) -> str:
        return self.backend.send_target(namespace or self.namespace, broker or self.broker).url

    def event(self, payload: Any = None, *, type: str,  # noqa: A002
              source: str | None = None, kind: str = "ndarray", protocol: str = "seldon",
              **attrs: Any) -> Event:
        """Build a CloudEvent; arrays and DataFrames become a Seldon payload first, whose
        `meta.puid` is the event id (Seldon echoes it, so the answer names its request),
        or with `protocol="v2"` an Open Inference Protocol request whose `id` is the event
        id (`kind="tensor"`, one input, or `"columns"`, one input per column)."""
        if isinstance(payload, Event):
            return payload
        body, tag = tables.request_body(payload, kind, protocol)
        return batch.new_event(body, tag, type=type, source=source or self.source, **attrs)

    def send(self, payload: Any = None, *, type: str | None = None,  # noqa: A002
             source: str | None = None, broker: str | None = None,
             structured: bool = False, kind: str = "ndarray", protocol: str = "seldon",
             **attrs: Any) -> sender.SendResult:
        """Send one event to the broker; returns its id and the broker's answer."""
        event = payload if isinstance(payload, Event) else self.event(
            payload, type=self._need_type(type), source=source, kind=kind, protocol=protocol,
            **attrs)
        target = self.backend.send_target(self.namespace, broker or self.broker)
        started = time.time()
        result = sender.send_one(self._http, target, event, structured=structured)
        self.backend.record_sent(self.namespace, broker or self.broker, [event], at=started)
        return result

    @staticmethod
    def _need_type(type_: str | None) -> str:
        if not type_:
            raise EventError("an event needs a type",
                                     hint="e.g. type=request_type('iris-deployment')")
        return type_

    def send_many(self, data: Any, *, type: str | None = None,  # noqa: A002
                  source: str | None = None, rate: float | None = None,
                  concurrency: int = 32, batch_size: int | None = None, kind: str = "ndarray",
                  structured: bool = False, broker: str | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None, protocol: str = "seldon",
                  **attrs: Any) -> sender.SendSummary:
        """Send one event per row (or per `batch_size` rows), concurrently and bounded;
        setting `cancel` (from another thread, e.g. a widget's Cancel) stops what has not
        been sent yet. `protocol="v2"` sends Open Inference Protocol requests."""
        items = tables.split_rows(data, kind, batch_size, protocol)
        built = all(isinstance(item, Event) for item, _ in items)  # a type only to build
        todo = batch.build(items, lazy=tables.checked_rows(data, kind, protocol),
                           type=type if built else self._need_type(type),
                           source=source or self.source, **attrs)
        target = self.backend.send_target(self.namespace, broker or self.broker)
        started = time.time()  # on a cluster, latency counts from here (the batch's start)
        summary = _loop.run(sender.send_bulk(target, todo, structured=structured,
                                             concurrency=concurrency, rate=rate,
                                             progress=progress, cancel=cancel))
        accepted = set(summary.ids)
        self.backend.record_sent(self.namespace, broker or self.broker,
                                 [e for e in todo if e.id in accepted], at=started)
        return summary

    # -- debugging (seldon_jupyter.debugging) -------------------------------------------------

    def topology(self) -> dict[str, Any]:
        """The topology model of this namespace (what the sidebar and dashboard draw), with
        the deliveries each Trigger made."""
        counts = journal_reader.trigger_counts(self.backend.journal_path(),
                                               namespace=self.namespace)
        return topology.build(self.status(), counts)

    def trace(self, event: Any = "last") -> Trace:
        """Why an event went where it went: every Trigger's verdict, each delivery attempt,
        the dead-letter outcome and the replies it caused (an id, an Event or "last")."""
        return debugging.trace(self, event)

    def explain(self, type: str | None = None, source: str | None = None,  # noqa: A002
                *, broker: str | None = None, extensions: Mapping[str, str] | None = None,
                **attributes: str) -> Explanation:
        """Which Triggers would take an event with these attributes, and why not the others,
        nearest miss first (client-side on a cluster, from the Triggers' specs)."""
        return debugging.explain_event(
            self, {"type": type, "source": source, **(extensions or {}), **attributes}, broker)

    def dead_letters(self) -> pd.DataFrame:
        """Dead-lettered events: destination, knativeerrorcode, decoded knativeerrordata."""
        return debugging.dead_letters(self)

    def failures(self) -> pd.DataFrame:
        """Events no Trigger took (with the nearest miss), dropped events, failed and
        dead-lettered deliveries, with their reasons."""
        return debugging.failures(self)

    def replay(self, items: Any, *, to: str | None = None, type: str | None = None,  # noqa: A002
               rate: float | None = None, new_ids: bool = True,
               progress: Callable[[int, int], None] | None = None) -> sender.SendSummary:
        """Re-send journaled events (ids, a DataFrame of them, or Events), optionally to
        another broker (`to`) or as another type; each carries `replayof` = the original."""
        return debugging.replay(self, items, to=to, type=type, rate=rate, new_ids=new_ids,
                                progress=progress)

    def dead_letter_sink(self, triggers: Iterable[str] | None = None) -> list[Resource]:
        """Create the kit's collector as a dead-letter sink and wire Triggers to it."""
        return debugging.dead_letter_sink(self, triggers)
