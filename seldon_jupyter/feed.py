"""The recent-events feed: what the sidebar shows, read from the journal by cursor.

Two tables feed it: `events` (everything a local broker accepted, replies included, with
the reply's latency from the request that caused it) and `responses` (what the sinks
collected, the only table a cluster fills; a response the local broker also journaled is
shown once, as the broker's copy). Each row carries its table and sequence
number, so a stream can ask for "everything after these two cursors" and never repeat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seldon_jupyter.store import read_rows

_EVENTS = (
    "SELECT e.seq, e.id, e.type, e.source, e.namespace, e.received_at, e.status,"
    " (e.received_at - p.received_at) * 1000.0 FROM events e"
    " LEFT JOIN events p ON p.seq = e.parent_seq WHERE e.seq > ? {ns} ORDER BY e.seq DESC"
    " LIMIT ?")
_RESPONSES = (
    "SELECT r.seq, r.id, r.type, r.source, r.sink, r.received_at,"
    " (r.received_at - q.received_at) * 1000.0 FROM responses r"
    " LEFT JOIN events e ON e.seq = r.event_seq LEFT JOIN events q ON q.seq = e.parent_seq"
    " WHERE r.seq > ? AND r.event_seq IS NULL {ns} ORDER BY r.seq DESC LIMIT ?")


def recent(path: Path, *, after_event: int = 0, after_response: int = 0, limit: int = 200,
           namespace: str | None = None) -> dict[str, Any]:
    """Up to `limit` newest items of each table past the cursors, oldest first."""
    ns_e = "AND e.namespace = ?" if namespace else ""
    ns_r = "AND r.sink LIKE ?" if namespace else ""
    events = read_rows(path, _EVENTS.format(ns=ns_e),
                   [after_event, *([namespace] if namespace else []), limit])
    responses = read_rows(path, _RESPONSES.format(ns=ns_r),
                      [after_response, *([f"{namespace}/%"] if namespace else []), limit])
    items = [{"table": "events", "seq": seq, "id": id_, "type": type_, "source": source,
              "where": f"{ns}/{status}", "time": at, "latency_ms": latency}
             for seq, id_, type_, source, ns, at, status, latency in events]
    items += [{"table": "responses", "seq": seq, "id": id_, "type": type_, "source": source,
               "where": sink, "time": at, "latency_ms": latency}
              for seq, id_, type_, source, sink, at, latency in responses]
    items.sort(key=lambda item: item["time"])
    return {"items": items,
            "after_event": max([after_event, *(r[0] for r in events)]),
            "after_response": max([after_response, *(r[0] for r in responses)])}
