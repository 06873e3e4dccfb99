"""The kit's HTTP/1.1 client for many small POSTs (the broker's deliveries, bulk sends):
keep-alive connections on asyncio protocols, responses parsed by httptools (llhttp, the
parser Node.js uses).

Why not aiohttp's client: a delivery is one small POST and one small answer, and aiohttp's
request/response objects, timers and connector bookkeeping cost more CPU than the
exchange itself (`benchmarks/minimal_broker.py --layer` measures them side by side: 532 vs
278 µs per forwarded event). The local broker's dispatcher and `send_bulk` use it for
plain `http://` without a proxy; `https://` and proxies stay with aiohttp.
Failures are `HttpError`s with a message that says what happened at which address; a
POST on a reused connection that the server had already closed (before any byte of an
answer) is sent once more on a new connection, as Go's transport does for Knative.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

MAX_IDLE_PER_HOST = 512  # idle keep-alive connections kept per host:port


class HttpError(Exception):
    """No HTTP answer: could not connect, the connection broke, or the answer was not
    HTTP/1.x."""


class ConnectError(HttpError):
    pass


class Disconnected(HttpError):
    pass


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names as the server spelled them; repeated ones joined ", "
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value, whatever case the server spelled its name in."""
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    path: str  # path and query, as sent on the request line
    host_header: str


@lru_cache(maxsize=1024)
def target(url: str) -> _Target | None:
    """Where a plain-http URL points; None for anything this client does not speak."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    try:
        port = parts.port or 80
    except ValueError:
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.hostname, port, path, parts.netloc.rsplit("@", 1)[-1])


def request_bytes(where: _Target, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {where.path} HTTP/1.1", f"Host: {where.host_header}",
             f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise HttpError(f"header {name!r} holds a line break or colon: it cannot be sent "
                            "in HTTP/1.1")
        low = name.lower()
        if low not in ("host", "content-length", "transfer-encoding"):
            lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def header_text(value: bytes) -> str:
    """A header value as text: UTF-8, with bytes that are not UTF-8 kept as lone
    surrogates (as aiohttp does), so event validation can refuse them by name ("attribute
    'id' is not valid UTF-8") instead of taking them as Latin-1 letters."""
    return value.decode("utf-8", "surrogateescape")


@dataclass(eq=False)
class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    label: str
    transport: asyncio.Transport | None = None
    closed: bool = False
    _waiter: asyncio.Future[Answer] | None = None
    _headers: dict[str, str] = field(default_factory=dict)
    _body: list[bytes] = field(default_factory=list)
    _started: bool = False
    _headers_done: bool = False
    _framed: bool = False  # Content-Length or chunked: EOF is not the end of the body

    def __post_init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, data: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None and self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._started = {}, [], False
        self._headers_done = self._framed = False
        self.transport.write(data)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"{self.label} answered something that is not HTTP/1.1 "
                                 f"({exc})"))
            self.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and not self._framed:  # the body ran until the server closed
            self._complete()
            return
        why = f": {exc}" if exc else ""
        self._fail(Disconnected(f"{self.label} closed the connection "
                                f"{'mid-answer' if self._started else 'before answering'}{why}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._started = True

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1"), header_text(value)
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text
        if key.lower() in ("content-length", "transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete()

    def _complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        if not self._parser.should_keep_alive():
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(Answer(self._parser.get_status_code(), self._headers,
                                     b"".join(self._body)))

    def _fail(self, exc: HttpError) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    @property
    def began(self) -> bool:
        """Has the answer to the request in flight begun to arrive."""
        return self._started

    @property
    def idle(self) -> bool:
        return not self.closed and self._waiter is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Client:
    """POSTs over pooled keep-alive connections, one pool per host:port."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str],
                   timeout: float) -> Answer:
        """POST and read the whole answer; TimeoutError after `timeout` seconds."""
        where = target(url)
        if where is None:
            raise HttpError(f"{url!r} is not a plain http:// URL")
        data = request_bytes(where, headers, body)
        async with asyncio.timeout(timeout):
            for fresh in (False, True):
                conn, reused = await self._connection(where, fresh=fresh)
                try:
                    answer = await conn.send(data)
                except Disconnected:
                    if reused and not conn.began:
                        continue  # the server closed it while idle: once more, afresh
                    raise
                except BaseException:  # timed out or cancelled mid-exchange: unusable now
                    conn.close()
                    raise
                self._release(where, conn)
                return answer
        raise Disconnected(f"{where.host}:{where.port} closed two connections before answering")

    async def _connection(self, where: _Target, *, fresh: bool
                          ) -> tuple[_Connection, bool]:
        idle = None if fresh else self._idle.get((where.host, where.port))
        while idle:
            conn = idle.pop()
            if conn.idle:
                return conn, True
        label = f"{where.host}:{where.port}"
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: _Connection(label),
                                                   where.host, where.port)
        except OSError as exc:
            raise ConnectError(f"cannot connect to {label} "
                               f"({exc.strerror or exc})") from None
        return conn, False

    def _release(self, where: _Target, conn: _Connection) -> None:
        if not conn.idle:
            return
        idle = self._idle.setdefault((where.host, where.port), [])
        if len(idle) < MAX_IDLE_PER_HOST:
            idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
