"""The local supervisor daemon: the control API every client talks to.

Started on demand (or by `seldon-jupyter local up`) as a detached process; it owns the
broker and predictor processes through `Cluster` and serves a small token-protected
JSON API on 127.0.0.1: apply, list, delete, info, shutdown. It writes the state file
once it listens and removes it when it exits. It runs only while it holds the home's
supervisor lock (`owners`): a second one started beside it exits at once.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from seldon_jupyter.backends.local import owners
from seldon_jupyter.backends.local.cluster import Cluster
from seldon_jupyter.backends.local.processes import FAILED, RUNNING
from seldon_jupyter.backends.local.serve import has_token, serve
from seldon_jupyter.backends.local.serve import run as run_loop
from seldon_jupyter.backends.local.state import (
    State,
    clear_state,
    home_dir,
    new_token,
    read_state,
    write_state,
)
from seldon_jupyter.errors import ManifestError, NotFoundError, SeldonJupyterError


def _error(status: int, exc: SeldonJupyterError) -> web.Response:
    return web.json_response({"error": exc.message, "hint": exc.hint,
                              "field": getattr(exc, "field", None),
                              "type": type(exc).__name__}, status=status)


class ControlApi:
    def __init__(self, cluster: Cluster, token: str) -> None:
        self.cluster = cluster
        self.token = token
        self.stopping = asyncio.Event()

    @web.middleware
    async def auth(self, request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
        if request.path != "/healthz":
            if not has_token(request, self.token):
                return web.json_response(
                    {"error": "missing or wrong token",
                     "hint": "read the token from the state file in SELDON_JUPYTER_HOME"},
                    status=401)
        try:
            return await handler(request)
        except ManifestError as exc:
            return _error(422, exc)
        except NotFoundError as exc:
            return _error(404, exc)
        except OSError as exc:  # the home cannot be written: nothing was changed
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            return web.json_response(
                {"error": f"the local cluster could not store the change: {exc.strerror} "
                          f"({exc.filename}); nothing was applied",
                 "hint": "free disk space where SELDON_JUPYTER_HOME is (or run `seldon-jupyter "
                         "journal prune`), then apply again" if full else None,
                 "type": "BackendError"}, status=507 if full else 500)

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def apply(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            manifests = body["manifests"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "body must be {\"manifests\": [...]}"}, status=400)
        if not isinstance(manifests, list):
            return web.json_response({"error": "manifests must be a list"}, status=400)
        return web.json_response({"resources": await self.cluster.apply(manifests)})

    async def list(self, _request: web.Request) -> web.Response:
        await self.cluster.flush()
        return web.json_response({"resources": self.cluster.list()})

    async def get(self, request: web.Request) -> web.Response:
        await self.cluster.flush()
        m = request.match_info
        return web.json_response(self.cluster.describe((m["kind"], m["namespace"], m["name"])))

    async def delete(self, request: web.Request) -> web.Response:
        m = request.match_info
        await self.cluster.delete(m["kind"], m["namespace"], m["name"])
        return web.json_response({"deleted": [m["kind"], m["namespace"], m["name"]]})

    async def info(self, _request: web.Request) -> web.Response:
        return web.json_response(self.cluster.info())

    async def shutdown(self, _request: web.Request) -> web.Response:
        asyncio.get_running_loop().call_later(0.1, self.stopping.set)
        return web.json_response({"stopping": True})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.auth], client_max_size=16 * 1024 * 1024)
        app.router.add_get("/healthz", self.health)
        app.router.add_post("/v1/apply", self.apply)
        app.router.add_get("/v1/resources", self.list)
        app.router.add_get("/v1/resources/{kind}/{namespace}/{name}", self.get)
        app.router.add_delete("/v1/resources/{kind}/{namespace}/{name}", self.delete)
        app.router.add_get("/v1/info", self.info)
        app.router.add_post("/v1/shutdown", self.shutdown)
        return app


async def run(home: Path, port: int = 0) -> None:
    lock = owners.take(home)
    if lock is None:
        # the lock, not a health check, decides who runs this home's cluster
        sys.stderr.write(f"another supervisor (pid {owners.holder(home)}) already runs the "
                         f"local cluster in {home}; not starting a second one\n")
        raise SystemExit(owners.ALREADY_RUNNING)
    try:
        owners.reap_orphans(home)  # what a crashed supervisor of this home left running
        await _run_locked(home, port)
    finally:
        lock.close()


async def _run_locked(home: Path, port: int) -> None:
    previous = read_state(home)
    token = new_token()
    cluster = Cluster(home, token)
    await cluster.start(broker_port=previous.broker_port if previous else 0)
    api = ControlApi(cluster, token)

    async def started(bound: int) -> None:
        assert cluster.broker is not None
        for _ in range(600):  # clients find the broker once it listens (<= 60 s); on a
            if cluster.broker.state in (RUNNING, FAILED):  # restart its port is known early
                break
            await asyncio.sleep(0.1)
        write_state(home, State(pid=os.getpid(), control_port=bound,
                                broker_port=cluster.broker.port, token=token))

    serving = asyncio.create_task(serve(api.app(), port=port, on_started=started,
                                        watch_parent=False))
    stop = asyncio.create_task(api.stopping.wait())
    await asyncio.wait({serving, stop}, return_when=asyncio.FIRST_COMPLETED)
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    await cluster.stop()
    clear_state(home, os.getpid())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seldon-jupyter local supervisor")
    parser.add_argument("--home", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    os.umask(0o077)  # the journal, logs and model files it writes are the user's alone
    run_loop(run(home_dir(args.home), args.port))


if __name__ == "__main__":
    main()
