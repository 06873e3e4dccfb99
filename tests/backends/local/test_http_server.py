"""The broker's HTTP/1.1 server on loopback, driven by real clients (requests, http.client)
and by raw sockets that send what real clients and broken ones send: pipelined requests,
HTTP/1.0, chunked bodies, `Expect: 100-continue`, oversized bodies and headers, garbage."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from seldon_jupyter.backends.local import http_server
from seldon_jupyter.backends.local.http_server import Reply, Request, Server, text

LIMIT = 1000


class Running:
    """A Server on its own event loop thread, answering with `handle`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.seen: list[Request] = []
        self.release = asyncio.Event()
        self.server = Server(self.handle, max_body=LIMIT)
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.port = self.loop.run_until_complete(self.server.start("127.0.0.1", 0))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    async def handle(self, request: Request) -> Reply:
        self.seen.append(request)
        if request.path == "/crash":
            raise RuntimeError("boom")
        if request.path.startswith("/slow/"):
            await asyncio.sleep(float(request.path.rsplit("/", 1)[1]))
        return text(200, f"{request.method} {request.path} {len(request.body)} "
                    f"{request.headers.get('X-Tag', '-')}\n", **{"X-Seen": str(len(self.seen))})

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def served() -> Iterator[Running]:
    running = Running()
    yield running
    running.stop()


def raw(port: int, data: bytes, *, wait_close: bool = True) -> bytes:
    """Send bytes, read until the server closes (or 2 s of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(data)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except TimeoutError:
            assert not wait_close, f"the server kept the connection open: {got!r}"
        return got


def test_keep_alive_and_pipelined_requests_are_answered_in_order(served: Running) -> None:
    with requests.Session() as http:
        for i in range(3):
            resp = http.post(f"http://127.0.0.1:{served.port}/a/b?x=1", data=b"x" * i,
                             headers={"x-tag": str(i)}, timeout=5)
            assert resp.status_code == 200 and resp.text == f"POST /a/b {i} {i}\n"
            assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert "Date" in resp.headers
        assert len(served.server.connections) == 1  # all three on one connection
    assert served.seen[0].query == "x=1"
    # three pipelined in one write, the first slow: the answers still come in order
    pipelined = b"".join(b"POST /slow/%s HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n" % d
                         for d in (b"0.3", b"0", b"0.1"))
    got = raw(served.port, pipelined + b"GET /last HTTP/1.1\r\nHost: h\r\n"
              b"Connection: close\r\n\r\n")
    order = [line.split()[1] for line in got.split(b"\r\n") if line.startswith(b"POST ")
             or line.startswith(b"GET ")]
    assert order == [b"/slow/0.3", b"/slow/0", b"/slow/0.1", b"/last"]
    assert got.count(b"HTTP/1.1 200 OK") == 4 and b"Connection: close" in got


def test_http10_chunked_expect_continue_and_head(served: Running) -> None:
    got = raw(served.port, b"POST /ten HTTP/1.0\r\nContent-Length: 2\r\n\r\nab")
    assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"POST /ten 2 -\n")
    chunked = raw(served.port, b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  b"Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert chunked.endswith(b"POST /c 5 -\n")
    with socket.create_connection(("127.0.0.1", served.port), timeout=2) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # before any body byte
        sock.sendall(b"xyz")
        assert sock.recv(1000).endswith(b"POST /e 3 -\n")
    head = raw(served.port, b"HEAD /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert b"Content-Length: 12" in head and head.endswith(b"\r\n\r\n")  # no body


def test_limits_and_garbage_are_answered_then_closed(served: Running) -> None:
    seen = len(served.seen)
    big = raw(served.port, b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n"
              % (LIMIT + 1))  # refused before the body is sent
    assert big.startswith(b"HTTP/1.1 413 ") and b"limit is 1000" in big
    expected = raw(served.port, b"POST /b HTTP/1.1\r\nExpect: 100-continue\r\nHost: h\r\n"
                   b"Content-Length: %d\r\n\r\n" % (LIMIT + 1))
    assert expected.startswith(b"HTTP/1.1 413 ")  # no 100 Continue for a body refused
    chunks = b"".join(b"64\r\n" + b"y" * 100 + b"\r\n" for _ in range(11))
    streamed = raw(served.port, b"POST /b HTTP/1.1\r\nHost: h\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    assert streamed.startswith(b"HTTP/1.1 413 ")
    headers = raw(served.port, b"GET / HTTP/1.1\r\nHost: h\r\n"
                  + b"X-Big: " + b"z" * (http_server.MAX_HEADER_BYTES + 1) + b"\r\n\r\n")
    assert headers.startswith(b"HTTP/1.1 431 ")
    garbage = raw(served.port, b"\x16\x03\x01 not http\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ") and b"malformed HTTP request" in garbage
    assert len(served.seen) == seen  # none of them reached the handler


def test_a_crashing_handler_is_a_500_on_a_connection_that_stays_usable(served: Running
                                                                      ) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        conn.request("POST", "/crash", body=b"x")
        crashed = conn.getresponse()
        assert crashed.status == 500 and b"its log says why" in crashed.read()
        conn.request("POST", "/after", body=b"", headers={"X-TAG": "a", "x-tag": "b"})
        after = conn.getresponse()
        assert after.status == 200 and after.read() == b"POST /after 0 a\n"  # first wins
    finally:
        conn.close()


def test_headers_are_case_insensitive_and_bytes_that_are_not_utf8_stay_visible() -> None:
    headers = http_server.Headers([("Ce-Id", "1"), ("ce-id", "2"), ("X-Raw", "\udcff")])
    assert headers["CE-ID"] == "1" and "ce-ID" in headers and len(headers) == 2
    assert dict(headers) == {"Ce-Id": "1", "X-Raw": "\udcff"}


def test_idle_connections_are_closed_and_close_waits_for_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_server, "KEEPALIVE", 0.5)
    served = Running()
    try:
        with socket.create_connection(("127.0.0.1", served.port), timeout=3) as idle:
            idle.sendall(b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
            assert idle.recv(1000).startswith(b"HTTP/1.1 200")
            assert idle.recv(1000) == b""  # closed by the server after ~0.5-0.6 s idle
        slow = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        slow.sendall(b"GET /slow/0.5 HTTP/1.1\r\nHost: h\r\n\r\n")
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.1), served.loop).result(5)
    finally:
        served.stop()  # with the slow answer in progress: it is written before closing
    try:
        assert slow.recv(1000).startswith(b"HTTP/1.1 200")
    finally:
        slow.close()
