"""The Jupyter server extension's REST and server-sent-events API for the lab sidebar.

Every handler sits behind Jupyter's own authentication (`@authenticated` on the server's
APIHandler). They call one `Session` per server, built from the `SeldonJupyter` config
section; the local backend is read but never started from here (the notebook starts it).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.iostream import StreamClosedError

from seldon_jupyter.server.state import SeldonJupyter

STREAM_SECONDS = 3600  # a stream ends after an hour; EventSource reconnects by itself
KEEP_ALIVE = 10.0  # seconds of silence before a comment line keeps proxies from closing it
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class _Base(APIHandler):
    @property
    def state(self) -> SeldonJupyter:
        state: SeldonJupyter = self.settings["seldon_jupyter"]
        return state

    def _int(self, name: str, default: int) -> int:
        raw = self.get_query_argument(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(400, reason=f"{name} must be an integer, got {raw[:40]!r}"
                                ) from None
        if not 0 <= value < 2**63:  # what SQLite's INTEGER holds (a cursor is never negative)
            raise web.HTTPError(400, reason=f"{name} must be between 0 and 2**63-1, got "
                                f"{raw[:40]}")
        return value

    def where(self) -> tuple[str, str]:
        """(backend, namespace) from the query (the sidebar's settings), checked."""
        backend = self.get_query_argument("backend", "")
        namespace = self.get_query_argument("namespace", "")
        if backend not in ("", "local", "kubernetes"):
            raise web.HTTPError(400, reason=f"backend must be local or kubernetes, got "
                                f"{backend[:40]!r}")
        if namespace and not NAMESPACE.fullmatch(namespace):
            raise web.HTTPError(400, reason=f"namespace {namespace[:70]!r} is not a DNS label "
                                "(lower case letters, digits and '-', at most 63)")
        return backend, namespace


class TopologyHandler(_Base):
    @web.authenticated
    async def get(self) -> None:
        self.finish(json.dumps(await asyncio.to_thread(self.state.topology, *self.where())))


class EventsHandler(_Base):
    @web.authenticated
    async def get(self) -> None:
        limit = min(max(self._int("limit", 200), 1), 5000)
        self.finish(json.dumps(await asyncio.to_thread(
            self.state.events, self._int("after_event", 0), self._int("after_response", 0),
            limit, *self.where())))


class TraceHandler(_Base):
    """GET ?id=<event id>: the event's trace (the sidebar's inspector)."""

    @web.authenticated
    async def get(self) -> None:
        event_id = self.get_query_argument("id", "").strip()
        if not event_id or len(event_id) > 512:
            raise web.HTTPError(400, reason="give ?id=<event id> (at most 512 characters)")
        self.finish(json.dumps(await asyncio.to_thread(self.state.trace, event_id,
                                                       *self.where()), default=str))


class ReplayHandler(_Base):
    """POST {"id": ...}: re-send one journaled event with a new id."""

    @web.authenticated
    async def post(self) -> None:
        try:
            event_id = str(json.loads(self.request.body or b"{}")["id"])
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, reason='the body must be {"id": "<event id>"}') from None
        self.finish(json.dumps(await asyncio.to_thread(self.state.replay, event_id,
                                                       *self.where())))


class BackendHandler(_Base):
    """POST {"action": "start" | "stop"}: start or stop the local backend (the palette's
    commands); the answer is `describe()` after starting, or whether something stopped."""

    @web.authenticated
    async def post(self) -> None:
        try:
            action = str(json.loads(self.request.body or b"{}")["action"])
        except (ValueError, KeyError, TypeError):
            action = ""
        if action not in ("start", "stop"):
            raise web.HTTPError(400, reason='the body must be {"action": "start" | "stop"}')
        self.finish(json.dumps(await asyncio.to_thread(self.state.control, action,
                                                       *self.where()), default=str))


class StreamHandler(_Base):
    """text/event-stream: `topology` when it changes, `events` when new ones arrive. Every
    stream of a (backend, namespace) shares one poller (server.hub)."""

    @web.authenticated
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        after_event, after_response = self._int("after_event", 0), self._int("after_response", 0)
        where = self.where()
        limit = min(max(self._int("limit", 500), 1), 5000)
        watch = self.state.hub.join(where)
        shown_topology, seen_heads, version = "", None, -1
        deadline = time.monotonic() + STREAM_SECONDS
        try:
            while time.monotonic() < deadline:
                version, said = watch.version, False
                if watch.topology and watch.topology != shown_topology:
                    shown_topology, said = watch.topology, True
                    self.write(f"event: topology\ndata: {shown_topology}\n\n")
                full = False
                if watch.heads is not None and watch.heads != seen_heads:
                    heads = watch.heads
                    batch = await asyncio.to_thread(self.state.events, after_event,
                                                    after_response, limit, *where)
                    after_event, after_response = batch["after_event"], batch["after_response"]
                    if batch["items"]:
                        said = True
                        self.write(f"event: events\ndata: {json.dumps(batch)}\n\n")
                    full = len(batch["items"]) >= limit  # a full page: read on at once
                    seen_heads = None if full else heads
                if said:
                    await self.flush()
                if not full:
                    await watch.wait(version, KEEP_ALIVE)
                    if watch.version == version:  # nothing for a while: say we are here
                        self.write(": keep-alive\n\n")
                        await self.flush()
        except StreamClosedError:
            return
        finally:
            self.state.hub.leave(watch)
        self.finish()


def handlers(base_url: str) -> list[tuple[str, type]]:
    root = base_url.rstrip("/") + "/seldon-jupyter/api"
    return [(f"{root}/topology", TopologyHandler), (f"{root}/events", EventsHandler),
            (f"{root}/trace", TraceHandler), (f"{root}/replay", ReplayHandler),
            (f"{root}/stream", StreamHandler), (f"{root}/backend", BackendHandler)]

