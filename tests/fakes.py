"""FakeBackend: the Backend protocol in memory over a temp journal, for the fast test layer.

The counterpart of httpx's MockTransport: Session, results, the magics' usage errors, the
widgets and the topology run against it in milliseconds. It keeps the protocol's contract
(frozen Resources through `summarize`, NotFoundError, namespaces as the protocol states)
and routes with the kit's real filter engine; its ingress on 127.0.0.1 answers like the
broker's (202 / 400 / 404 / 405), journals every event and, synchronously before the 202,
plays what the real data plane does after it: a SeldonDeployment subscriber answers with a
SKLEARN_SERVER-shaped reply (the row's sum as t:0) that re-enters the broker, and a
Service subscriber collects what reaches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from seldon_jupyter import doctor, event_http, events, filters, journal, journal_ops, naming
from seldon_jupyter.backends.base import Check, Resource, SendTarget, summarize
from seldon_jupyter.errors import EventError, NotFoundError
from seldon_jupyter.events import Event
from seldon_jupyter.payloads import answer_shape

Key = tuple[str, str, str]


def _status(m: dict[str, Any], store: dict[Key, dict[str, Any]]) -> dict[str, Any]:
    kind, ns, name = m["kind"], m["metadata"]["namespace"], m["metadata"]["name"]
    ready = [{"type": "Ready", "status": "True"}]
    if kind == "SeldonDeployment":
        first = m["spec"]["predictors"][0]["name"]
        uri = str(m["spec"]["predictors"][0].get("graph", {}).get("modelUri") or "")
        path = uri.removeprefix("file://")
        if path.startswith("/") and not Path(path).exists():  # as the local backend fails it
            return {"state": "Failed",
                    "description": f"model URI {uri} does not exist on this machine"}
        return {"state": "Available", "address": {
            "url": f"http://{name}-{first}.{ns}.svc.cluster.local:8000/api/v1.0/predictions"}}
    if kind == "Broker":
        return {"conditions": ready, "address": {"url": f"http://fake-ingress/{ns}/{name}"}}
    if kind == "Trigger":
        broker = m["spec"].get("broker", "default")
        if ("Broker", ns, broker) not in store:
            return {"conditions": [{"type": "Ready", "status": "False",
                                    "reason": "BrokerDoesNotExist",
                                    "message": f"Broker {ns}/{broker} does not exist"}]}
        return {"conditions": ready, "subscriberUri": "http://fake-subscriber/"}
    return {"conditions": ready}


class FakeBackend:
    name = "fake"
    default_namespace = "default"

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.store: dict[Key, dict[str, Any]] = {}
        self.journal = journal.Journal(journal.ensure(self.home / "journal.sqlite"))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.calls: list[str] = []

    # -- the protocol ------------------------------------------------------------------------

    def apply(self, manifests: list[dict[str, Any]]) -> list[Resource]:
        self.calls.append("apply")
        out = []
        for m in manifests:
            key = (m["kind"], m["metadata"].get("namespace", "default"), m["metadata"]["name"])
            self.store[key] = {**m, "metadata": {**m["metadata"], "namespace": key[1]}}
        for m in self.store.values():
            m["status"] = _status(m, self.store)
        for m in manifests:
            key = (m["kind"], m["metadata"].get("namespace", "default"), m["metadata"]["name"])
            out.append(summarize(self.store[key]))
        return out

    def get(self, kind: str, namespace: str, name: str) -> Resource:
        try:
            return summarize(self.store[(kind, namespace, name)])
        except KeyError:
            raise NotFoundError(f"{kind} {namespace}/{name} not found") from None

    def list(self, namespace: str | None = None) -> list[Resource]:
        return [summarize(m) for (_, ns, _), m in sorted(self.store.items())
                if namespace is None or ns == namespace]

    def record_sent(self, namespace: str, broker: str, sent: Sequence[Event],
                    at: float) -> None:
        return None

    def wait_for_change(self, waiting: Sequence[Resource], timeout: float) -> None:
        time.sleep(max(0.0, min(0.1, timeout)))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        if self.store.pop((kind, namespace, name), None) is None:
            raise NotFoundError(f"{kind} {namespace}/{name} not found")

    def send_target(self, namespace: str, broker: str) -> SendTarget:
        host, port = self.server.server_address[:2]
        return SendTarget(f"http://{host}:{port}/{namespace}/{broker}")

    def journal_path(self) -> Path:
        return self.journal.path

    def collect(self, namespace: str | None = None, *, force: bool = False) -> int:
        return 0

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "home": str(self.home),
                "host": self.send_target("-", "-").url.rsplit("/", 2)[0], "running": True}

    def start(self) -> dict[str, Any]:
        return self.describe()

    def stop(self) -> bool:
        return False

    def doctor(self, namespace: str, found: Sequence[Resource]) -> list[Check]:
        """As the local backend: it runs, and each Ready Broker's ingress answers."""
        return [Check("local", "fake cluster", "ok", "in memory"),
                *doctor.ingress_checks(self.send_target, namespace, found)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.journal.close()

    # -- the data plane ------------------------------------------------------------------------

    def _triggers(self, ns: str, broker: str) -> list[dict[str, Any]]:
        return [m for (kind, mns, _), m in self.store.items()
                if kind == "Trigger" and mns == ns and m["spec"].get("broker") == broker]

    def ingest(self, event: events.Event, ns: str, broker: str, parent: int | None = None,
               depth: int = 0) -> int:
        event = event.with_attributes(knativearrivaltime="2026-01-01T00:00:00Z")
        taken = [t for t in self._triggers(ns, broker)
                 if filters.compile_filter(t["spec"]).matches(event.attributes)]
        seq = self.journal.submit(journal_ops.insert_event(
            event, namespace=ns, broker=broker, ttl=255 - depth, parent_seq=parent,
            triggers=[f"{ns}/{t['metadata']['name']}" for t in taken])).result()
        for t in taken:
            self._deliver(seq, event, t, ns, broker, depth)
        return int(seq)

    def _deliver(self, seq: int, event: events.Event, trigger: dict[str, Any], ns: str,
                 broker: str, depth: int) -> None:
        key = f"{ns}/{trigger['metadata']['name']}"
        ref = trigger["spec"]["subscriber"].get("ref") or {}
        done = journal_ops.finish_delivery(seq, key, state=journal.DELIVERED, attempts=1,
                                           code=200, error=None)
        if ref.get("kind") == "SeldonDeployment" and depth < 3:
            self.journal.submit(done).result()
            shape = answer_shape(event.json()) if event.data else None
            rows = shape[1] if shape else [[0]]
            reply = events.new_event(
                {"data": {"names": ["t:0"], "ndarray": [[float(sum(r)) for r in rows]]}},
                type=naming.response_type(ref["name"], ns),
                source=naming.response_source(ref["name"]), specversion="0.3")
            self.ingest(reply, ns, broker, parent=seq, depth=depth + 1)
        elif ref.get("kind") == "Service":
            self.journal.submit(journal_ops.chain(done, journal_ops.insert_response(
                event, sink=f"{ns}/{ref['name']}", event_seq=seq))).result()
        else:
            self.journal.submit(done).result()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self, code: int, text: str = "") -> None:
                self.send_response(code)
                self.send_header("Allow", "POST, OPTIONS")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(405, "only POST is allowed on a broker ingress\n")

            def do_POST(self) -> None:  # noqa: N802
                parts = self.path.strip("/").split("/")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    event = event_http.from_http(dict(self.headers.items()), body)
                except EventError as exc:
                    return self._answer(400, f"malformed CloudEvent: {exc}\n")
                if len(parts) != 2 or ("Broker", parts[0], parts[1]) not in fake.store:
                    return self._answer(404, f"broker {'/'.join(parts)} not found\n")
                fake.ingest(event, parts[0], parts[1])
                return self._answer(202)

        return Handler
