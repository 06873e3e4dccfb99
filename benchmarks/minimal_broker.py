"""The least any broker can cost: the baseline the kit's broker is measured against.

An aiohttp process that answers 202 to each CloudEvent POSTed to it, forwards the body
and its ce- headers unparsed to one subscriber with `Prefer: reply`, and counts the
CloudEvent replies as a collector would. No journal, no filters, no retries, no trace:
everything the kit's broker does beyond this is what its extra CPU per event buys.
Usage: python minimal_broker.py SUBSCRIBER_URL (the bearer token in $SELDON_JUPYTER_TOKEN);
prints its port, serves GET /count.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import aiohttp
from aiohttp import web


async def main(subscriber: str) -> None:
    token = os.environ.get("SELDON_JUPYTER_TOKEN", "")
    replies = 0
    tasks: set[asyncio.Task[None]] = set()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

    async def forward(headers: dict[str, str], body: bytes) -> None:
        nonlocal replies
        async with http.post(subscriber, data=body, headers=headers) as resp:
            await resp.read()
            if resp.status == 200 and "ce-id" in resp.headers:
                replies += 1

    async def ingress(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower().startswith("ce-") or k.lower() == "content-type"}
        headers.update({"Prefer": "reply", "Authorization": f"Bearer {token}"})
        task = asyncio.create_task(forward(headers, body))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(status=202)

    async def count(_request: web.Request) -> web.Response:
        return web.json_response({"replies": replies})

    app = web.Application()
    app.router.add_get("/count", count)
    app.router.add_post("/{path:.*}", ingress)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(sys.argv[1]))
