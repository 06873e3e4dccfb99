"""The local Knative-compatible broker process: ingress, trigger dispatch, collector sinks.

Ingress is `POST /<namespace>/<broker>` and answers like Knative's (202, 400 malformed,
404 unknown broker, 405 not POST). An accepted event is journaled with one pending
delivery per matching trigger before the 202 goes out; replies re-enter the same broker
with the TTL loop protection (knativebrokerttl, 255 hops). Deliveries are bounded in
flight per Trigger, and when the backlog of unfinished deliveries reaches its limit the
ingress answers 429 with Retry-After instead of growing it without bound.
`POST /sinks/<ns>/<name>` is the event-display-like collector that journals what it
receives. Routing is configured by the supervisor through a JSON file and `POST /control/reload`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import aiohttp

from seldon_jupyter import event_http, events, http1, journal, journal_ops, journal_retention
from seldon_jupyter.backends.local import ingress
from seldon_jupyter.backends.local.dispatch import Delivery, Dispatcher, Outcome, Route
from seldon_jupyter.backends.local.http_server import Reply, Request, Server, text
from seldon_jupyter.backends.local.serve import TOKEN_ENV, has_token, run, serve_until_stopped
from seldon_jupyter.errors import EventError
from seldon_jupyter.events import Event
from seldon_jupyter.filters import compile_filter
from seldon_jupyter.trigger_index import TriggerIndex

DEFAULT_TTL = 255
log = logging.getLogger(__name__)
TTL_ATTR = "knativebrokerttl"
MAX_BODY = 64 * 1024 * 1024  # Knative sets none; a cluster's proxies take tens of MiB
PER_TRIGGER_IN_FLIGHT = 256
MAX_PENDING = 50_000  # deliveries started and not finished, beyond which the ingress says 429
MAX_PENDING_ENV = "SELDON_JUPYTER_MAX_PENDING"
BUSY_RETRY_AFTER = 1  # seconds, in the 429's Retry-After
DEDUPE_WINDOW = 600.0  # seconds an idempotent send's (source, id) is remembered; 0: off
DEDUPE_ENV = "SELDON_JUPYTER_DEDUPE_WINDOW"
RETENTION_EVERY = 3600.0


class Broker:
    """Routing table, journal and delivery tasks of one broker process."""

    def __init__(self, journal_path: Path, config_path: Path, token: str, *,
                 max_pending: int = MAX_PENDING, dedupe_window: float = DEDUPE_WINDOW) -> None:
        self.journal = journal.Journal(journal_path)
        self.max_pending = max_pending
        self.dedupe_window = dedupe_window
        self.config_path = config_path
        self.token = token
        self.brokers: set[str] = set()
        self.sinks: set[str] = set()
        self.routes: dict[str, TriggerIndex[Route]] = {}
        self.by_key: dict[str, Route] = {}
        self.in_flight: set[tuple[int, str]] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.limits: dict[str, asyncio.Semaphore] = {}
        self.http: aiohttp.ClientSession | None = None
        self.lean: http1.Client | None = None
        self.dispatcher: Dispatcher | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=512))
        self.lean = http1.Client()
        self.dispatcher = Dispatcher(self.http, token=self.token, owned=lambda: self.owned,
                                     lean=self.lean)
        await self.reload()
        self._spawn_task(self._retention())

    def _spawn_task(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.close()
        if self.lean is not None:
            self.lean.close()
        self.journal.close()

    def load_config(self) -> None:
        raw = (json.loads(self.config_path.read_text()) if self.config_path.exists()
               else {"brokers": [], "triggers": [], "sinks": []})
        self.brokers = set(raw["brokers"])
        self.sinks = set(raw["sinks"])
        self.owned = set(raw.get("owned", []))  # host:port of the cluster's own servers
        per_broker: dict[str, list[tuple[Route, dict[str, Any], Any]]] = {
            b: [] for b in self.brokers}
        by_key: dict[str, Route] = {}
        for t in raw["triggers"]:
            route = Route(key=t["key"], namespace=t["namespace"], broker=t["broker"],
                          subscriber=t["subscriber"], delivery=Delivery.from_dict(t["delivery"]),
                          filter=compile_filter(t["spec"]), sink=t.get("sink"))
            by_key[route.key] = route
            per_broker.setdefault(f"{route.namespace}/{route.broker}", []).append(
                (route, t["spec"], route.filter))
        self.routes = {name: TriggerIndex(items) for name, items in per_broker.items()}
        self.by_key = by_key

    async def reload(self) -> None:
        """Re-read the routing table and (re)start every delivery still pending."""
        self.load_config()
        pending = await self.journal.run_aside(journal_ops.pending_deliveries)
        orphaned = []
        for seq, trigger, event, _namespace, _broker, ttl, headers in pending:
            if (seq, trigger) in self.in_flight:
                continue
            route = self.by_key.get(trigger)
            if route is None:
                orphaned.append(journal_ops.finish_delivery(
                    seq, trigger, state=journal.FAILED, attempts=0, code=None,
                    error="trigger was deleted before the event could be delivered"))
            elif route.subscriber:
                self._spawn(seq, route, event, ttl, headers)
        if orphaned:
            await self.journal.run(journal_ops.chain(*orphaned))

    # -- ingest and dispatch ---------------------------------------------------------------

    def _prepare(self, event: Event, namespace: str, broker: str, *, parent_seq: int | None,
                 via: str | None, headers: dict[str, str] | None = None
                 ) -> tuple[journal.Op, list[Route], Event, int]:
        raw_ttl = event.attributes.get(TTL_ATTR)
        try:
            ttl = DEFAULT_TTL if raw_ttl is None else int(raw_ttl) - 1
        except ValueError:
            ttl = DEFAULT_TTL
        if not -(2**31) <= ttl < 2**31 - 1:
            # a CloudEvents Integer is 32-bit: Knative's TTL defaulter replaces one that is
            # not (2**63 would otherwise disable the loop protection)
            ttl = DEFAULT_TTL
        event = event.with_attributes(**{
            TTL_ATTR: None, "knativearrivaltime": events.now_rfc3339_nano(),
            "time": events.normalized_time(event.time) if event.time else None})
        if ttl <= 0:
            op = journal_ops.insert_event(event, namespace=namespace, broker=broker, ttl=ttl,
                                          parent_seq=parent_seq, via_trigger=via, status="dropped",
                                          reason="TTL exhausted: the event looped through the "
                                             f"broker {DEFAULT_TTL} times")
            return op, [], event, ttl
        index = self.routes.get(f"{namespace}/{broker}")
        matched = index.matching(event.attributes) if index is not None else []
        # deliveries to this broker's own collectors are recorded in the same step as the
        # event; the rest are delivered by tasks once it is committed
        own = [r for r in matched if r.subscriber is not None and r.sink in self.sinks]
        routes = [r for r in matched if r not in own] if own else matched
        op = journal_ops.insert_event(event, namespace=namespace, broker=broker, ttl=ttl,
                                      parent_seq=parent_seq, via_trigger=via,
                                      triggers=[r.key for r in routes], headers=headers,
                                      delivered=[r.key for r in own])
        if own:
            op = journal_ops.collected_at_once(op, event, [str(r.sink) for r in own])
        return op, routes, event, ttl

    async def ingest(self, event: Event, namespace: str, broker: str,
                     headers: dict[str, str] | None = None, *, idempotent: bool = False
                     ) -> tuple[int, int]:
        """Journal an event from outside, then dispatch it; returns (seq, ttl). An
        `idempotent` send (the kit's own, with an Idempotency-Key) that repeats an event
        taken within the de-duplication window is answered with the first copy's seq and
        not delivered again."""
        op, routes, event, ttl = self._prepare(event, namespace, broker, parent_seq=None,
                                               via=None, headers=headers)
        if idempotent and self.dedupe_window > 0:
            since = time.time() - self.dedupe_window
            seq, new = await self.journal.run(journal_ops.once(
                event, namespace=namespace, broker=broker, since=since, insert=op))
            if not new:
                return seq, ttl
        else:
            seq = await self.journal.run(op)
        self._dispatch(seq, routes, event, ttl, headers or {})
        return seq, ttl

    async def _retention(self) -> None:
        """Prune the journal to its retention limits now and every RETENTION_EVERY s."""
        max_age, max_bytes = journal_retention.from_env()
        while True:
            pruned = await self.journal.run_aside(functools.partial(
                journal_retention.prune, max_age=max_age, max_bytes=max_bytes))
            if pruned.events or pruned.responses:
                log.info("%s", pruned)
            await asyncio.sleep(RETENTION_EVERY)

    def _dispatch(self, seq: int, routes: list[Route], event: Event, ttl: int,
                  headers: dict[str, str]) -> None:
        """Start deliveries; those whose subscriber is not resolved yet stay pending and
        start on the reload that follows their trigger becoming Ready."""
        for route in routes:
            if route.subscriber is not None:
                self._spawn(seq, route, event, ttl, headers)

    def _spawn(self, seq: int, route: Route, event: Event, ttl: int,
               headers: dict[str, str]) -> None:
        self.in_flight.add((seq, route.key))
        self._spawn_task(self._deliver(seq, route, event, ttl, headers))

    async def _deliver(self, seq: int, route: Route, event: Event, ttl: int,
                       headers: dict[str, str]) -> None:
        """Deliver, and never die silently: a delivery that crashes is recorded as failed
        with the reason (a terminal state), so a poison event cannot stay pending and
        re-crash the broker on every reload."""
        try:
            await self._deliver_once(seq, route, event, ttl, headers)
        except asyncio.CancelledError:
            raise  # the broker is stopping: the delivery stays pending for the next start
        except Exception as exc:  # noqa: BLE001 - recorded, never swallowed
            log.exception("delivery of event %s to %s crashed", seq, route.key)
            self.in_flight.discard((seq, route.key))
            await self.journal.run(journal_ops.finish_delivery(
                seq, route.key, state=journal.FAILED, attempts=0, code=None,
                error=f"the broker could not deliver this event: {type(exc).__name__}: "
                      f"{str(exc)[:300]}"))

    async def _deliver_once(self, seq: int, route: Route, event: Event, ttl: int,
                            headers: dict[str, str]) -> None:
        assert self.dispatcher is not None
        limit = self.limits.setdefault(route.key, asyncio.Semaphore(PER_TRIGGER_IN_FLIGHT))
        if route.sink is not None and route.sink in self.sinks:
            # Our own collector: the same record the sink's HTTP handler would write, without
            # the loopback round trip; delivery and collection commit together.
            try:
                await self.journal.run(journal_ops.chain(
                    journal_ops.finish_delivery(seq, route.key, state=journal.DELIVERED, attempts=1,
                                                code=202, error=None),
                    journal_ops.insert_response(event, sink=route.sink, event_seq=seq)))
            finally:
                self.in_flight.discard((seq, route.key))
            return
        try:
            async with limit:
                outcome = await self.dispatcher.deliver(event, route, ttl, headers)
            await self._finish(seq, route, outcome, ttl)
        finally:
            self.in_flight.discard((seq, route.key))

    async def _finish(self, seq: int, route: Route, outcome: Outcome, ttl: int) -> None:
        done = journal_ops.finish_delivery(seq, route.key, state=outcome.state,
                                           attempts=outcome.attempts, code=outcome.code,
                                           error=outcome.error, tries=outcome.tries)
        if outcome.reply is None:
            await self.journal.run(done)
            return
        reply = outcome.reply.with_attributes(**{TTL_ATTR: str(ttl)})
        op, routes, reply, reply_ttl = self._prepare(reply, route.namespace, route.broker,
                                                     parent_seq=seq, via=route.key)
        reply_seq = await self.journal.run(journal_ops.chain(done, op))
        self._dispatch(reply_seq, routes, reply, reply_ttl, {})

    # -- HTTP ---------------------------------------------------------------------------

    async def handle_ingress(self, request: Request) -> Reply:
        if request.method == "POST" and len(self.in_flight) >= self.max_pending:
            # back-pressure instead of an unbounded backlog: the kit's sender (and any
            # well-behaved client) waits Retry-After seconds and sends again
            return ingress.answer(
                429, f"the broker has {len(self.in_flight)} deliveries still pending (the "
                     f"limit is {self.max_pending}, ${MAX_PENDING_ENV}); retry after "
                     f"{BUSY_RETRY_AFTER}s\n", **{"Retry-After": str(BUSY_RETRY_AFTER)})
        return await ingress.handle(request, self.brokers, self.ingest)

    async def handle_sink(self, request: Request, sink: str) -> Reply:
        if not has_token(request, self.token):  # only the owner (and this broker) write here
            return text(401, "missing or wrong token: this sink belongs to the local "
                        "cluster's owner\n")
        if sink not in self.sinks:
            return text(404, f"no event-display service {sink}\n")
        try:
            event = event_http.from_http(request.headers, request.body)
        except EventError as exc:
            return text(400, f"malformed CloudEvent: {exc}\n")
        await self.journal.run(journal_ops.insert_response(event, sink=sink))
        return Reply(202)

    async def handle_reload(self, request: Request) -> Reply:
        if not has_token(request, self.token):
            return text(401, "missing or wrong token\n")
        await self.reload()
        return _json({"routes": len(self.by_key), "in_flight": len(self.in_flight)})

    async def handle(self, request: Request) -> Reply:
        """The broker port's routes: health, reload, its collectors' sinks; every other
        request is the ingress's (which answers bad paths and methods as Knative's does)."""
        return await ingress.storage_errors(self._route, request)

    async def _route(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _json({"ok": True, "in_flight": len(self.in_flight)})
        if path == "/control/reload" and method == "POST":
            return await self.handle_reload(request)
        if path.startswith("/sinks/") and method == "POST":
            parts = path.removesuffix("/").split("/")
            if len(parts) == 4 and parts[2] and parts[3]:
                return await self.handle_sink(request, f"{parts[2]}/{parts[3]}")
        return await self.handle_ingress(request)


def _json(body: Any) -> Reply:
    return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


async def _main(args: argparse.Namespace) -> None:
    home = Path(args.home)
    broker = Broker(home / "journal.sqlite", home / "broker-config.json",
                    os.environ.get(TOKEN_ENV, ""), max_pending=args.max_pending,
                    dedupe_window=float(os.environ.get(DEDUPE_ENV) or DEDUPE_WINDOW))
    await broker.start()
    server = Server(broker.handle, max_body=args.max_body)
    try:
        await serve_until_stopped(await server.start("127.0.0.1", args.port))
    finally:
        await server.close()
        await broker.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seldon-jupyter local broker")
    parser.add_argument("--home", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-body", type=int,
                        default=int(os.environ.get("SELDON_JUPYTER_MAX_BODY", MAX_BODY)),
                        help="largest accepted event in bytes (413 above it); "
                        "default $SELDON_JUPYTER_MAX_BODY or 64 MiB")
    parser.add_argument("--max-pending", type=int,
                        default=int(os.environ.get(MAX_PENDING_ENV) or MAX_PENDING),
                        help="deliveries in progress beyond which the ingress answers 429 "
                        f"with Retry-After; default ${MAX_PENDING_ENV} or {MAX_PENDING}")
    run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
