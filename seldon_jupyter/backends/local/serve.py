"""Running one local server process (broker, predictor, supervisor) on loopback.

Each process binds 127.0.0.1 (a port given, or a free one), then prints one JSON line
`{"port": N}` on stdout so whoever started it learns the address, and exits when its
parent goes away so no orphan keeps a port after the supervisor dies.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from aiohttp import web

from seldon_jupyter.errors import BackendError

PARENT_POLL = 0.5
TOKEN_ENV = "SELDON_JUPYTER_TOKEN"  # noqa: S105 - the name of a variable, not a secret
# unix time at which the local broker's attempt gives up (sent only to the cluster's own
# model servers, which then do not start work nobody will wait for)
DEADLINE_HEADER = "X-Seldon-Jupyter-Deadline"


def token_matches(authorization: str, token: str) -> bool:
    """Whether an Authorization header value carries the cluster's bearer token (compared
    in constant time): the one rule for every local server."""
    given = authorization.removeprefix("Bearer ")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


class _WithHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


def has_token(request: _WithHeaders, token: str) -> bool:
    """Whether the request (aiohttp's or the broker's own server's) carries the cluster's
    bearer token."""
    return token_matches(request.headers.get("Authorization", ""), token)


def token_required(token: str) -> Any:
    """aiohttp middleware: every request but a GET needs the token (401 otherwise), so no
    other local user can write results or drive a model; GETs (health, metadata) stay open."""
    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        if token and request.method not in ("GET", "HEAD") and not has_token(request, token):
            return web.Response(status=401, text="missing or wrong token: this endpoint "
                                "belongs to the local cluster's owner\n")
        answer: web.StreamResponse = await handler(request)
        return answer
    return check


def check_loopback(host: str, *, allow_remote: bool = False) -> str:
    """Refuse anything but a loopback address unless the caller explicitly allows it."""
    if allow_remote:
        return host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BackendError(f"refusing to bind {host!r}: local servers listen on loopback only",
                           hint="use 127.0.0.1, or pass allow_remote=True if you really mean it")
    return host


def run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run with uvloop when it is installed (about twice the HTTP throughput)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def announce(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
            return
        await asyncio.sleep(PARENT_POLL)


async def serve(app: web.Application, *, host: str = "127.0.0.1", port: int = 0,
                on_started: Callable[[int], Awaitable[None]] | None = None,
                watch_parent: bool = True, allow_remote: bool = False) -> None:
    """Serve an aiohttp app until SIGTERM/SIGINT or the parent process exits."""
    check_loopback(host, allow_remote=allow_remote)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    try:
        await serve_until_stopped(site._server.sockets[0].getsockname()[1],  # type: ignore[union-attr]
                                  on_started=on_started, watch_parent=watch_parent)
    finally:
        await runner.cleanup()


async def serve_until_stopped(bound: int, *,
                              on_started: Callable[[int], Awaitable[None]] | None = None,
                              watch_parent: bool = True) -> None:
    """Announce `bound`, then wait for SIGTERM/SIGINT or the parent process to exit: the
    one life cycle of every local server, whatever HTTP layer it runs on."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = (asyncio.create_task(_watch_parent(os.getppid(), stop)) if watch_parent
               else None)
    if on_started is not None:
        await on_started(bound)
    announce(port=bound, pid=os.getpid())
    try:
        await stop.wait()
    finally:
        if watcher:
            watcher.cancel()
