"""The broker's lean HTTP/1.1 client against real servers on loopback: aiohttp's, and raw
sockets that answer the ways real servers do (close while idle, body until EOF, chunked,
garbage, silence)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from seldon_jupyter import http1

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _raw(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/p?q=1"


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return head, await reader.readexactly(length)


def test_posts_over_one_kept_alive_connection_to_aiohttp() -> None:
    async def main() -> None:
        peers: set[object] = set()

        async def echo(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername") if request.transport
                      else None)
            body = await request.read()
            return web.Response(status=200, body=body[::-1],
                                headers={"Ce-Id": request.headers["Ce-Id"],
                                         "X-Path": request.path_qs})
        app = web.Application()
        app.router.add_post("/{p:.*}", echo)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        client = http1.Client()
        try:
            for i in range(5):
                answer = await client.post(f"http://127.0.0.1:{port}/a/b?x=1", b"abc%d" % i,
                                           {"Ce-Id": str(i)}, 5)
                assert answer.status == 200 and answer.body == b"%dcba" % i
                assert answer.headers["Ce-Id"] == str(i)
                assert answer.headers["X-Path"] == "/a/b?x=1"
            assert len(peers) == 1  # every request on the same connection
            many = await asyncio.gather(*(client.post(
                f"http://127.0.0.1:{port}/", b"%d" % i, {"Ce-Id": "m"}, 5) for i in range(50)))
            assert sorted(int(a.body[::-1]) for a in many) == list(range(50))
        finally:
            client.close()
            await runner.cleanup()
    asyncio.run(main())


def test_a_connection_the_server_closed_while_idle_is_replaced_once() -> None:
    async def main() -> None:
        served = 0

        async def once_then_close(reader: asyncio.StreamReader,
                                  writer: asyncio.StreamWriter) -> None:
            nonlocal served
            await _read_request(reader)
            served += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()  # an idle keep-alive connection closed by the server
        server, url = await _raw(once_then_close)
        client = http1.Client()
        try:
            assert (await client.post(url, b"1", {}, 5)).body == b"ok"
            await asyncio.sleep(0.2)
            assert (await client.post(url, b"2", {}, 5)).body == b"ok"
            assert served == 2
        finally:
            client.close()
            server.close()
    asyncio.run(main())


def test_body_until_eof_chunked_answers_and_repeated_headers() -> None:
    async def main() -> None:
        answers = iter([
            b"HTTP/1.0 200 OK\r\nCe-Id: a\r\n\r\nuntil-eof",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ])

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _read_request(reader)
            writer.write(next(answers))
            await writer.drain()
            writer.close()
        server, url = await _raw(serve)
        client = http1.Client()
        try:
            eof = await client.post(url, b"x", {}, 5)
            assert (eof.status, eof.body, eof.headers["Ce-Id"]) == (200, b"until-eof", "a")
            chunked = await client.post(url, b"x", {}, 5)
            assert chunked.body == b"abcde" and chunked.headers["X-A"] == "1, 2"
        finally:
            client.close()
            server.close()
    asyncio.run(main())


def test_failures_say_what_happened_where() -> None:
    async def main() -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _read_request(reader)
            writer.write(b"SMTP ready\r\n\r\n")
            await writer.drain()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _read_request(reader)
            await asyncio.sleep(5)

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
            await writer.drain()
            writer.close()
        client = http1.Client()
        closed = socketless_port()
        with pytest.raises(http1.ConnectError, match=f"cannot connect to 127.0.0.1:{closed}"):
            await client.post(f"http://127.0.0.1:{closed}/", b"", {}, 5)
        server, url = await _raw(garbage)
        with pytest.raises(http1.HttpError, match="not HTTP/1.1"):
            await client.post(url, b"", {}, 5)
        server.close()
        server, url = await _raw(silent)
        with pytest.raises(TimeoutError):
            await client.post(url, b"", {}, 0.2)
        server.close()
        server, url = await _raw(hang_up)
        with pytest.raises(http1.Disconnected, match="mid-answer"):
            await client.post(url, b"", {}, 5)
        server.close()
        with pytest.raises(http1.HttpError, match="line break"):
            await client.post(url, b"", {"Ce-Id": "a\r\nInjected: 1"}, 5)
        with pytest.raises(http1.HttpError, match="not a plain http"):
            await client.post("https://127.0.0.1/", b"", {}, 5)
        client.close()
    asyncio.run(main())


def socketless_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
