"""The broker ingress's HTTP edge, answering as Knative's does.

knative/eventing `pkg/broker/ingress/ingress_handler.go`: every answer carries
`Allow: POST, OPTIONS`; OPTIONS is 200 with the WebHook headers; other methods 405; `/` is
404 and a path that is not `/<namespace>/<broker>` (a trailing slash allowed) 400; the
event is parsed and validated before the broker is looked up (a malformed event is 400
even for an unknown broker, a valid one 404); 202 on success. The headers Knative passes
on to subscribers are picked here and journaled with the event. A request with an
`Idempotency-Key` header (the kit's own sends) is de-duplicated on (source, id). An event
the journal cannot store (a full disk) is a 507 with the reason, never a bare 500.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Mapping
from typing import Protocol

from seldon_jupyter import event_http, events
from seldon_jupyter.backends.local.http_server import Handler, Reply, Request, text
from seldon_jupyter.errors import EventError

ALLOW = {"Allow": "POST, OPTIONS"}
WEBHOOK = {"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "*"}
# What Knative's broker passes on to subscribers (PROTOCOL.md, pkg/broker/filter/): these,
# and every Knative-* / X-B3-* header
PASS_THROUGH = frozenset({"x-request-id", "retry-after", "traceparent"})
PASS_PREFIXES = ("knative-", "x-b3-")

IDEMPOTENCY_KEY = "Idempotency-Key"  # the IETF httpapi draft's header; the kit's sender sets it


class Ingest(Protocol):
    def __call__(self, event: events.Event, namespace: str, broker: str,
                 headers: dict[str, str], *, idempotent: bool) -> Awaitable[tuple[int, int]]:
        ...


def passed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers a Knative broker forwards to subscribers."""
    return {k: v for k, v in headers.items()
            if k.lower() in PASS_THROUGH or k.lower().startswith(PASS_PREFIXES)}


async def storage_errors(handler: Handler, request: Request) -> Reply:
    """An event the journal cannot store is refused with the reason, never a bare 500:
    507 when the disk (or the journal) is full, 503 for any other storage failure."""
    try:
        return await handler(request)
    except sqlite3.Error as exc:
        full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        return answer(507 if full else 503,
                      f"the journal could not store the event ({exc}); nothing was accepted: "
                      + ("free disk space where SELDON_JUPYTER_HOME is, or run "
                         "`seldon-jupyter journal prune`, then send again\n" if full
                         else "send again later\n"))


def answer(status: int, message: str = "", **headers: str) -> Reply:
    """An ingress answer: every one carries `Allow`, as Knative's do."""
    return text(status, message, **ALLOW, **headers)


def target(path: str) -> tuple[str, str] | Reply:
    """(namespace, broker) of an ingress path, or the answer for a bad path."""
    if path in ("", "/"):
        return answer(404, "404 page not found\n")
    trimmed = path[1:-1] if path.endswith("/") else path[1:]
    parts = trimmed.split("/")
    if len(parts) != 2 or not all(parts):
        return answer(400, f"malformed request path {path!r}: expected "
                      "/<namespace>/<broker>\n")
    return parts[0], parts[1]


async def handle(request: Request, brokers: set[str], ingest: Ingest) -> Reply:
    if request.method == "OPTIONS":
        return Reply(200, headers={**ALLOW, **WEBHOOK})
    if request.method != "POST":
        return answer(405, "only POST is allowed on a broker ingress\n")
    where = target(request.path)
    if isinstance(where, Reply):
        return where
    namespace, name = where
    try:
        event = event_http.from_http(request.headers, request.body)
    except EventError as exc:
        return answer(400, f"malformed CloudEvent: {exc}\n")
    if f"{namespace}/{name}" not in brokers:
        return answer(404, f"broker {namespace}/{name} not found\n")
    seq, ttl = await ingest(event, namespace, name, passed_headers(request.headers),
                            idempotent=IDEMPOTENCY_KEY in request.headers)
    if ttl <= 0:
        return answer(400, "event dropped: TTL exhausted\n")
    return answer(202, **{"X-Seldon-Jupyter-Seq": str(seq)})
