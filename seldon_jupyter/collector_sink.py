"""The kit's cluster-side collector: a stdlib-only CloudEvents sink that a notebook reads back.

This file is shipped into a ConfigMap and run by a stock `python` image, so it imports
nothing outside the standard library and nothing from this package. Every event a Trigger
delivers is appended (headers and body, with the arrival time) to a JSON-lines file before
it is acknowledged with 202, and `GET /events?after=SEQ&limit=N` hands the events after a
sequence number back, so the kit pulls each one into its SQLite journal exactly once.
Settings come from the environment: SINK_BIND (default 127.0.0.1; the pod sets 0.0.0.0),
SINK_PORT (8080), SINK_FILE (no file: memory only), SINK_MAX_BODY (bytes, default 4 MiB).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MAX_LIMIT = 5000


class Store:
    """Events in arrival order, each with a sequence number starting at 1."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        self.events.append(json.loads(line))
                    except ValueError:
                        break  # a torn last line from a crash: it was never acknowledged
        self.handle = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self.instance = self._instance(path)

    @staticmethod
    def _instance(path: str | None) -> str:
        """Names this run's sequence: a reader's position is only good for the same one."""
        if not path:
            return uuid.uuid4().hex
        marker = path + ".id"
        if not os.path.exists(marker):
            with open(marker, "w", encoding="utf-8") as handle:
                handle.write(uuid.uuid4().hex)
        with open(marker, encoding="utf-8") as handle:
            return handle.read().strip()

    def add(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            seq = len(self.events) + 1
            record = {"seq": seq, "time": time.time(), "headers": headers,
                      "body": base64.b64encode(body).decode("ascii")}
            if self.handle is not None:
                self.handle.write(json.dumps(record) + "\n")
                self.handle.flush()
                os.fsync(self.handle.fileno())
            self.events.append(record)
            return seq

    def after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            return self.events[max(seq, 0):max(seq, 0) + limit]


class Handler(BaseHTTPRequestHandler):
    server_version = "seldon-jupyter-sink/1"
    store: Store
    max_body: int

    def _reply(self, code: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's naming
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body:
            self._reply(413 if length > 0 else 400,
                        {"error": f"body must be 0..{self.max_body} bytes with Content-Length"})
            return
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()
                   if k.lower().startswith("ce-") or k.lower() == "content-type"}
        structured = headers.get("content-type", "").startswith("application/cloudevents")
        if not structured and not {"ce-id", "ce-type", "ce-source", "ce-specversion"} <= set(
                headers):
            self._reply(400, {"error": "not a CloudEvent: binary mode needs ce-id, ce-type, "
                                       "ce-source and ce-specversion headers"})
            return
        self.store.add(headers, body)
        # a sink answers 2xx with an EMPTY body: Knative's broker-filter turns any other
        # body that is not a CloudEvent into a 502 and retries it (filter_handler.go)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        if url.path.rstrip("/") in ("/healthz", ""):
            self._reply(200, {"events": len(self.store.events)})
            return
        if url.path.rstrip("/") != "/events":
            self._reply(404, {"error": "GET /events?after=SEQ&limit=N or /healthz"})
            return
        query = parse_qs(url.query)
        try:
            after = int(query.get("after", ["0"])[0])
            limit = min(int(query.get("limit", ["1000"])[0]), MAX_LIMIT)
        except ValueError:
            self._reply(400, {"error": "after and limit must be integers"})
            return
        found = self.store.after(after, limit)
        self._reply(200, {"instance": self.store.instance, "events": found,
                          "last": len(self.store.events)})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def main() -> None:
    Handler.store = Store(os.environ.get("SINK_FILE") or None)
    Handler.max_body = int(os.environ.get("SINK_MAX_BODY", str(4 << 20)))
    server = ThreadingHTTPServer((os.environ.get("SINK_BIND", "127.0.0.1"),
                                  int(os.environ.get("SINK_PORT", "8080"))), Handler)
    host, port = server.server_address[:2]
    print(f"listening on {host!s}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
