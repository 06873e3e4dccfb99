"""Every read of the journal: DataFrames for notebooks, the feed for the sidebar, cursors.

`journal.py` owns the schema and the writer, `journal_ops.py` and `journal_collected.py`
every write; this module owns every read, so no other module runs SQL. Reads open their
own read-only connection (WAL lets them run beside the writer).

The responses DataFrame, the biggest read, has its own module (`journal_responses`),
built on this one's helpers.

The feed (`recent`) reads two tables: `events` (everything a local broker accepted,
replies included, with the reply's latency from the request that caused it) and
`responses` (what the sinks collected, the only table a cluster fills; a response the
local broker also journaled is shown once, as the broker's copy). Each item carries its
table and sequence number, so a stream asks for "everything after these two cursors".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from seldon_jupyter.journal import connect


def _since(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(datetime.now().astimezone().tzinfo)
    return stamp.timestamp()


def _where(filters: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for clause, value in filters:
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def read_rows(path: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    if not Path(path).exists():
        return []
    conn = connect(path, readonly=True)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def _ns(namespace: str | None) -> str | None:
    return None if namespace is None else namespace.replace("%", "") + "/%"


def count_responses(path: Path, *, type: str | None = None,  # noqa: A002
                    since: Any = None, sink: str | None = None,
                    namespace: str | None = None) -> int:
    where, params = _where([("type = ?", type), ("received_at >= ?", _since(since)),
                            ("sink = ?", sink), ("sink LIKE ?", _ns(namespace))])
    rows = read_rows(path, "SELECT count(*) FROM responses" + where, params)
    return int(rows[0][0]) if rows else 0


EVENT_COLUMNS = ["seq", "id", "type", "source", "namespace", "broker", "received_at", "ttl",
                 "parent_seq", "via_trigger", "status", "reason"]


def events(path: Path, *, namespace: str | None = None, broker: str | None = None,
           type: str | None = None, status: str | None = None) -> pd.DataFrame:  # noqa: A002
    """Every event a broker took in (or dropped), oldest first."""
    where, params = _where([("namespace = ?", namespace), ("broker = ?", broker),
                            ("type = ?", type), ("status = ?", status)])
    rows = read_rows(path, "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM events" + where
                  + " ORDER BY seq", params)
    frame = pd.DataFrame.from_records(rows, columns=EVENT_COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"], unit="s", utc=True)
    return frame


DELIVERY_COLUMNS = ["event_seq", "event_id", "event_type", "trigger", "state", "attempts", "code",
                    "error", "updated_at"]


def deliveries(path: Path, *, state: str | None = None, trigger: str | None = None,
               namespace: str | None = None) -> pd.DataFrame:
    """Each (event, trigger) delivery with its final state: delivered, dead-lettered, failed."""
    where, params = _where([("d.state = ?", state), ("d.trigger = ?", trigger),
                            ("e.namespace = ?", namespace)])
    rows = read_rows(
        path, "SELECT d.event_seq, e.id, e.type, d.trigger, d.state, d.attempts, d.code,"
        " d.error, d.updated_at FROM deliveries d JOIN events e ON e.seq = d.event_seq"
        + where + " ORDER BY d.event_seq", params)
    frame = pd.DataFrame.from_records(rows, columns=DELIVERY_COLUMNS)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], unit="s", utc=True)
    return frame


_EVENTS = (
    "SELECT e.seq, e.id, e.type, e.source, e.namespace, e.received_at, e.status,"
    " (e.received_at - p.received_at) * 1000.0,"
    " (SELECT count(*) FROM deliveries d WHERE d.event_seq = e.seq),"
    " (SELECT count(*) FROM deliveries d WHERE d.event_seq = e.seq"
    "  AND d.state IN ('dead-lettered', 'failed')) FROM events e"
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
              "where": f"{ns}/{status}", "time": at, "latency_ms": latency,
              "flags": (["dropped"] if status != "accepted" else ["unrouted"] if not routed
                        else ["failed"] if failed else [])}
             for seq, id_, type_, source, ns, at, status, latency, routed, failed in events]
    items += [{"table": "responses", "seq": seq, "id": id_, "type": type_, "source": source,
               "where": sink, "time": at, "latency_ms": latency, "flags": []}
              for seq, id_, type_, source, sink, at, latency in responses]
    items.sort(key=lambda item: item["time"])
    return {"items": items,
            "after_event": max([after_event, *(r[0] for r in events)]),
            "after_response": max([after_response, *(r[0] for r in responses)])}


def heads(path: Path) -> tuple[int, int]:
    """The newest seq of the events and of the responses tables (0 when empty)."""
    rows = read_rows(path, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM events),"
                     " (SELECT COALESCE(MAX(seq), 0) FROM responses)", [])
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)


def cursor_origin(path: Path, sink: str) -> str | None:
    """The sink instance (or pod) whose events were read last."""
    rows = read_rows(path, "SELECT origin FROM cursors WHERE sink=? ORDER BY rowid DESC"
                     " LIMIT 1", [sink])
    return str(rows[0][0]) if rows else None


def cursor_position(path: Path, sink: str, origin: str) -> int:
    """How many of that origin's events are already in the journal."""
    rows = read_rows(path, "SELECT position FROM cursors WHERE sink=? AND origin=?",
                     [sink, origin])
    return int(rows[0][0]) if rows else 0


