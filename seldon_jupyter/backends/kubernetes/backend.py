"""The kubernetes backend: SeldonDeployments, Brokers and Triggers on a real cluster.

Apply is server-side apply with field manager `seldon-jupyter` (the kit owns only the
fields it sets; controllers' status and other managers' fields are left alone), at the
URL of each manifest's own apiVersion. Readiness is what the controllers wrote, read
through the shared `summarize`, with the cluster's extra rules (tests/kube double and
PROTOCOL.md): a Knative object is Ready only when `status.observedGeneration` equals
`metadata.generation`, and a SeldonDeployment whose spec the kit just changed only after
Seldon's operator has moved its status (v1 never reports observedGeneration). Waits watch
instead of polling. Events go through the API server's service proxy to the ingress named
by the Broker's own `status.address.url` (so any broker class works), straight to that
address from inside the cluster, or to a URL the user gives; sends carry the
kubeconfig's full TLS identity.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

from seldon_jupyter import journal, journal_collected, resources
from seldon_jupyter.backends.base import Check, Resource, SendTarget, summarize
from seldon_jupyter.backends.kubernetes import diagnose, routing
from seldon_jupyter.backends.kubernetes.api import Api, load
from seldon_jupyter.backends.kubernetes.collect import Collector
from seldon_jupyter.errors import BackendError, SeldonJupyterError
from seldon_jupyter.events import Event
from seldon_jupyter.home import private_dir

FIELD_MANAGER = "seldon-jupyter"
LISTED = ("Broker", "Trigger", "SeldonDeployment")
SUPPORT = ("Deployment", "Service", "ConfigMap")  # listed when the kit made them
OPTIONAL = ("InferenceService",)  # listed where KServe is installed
MANAGED = "=".join(resources.MANAGED_BY)
COLLECT_EVERY = 0.3  # seconds: the least time between two pulls from the cluster's sinks
GENERATION_KINDS = ("Broker", "Trigger", "Deployment", "InferenceService")  # report
# observedGeneration
TARGET_TTL = 30.0  # seconds a derived send target is reused


class KubernetesBackend:
    name = "kubernetes"

    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None,
                 in_cluster: bool | None = None, broker_url: str | None = None,
                 home: str | os.PathLike[str] | None = None) -> None:
        api_client, self.default_namespace, self.in_cluster = load(kubeconfig, context,
                                                                   in_cluster)
        self.api = Api(api_client)
        self.broker_override = broker_url
        self.context = context or "current"
        self.home = private_dir(Path(home or os.environ.get("SELDON_JUPYTER_HOME") or
                                     platformdirs.user_data_dir("seldon-jupyter")))
        self.collector = Collector(self.api, self.journal_path())
        self._collected: dict[str, float] = {}
        self._stale: dict[tuple[str, str, str], str] = {}  # Seldon status before our change
        self._targets: dict[tuple[str, str], tuple[float, SendTarget]] = {}

    # -- resources --------------------------------------------------------------------------

    def _apply_one(self, m: dict[str, Any], force: bool) -> dict[str, Any]:
        kind, meta = m["kind"], m["metadata"]
        ns = meta.get("namespace", self.default_namespace)
        where = routing.path(kind, ns, meta["name"], api_version=m.get("apiVersion"))
        body = {k: v for k, v in m.items() if k != "status"}
        body["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
        before = None
        if kind == "SeldonDeployment":
            code, found = self.api.attempt("GET", where)
            before = found if code == 200 else None
        query = [("fieldManager", FIELD_MANAGER)] + ([("force", "true")] if force else [])
        applied: dict[str, Any] = self.api.request(
            "PATCH", where, json.dumps(body), query,
            content_type="application/apply-patch+yaml")
        if before is not None and applied["metadata"].get("generation") != before[
                "metadata"].get("generation"):
            self._stale[("SeldonDeployment", ns, meta["name"])] = json.dumps(
                applied.get("status") or {}, sort_keys=True)
        return applied

    def apply(self, manifests: list[dict[str, Any]], *, force: bool = False) -> list[Resource]:
        return [self._summarize(self._apply_one(m, force)) for m in manifests]

    def _summarize(self, obj: dict[str, Any]) -> Resource:
        res = summarize(obj)
        meta = obj.get("metadata") or {}
        status = obj.get("status") or {}
        generation = meta.get("generation")
        key = (res.kind, res.namespace, res.name)
        if res.kind in GENERATION_KINDS and res.ready and generation is not None and (
                status.get("observedGeneration") != generation):
            return _not_yet(res, f"the controller has not reconciled generation {generation}"
                            f" yet (observed {status.get('observedGeneration', 'none')})")
        if key in self._stale:
            if json.dumps(status, sort_keys=True) == self._stale[key] and res.ready:
                return _not_yet(res, "Seldon's operator has not picked up the new spec yet")
            del self._stale[key]
        return res

    def get(self, kind: str, namespace: str, name: str) -> Resource:
        return self._summarize(self.api.request("GET", routing.path(kind, namespace, name)))

    def list(self, namespace: str | None = None) -> list[Resource]:
        """Brokers, Triggers and SeldonDeployments, plus the Deployments, Services and
        ConfigMaps the kit labelled as its own (the namespace's others are not ours).
        `namespace=None` lists every namespace (the cluster-wide list paths)."""
        found: list[Resource] = []
        for kind in (*LISTED, *OPTIONAL, *SUPPORT):
            query = [("labelSelector", MANAGED)] if kind in SUPPORT else None
            if kind in OPTIONAL:  # KServe may not be installed: then there are none
                code, listed = self.api.attempt("GET", routing.path(kind, namespace))
                items = listed.get("items", []) if code == 200 else []
            else:
                items = self.api.request("GET", routing.path(kind, namespace),
                                         query=query).get("items", [])
            for item in items:
                item.setdefault("kind", kind)
                found.append(self._summarize(item))
        return found

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.api.request("DELETE", routing.path(kind, namespace, name))

    def record_sent(self, namespace: str, broker: str, sent: Sequence[Event],
                    at: float) -> None:
        """Journal what was sent (a cluster's broker is remote): responses echoing
        `meta.puid` then name their request and latency."""
        if sent:
            journal_collected.record_sent(self.journal_path(), sent, namespace=namespace,
                                          broker=broker, at=at)

    def wait_for_change(self, waiting: Sequence[Resource], timeout: float) -> None:
        """Block until one of `waiting` may have changed (a watch event), or `timeout`."""
        if not waiting or timeout <= 0:
            return
        first = waiting[0]
        version = str((first.manifest.get("metadata") or {}).get("resourceVersion") or "")
        deadline = time.monotonic() + timeout
        try:
            for _ in self.api.watch(routing.path(first.kind, first.namespace), version,
                                    timeout, [("fieldSelector", f"metadata.name={first.name}")]):
                return
        except SeldonJupyterError:
            pass  # a watch refused (410 Gone, RBAC): fall back to a pause, then a fresh get
        time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))

    # -- events -----------------------------------------------------------------------------

    def send_target(self, namespace: str, broker: str) -> SendTarget:
        if self.broker_override:
            return SendTarget(self.broker_override.rstrip("/"))
        cached = self._targets.get((namespace, broker))
        if cached and time.monotonic() - cached[0] < TARGET_TTL:
            return cached[1]
        found = self.get("Broker", namespace, broker)
        if not found.address:
            raise BackendError(f"Broker {namespace}/{broker} has no address yet "
                               f"({found.state}{': ' + found.reason if found.reason else ''})",
                               hint="wait until it is Ready: session.wait_ready(('Broker', "
                               f"'{broker}'))")
        if self.in_cluster:
            target = SendTarget(found.address)
        else:
            target = routing.proxied(self.api, found.address)
        self._targets[(namespace, broker)] = (time.monotonic(), target)
        return target

    def collect(self, namespace: str | None = None, *, force: bool = False) -> int:
        """Pull new events from the namespace's sinks into the journal (rate-limited);
        `namespace=None`: the sinks of every namespace the kit has a collector in."""
        if namespace is None:
            # a sink is subscribed by a Trigger (the walkthrough's event-display Service is
            # not the kit's, so Triggers, not only the kit's Services, name the namespaces)
            spaces = {r.namespace for r in self.list(None) if r.kind in ("Service", "Trigger")}
            return sum(self.collect(ns, force=force) for ns in sorted(spaces))
        now = time.monotonic()
        if not force and now - self._collected.get(namespace, -COLLECT_EVERY) < COLLECT_EVERY:
            return 0
        self._collected[namespace] = now
        return self.collector.collect(namespace)

    def journal_path(self) -> Path:
        path = self.home / f"kubernetes-{self.context}.sqlite"
        return path if path.exists() else journal.ensure(path)

    def start(self) -> dict[str, Any]:
        """Nothing to start: the cluster runs by itself."""
        return self.describe()

    def stop(self) -> bool:
        return False

    def describe(self) -> dict[str, Any]:
        """The API server, context and default namespace (one cheap request for `running`)."""
        try:
            self.api.request("GET", "/version")
            running = True
        except SeldonJupyterError:
            running = False
        return {"backend": self.name, "home": str(self.home), "host": self.api.host,
                "context": self.context, "namespace": self.default_namespace,
                "in_cluster": self.in_cluster, "running": running}

    def doctor(self, namespace: str, found: Sequence[Resource]) -> Sequence[Check]:
        """The cluster checks (`diagnose`): CRDs, RBAC, addressable role, ingress, sinks,
        mesh and PodSecurity."""
        return diagnose.run(self, namespace, list(found))

    def close(self) -> None:
        self.api.close()


def _not_yet(res: Resource, reason: str) -> Resource:
    return Resource(kind=res.kind, namespace=res.namespace, name=res.name,
                    api_version=res.api_version, ready=False, state="Reconciling",
                    reason=reason, address=res.address, status=res.status,
                    manifest=res.manifest)
