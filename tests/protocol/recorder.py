"""A subscriber that records what the broker sends it, and answers what a test scripts.

It runs on 127.0.0.1 in a thread (stdlib http.server), so tests see the raw requests the
local broker makes: method, path, every header, the body and when it arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


class Recorder:
    """`answer(n)` gives the reply to the n-th request (0-based); default: 202, empty."""

    def __init__(self, answer: Callable[[int], Answer] | None = None) -> None:
        self.answer = answer or (lambda _n: Answer())
        self.received: list[Received] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with recorder.lock:
                    number = len(recorder.received)
                    recorder.received.append(Received(self.path, {k.lower(): v for k, v in
                                                                  self.headers.items()},
                                                      body, time.monotonic()))
                reply = recorder.answer(number)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def wait(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} request(s), got {len(self.received)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