# -- one event's story (trace, explain, failures) -----------------------------------------------

_EVENT_COLUMNS = ("seq", "id", "type", "source", "namespace", "broker", "attributes", "data",
                  "received_at", "ttl", "parent_seq", "via_trigger", "status", "reason")


def find_event(path: Path, event_id: str | None, *, namespace: str | None = None) -> int | None:
    """The seq of the newest event with this id (None: the newest one sent from outside)."""
    where, params = _where([("id = ?", event_id), ("namespace = ?", namespace)])
    if event_id is None:
        where += (" AND" if where else " WHERE") + " parent_seq IS NULL"
    rows = read_rows(path, "SELECT max(seq) FROM events" + where, params)
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def event_story(path: Path, seq: int) -> dict[str, Any] | None:
    """Everything the journal knows of one event: its row, deliveries, attempts, the
    events it caused (replies) and where collectors took it."""
    rows = read_rows(path, f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE seq = ?",
                     [seq])
    if not rows:
        return None
    event = dict(zip(_EVENT_COLUMNS, rows[0], strict=True))
    event["attributes"] = json.loads(event["attributes"])
    event["data"] = bytes(event["data"] or b"")
    deliveries = read_rows(path, "SELECT trigger, state, attempts, code, error, updated_at"
                           " FROM deliveries WHERE event_seq = ? ORDER BY trigger", [seq])
    attempts = read_rows(path, "SELECT trigger, target, number, url, started_at, duration_ms,"
                         " waited_s, code, error, answer FROM attempts WHERE event_seq = ?"
                         " ORDER BY started_at", [seq])
    children = read_rows(path, "SELECT seq FROM events WHERE parent_seq = ? ORDER BY seq", [seq])
    collected = read_rows(path, "SELECT sink, received_at FROM responses WHERE event_seq = ?",
                          [seq])
    return {"event": event,
            "deliveries": [dict(zip(("trigger", "state", "attempts", "code", "error",
                                     "updated_at"), d, strict=True)) for d in deliveries],
            "attempts": [dict(zip(("trigger", "target", "number", "url", "started_at",
                                   "duration_ms", "waited_s", "code", "error", "answer"), a,
                                  strict=True)) for a in attempts],
            "children": [int(c[0]) for c in children],
            "collected": [{"sink": s, "received_at": t} for s, t in collected]}


def unrouted(path: Path, *, namespace: str | None = None) -> list[dict[str, Any]]:
    """Accepted events that no Trigger took (no delivery row), and dropped events."""
    where, params = _where([("e.namespace = ?", namespace)])
    rows = read_rows(path, "SELECT e.seq, e.id, e.type, e.source, e.status, e.reason,"
                     " e.received_at, e.attributes FROM events e" + where
                     + (" AND" if where else " WHERE") + " NOT EXISTS (SELECT 1 FROM"
                     " deliveries d WHERE d.event_seq = e.seq) ORDER BY e.seq", params)
    keys = ("seq", "id", "type", "source", "status", "reason", "received_at", "attributes")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def trigger_counts(path: Path, *, namespace: str | None = None) -> dict[str, dict[str, int]]:
    """Deliveries per Trigger ("ns/name") and state: what the topology shows on each edge."""
    where, params = _where([("e.namespace = ?", namespace)])
    rows = read_rows(path, "SELECT d.trigger, d.state, count(*) FROM deliveries d JOIN events e"
                     " ON e.seq = d.event_seq" + where + " GROUP BY d.trigger, d.state", params)
    counts: dict[str, dict[str, int]] = {}
    for trigger, state, n in rows:
        counts.setdefault(str(trigger), {})[str(state)] = int(n)
    return counts
