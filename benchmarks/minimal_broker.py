"""The least any broker can cost: the baseline the kit's broker is measured against.

A process that answers 202 to each CloudEvent POSTed to it, forwards the body and its ce-
headers unparsed to one subscriber with `Prefer: reply`, and counts the CloudEvent replies
as a collector would. No journal, no filters, no retries, no trace: everything the kit's
broker does beyond this is what its extra CPU per event buys.

`--layer` picks the HTTP layer, so candidates are measured side by side on the same path:
  aiohttp    aiohttp's server and client (the kit's broker before the lean client)
  http1      aiohttp's server, the kit's lean client (seldon_jupyter's http1 module)
  httptools  a bare asyncio protocol with httptools' request parser, and the lean client
Usage: python minimal_broker.py SUBSCRIBER_URL [--layer L] (the bearer token in
$SELDON_JUPYTER_TOKEN); prints its port, serves GET /count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import cast

import aiohttp
import httptools
from aiohttp import web

from seldon_jupyter import http1

Forward = Callable[[dict[str, str], bytes], Awaitable[bool]]
LIMIT = 256  # deliveries in flight to the subscriber, on every layer


def forwarder(layer: str, subscriber: str) -> Forward:
    if layer == "aiohttp":
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LIMIT))

        async def via_aiohttp(headers: dict[str, str], body: bytes) -> bool:
            async with http.post(subscriber, data=body, headers=headers) as resp:
                await resp.read()
                return resp.status == 200 and "ce-id" in resp.headers
        return via_aiohttp
    client = http1.Client()
    limit = asyncio.Semaphore(LIMIT)  # as aiohttp's connector bounds the other layer

    async def via_http1(headers: dict[str, str], body: bytes) -> bool:
        async with limit:
            answer = await client.post(subscriber, body, headers, 60.0)
        return answer.status == 200 and any(k.lower() == "ce-id" for k in answer.headers)
    return via_http1


class _Raw(asyncio.Protocol):
    """HTTP/1.1 server side on httptools: 202 to every POST, the count on GET."""

    def __init__(self, on_post: Callable[[dict[str, str], bytes], None],
                 count: Callable[[], int]) -> None:
        self.on_post, self.count = on_post, count
        self.parser = httptools.HttpRequestParser(self)
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1")] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.parser.get_method() == b"GET":
            text = f'{{"replies": {self.count()}}}'.encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(text), text))
        else:
            self.on_post(self.headers, b"".join(self.body))
            self.transport.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        self.headers, self.body = {}, []


async def main(subscriber: str, layer: str) -> None:
    token = os.environ.get("SELDON_JUPYTER_TOKEN", "")
    replies = 0
    tasks: set[asyncio.Task[None]] = set()
    forward_one = forwarder(layer, subscriber)

    async def forward(headers: dict[str, str], body: bytes) -> None:
        nonlocal replies
        try:
            replied = await forward_one(headers, body)
            replies += replied  # not `replies += await ...`: that reads replies before
        except Exception as exc:  # noqa: BLE001 - a benchmark tells, and goes on
            print(f"forward failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def accept(request_headers: dict[str, str], body: bytes) -> None:
        headers = {k: v for k, v in request_headers.items()
                   if k.lower().startswith("ce-") or k.lower() == "content-type"}
        headers.update({"Prefer": "reply", "Authorization": f"Bearer {token}"})
        task = asyncio.create_task(forward(headers, body))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if layer == "httptools":
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: _Raw(accept, lambda: replies), sock=sock)
    else:
        async def ingress(request: web.Request) -> web.Response:
            accept(dict(request.headers), await request.read())
            return web.Response(status=202)

        async def count(_request: web.Request) -> web.Response:
            return web.json_response({"replies": replies})

        app = web.Application()
        app.router.add_get("/count", count)
        app.router.add_post("/{path:.*}", ingress)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("subscriber")
    parser.add_argument("--layer", choices=("aiohttp", "http1", "httptools"), default="aiohttp")
    args = parser.parse_args()
    uvloop.run(main(args.subscriber, args.layer))
