"""A small HTTP/1.1 server on httptools (llhttp) for the local broker's port.

Why not aiohttp's server: the broker answers one small POST per event, and aiohttp's
request, response and stream objects cost more CPU than the broker's own work on the event
(`benchmarks/minimal_broker.py --layer`: 175 vs 93 µs per forwarded event with the same
client). This server does what the broker needs and what Go's net/http does for Knative's
ingress: keep-alive and pipelined requests answered in order, HTTP/1.0, chunked request
bodies, `Expect: 100-continue`, 413 above the body limit (checked against Content-Length
before a byte of the body is read), 431 for oversized headers, 400 and a closed connection
for bytes that are not HTTP/1.1, HEAD answered without a body, idle keep-alive
connections closed after KEEPALIVE seconds, and a handler that crashes answered 500 and
logged, never a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, ItemsView, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

import httptools

from seldon_jupyter.http1 import header_text

log = logging.getLogger(__name__)
MAX_HEADER_BYTES = 1 << 20  # Go's http.DefaultMaxHeaderBytes: request line and headers
KEEPALIVE = 75.0  # seconds an idle keep-alive connection stays open
PIPELINED = 32  # requests read ahead on one connection before reading pauses


class Headers(Mapping[str, str]):
    """Request headers, looked up whatever the case; a repeated header gives its first
    value, as Go's `Header.Get` does. Iterating (the ingress reads every header three
    times per event) goes straight to a dict, not through Mapping's generic views."""

    __slots__ = ("_first", "_low")

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        self._first: dict[str, str] = {}  # name as sent -> value
        self._low: dict[str, str] = {}  # lower-case name -> value
        for name, value in raw:
            low = name.lower()
            if low not in self._low:
                self._low[low] = self._first[name] = value

    def __getitem__(self, name: str) -> str:
        return self._low[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._low.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._low

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def items(self) -> ItemsView[str, str]:
        return self._first.items()


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: str
    headers: Headers
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def text(status: int, message: str = "", **headers: str) -> Reply:
    """A plain-text answer (Go's http.Error writes the same Content-Type)."""
    if message:
        headers = {"Content-Type": "text/plain; charset=utf-8", **headers}
    return Reply(status, message.encode(), headers)


Handler = Callable[[Request], Awaitable[Reply]]


class _Refused(Exception):
    """Raised inside a parser callback: the request is answered with `reply` and the
    connection closed."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply


@dataclass(frozen=True)
class _Final:
    reply: Reply  # answered, then the connection is closed


_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
_date = ("", 0.0)


def _date_header() -> str:
    global _date
    now = time.time()
    if now - _date[1] >= 1.0:
        _date = (formatdate(now, usegmt=True), int(now))
    return _date[0]


def encode(reply: Reply, *, head: bool = False, close: bool = False,
           keep_alive_10: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Unknown')}",
             f"Date: {_date_header()}", f"Content-Length: {len(reply.body)}"]
    lines += [f"{name}: {value}" for name, value in reply.headers.items()]
    if close:
        lines.append("Connection: close")
    elif keep_alive_10:
        lines.append("Connection: keep-alive")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return data if head or not reply.body else data + reply.body


class _Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.pending: deque[tuple[Request, bool, bool] | _Final] = deque()
        self.busy = self.closed = self.paused = False
        self.last_active = time.monotonic()
        self._begin()

    def _begin(self) -> None:
        self._url = b""
        self._raw: list[tuple[str, str]] = []
        self._headers = Headers([])
        self._body: list[bytes] = []
        self._size = self._header_bytes = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is no subclass
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(text(400, "protocol upgrades are not supported here\n"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            self._refuse(cause.reply if isinstance(cause, _Refused)
                         else text(400, f"malformed HTTP request: {exc}\n"))

    def _refuse(self, reply: Reply) -> None:
        if self.transport is not None:
            self.transport.pause_reading()
        self.pending.append(_Final(reply))
        if not self.busy:
            self._next()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._begin()

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_bytes += len(url)
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _Refused(text(431, "the request line and headers are too large\n"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _Refused(text(431, "the request line and headers are too large\n"))
        self._raw.append((name.decode("latin-1"), header_text(value)))

    def on_headers_complete(self) -> None:
        limit = self.server.max_body
        self._headers = Headers(self._raw)  # built once: the limits and the handler read it
        length = self._headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:  # refused before any 100 Continue
            raise _Refused(text(413, f"the body is {length} bytes; the limit is {limit}\n"))
        if self._headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self.server.max_body:
            raise _Refused(text(413, f"the body is over the limit of {self.server.max_body} "
                                "bytes\n"))
        self._body.append(body)

    def on_message_complete(self) -> None:
        parsed = httptools.parse_url(self._url)
        request = Request(self.parser.get_method().decode("latin-1"),
                          unquote((parsed.path or b"/").decode("latin-1")),
                          (parsed.query or b"").decode("latin-1"), self._headers,
                          b"".join(self._body))
        keep = self.parser.should_keep_alive()
        self.pending.append((request, keep, keep and self.parser.get_http_version() == "1.0"))
        if len(self.pending) >= PIPELINED and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        if not self.busy:
            self._next()

    # answering, in order
    def _next(self) -> None:
        if self.closed or not self.pending:
            self.busy = False
            if self.paused and self.transport is not None and not self.closed:
                self.paused = False
                self.transport.resume_reading()
            return
        self.busy = True
        item = self.pending.popleft()
        if isinstance(item, _Final):
            self._write(encode(item.reply, close=True))
            self.close()
            return
        task = asyncio.get_running_loop().create_task(self._answer(*item))
        self.server.tasks.add(task)
        task.add_done_callback(self.server.tasks.discard)

    async def _answer(self, request: Request, keep: bool, keep_10: bool) -> None:
        try:
            reply = await self.server.handler(request)
        except Exception:  # noqa: BLE001 - answered and logged, never a dropped connection
            log.exception("%s %s crashed", request.method, request.path)
            reply = text(500, "the broker failed on this request; its log says why\n")
        self._write(encode(reply, head=request.method == "HEAD", close=not keep,
                           keep_alive_10=keep_10))
        self.last_active = time.monotonic()
        if not keep:
            self.close()
            return
        self._next()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Server:
    """Serves `handler` on host:port until `close`."""

    def __init__(self, handler: Handler, *, max_body: int) -> None:
        self.handler = handler
        self.max_body = max_body
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port,
                                                reuse_address=True)
        self._sweeper = loop.create_task(self._sweep())
        return int(self._server.sockets[0].getsockname()[1])

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE / 5)
            idle_since = time.monotonic() - KEEPALIVE
            for conn in list(self.connections):
                if not conn.busy and not conn.pending and conn.last_active < idle_since:
                    conn.close()

    async def close(self, grace: float = 2.0) -> None:
        """Stop listening, let answers in progress finish (at most `grace` s), close all."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if not conn.busy:
                conn.close()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
