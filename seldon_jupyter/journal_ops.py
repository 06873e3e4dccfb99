"""What the broker writes to the journal: each operation runs inside a group-commit
transaction (journal.Journal, on the broker's loop or its writer thread) and returns what
its caller awaits.

An event arriving (with one pending delivery per matching Trigger), a repeat of an
idempotent send, a delivery's outcome with every HTTP attempt, a response as a collector
records it (with its prediction columns read once, here), and the deliveries to resume
after a restart.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from seldon_jupyter.events import Event, is_json_type
from seldon_jupyter.journal import DELIVERED, FAILED, PENDING, Op
from seldon_jupyter.payloads import answer_shape


def insert_event(event: Event, *, namespace: str, broker: str, ttl: int | None,
                 parent_seq: int | None = None, via_trigger: str | None = None,
                 status: str = "accepted", reason: str | None = None,
                 triggers: Iterable[str] = (), headers: Mapping[str, str] | None = None,
                 at: float | None = None, delivered: Iterable[str] = ()) -> Op:
    """Record an event arriving at a broker, and one pending delivery per matching trigger;
    `headers` are the HTTP headers Knative passes through to subscribers."""
    attrs = json.dumps(dict(event.attributes))
    passed = json.dumps(dict(headers)) if headers else None
    now = time.time() if at is None else at
    routed = [(t, PENDING, 0, None) for t in triggers] + [
        (t, DELIVERED, 1, 202) for t in delivered]  # to the broker's own collectors

    def op(conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "INSERT INTO events (id, type, source, namespace, broker, attributes, data,"
            " received_at, ttl, parent_seq, via_trigger, status, reason, headers)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (event.id, event.type, event.source, namespace, broker, attrs, event.data, now, ttl,
             parent_seq, via_trigger, status, reason, passed))
        seq = cur.lastrowid
        if routed:
            conn.executemany(
                "INSERT INTO deliveries (event_seq, trigger, state, attempts, code, updated_at)"
                " VALUES (?,?,?,?,?,?)", [(seq, t, state, tries, code, now)
                                          for t, state, tries, code in routed])
        return int(seq or 0)

    return op


def once(event: Event, *, namespace: str, broker: str, since: float, insert: Op) -> Op:
    """`insert`, unless this broker took an event with the same (source, id) from outside
    at or after `since` (a client retrying a send it could not see answered): returns
    (seq, True) for a new event, (the first copy's seq, False) for a repeat."""
    def op(conn: sqlite3.Connection) -> tuple[int, bool]:
        row = conn.execute(
            "SELECT seq FROM events WHERE id=? AND source=? AND namespace=? AND broker=?"
            " AND parent_seq IS NULL AND received_at >= ? ORDER BY seq LIMIT 1",
            (event.id, event.source, namespace, broker, since)).fetchone()
        return (int(row[0]), False) if row else (int(insert(conn)), True)

    return op


def finish_delivery(seq: int, trigger: str, *, state: str, attempts: int, code: int | None,
                    error: str | None, tries: Iterable[Any] = ()) -> Op:
    """A delivery's final state, and each HTTP attempt it took (dispatch.Try records)."""
    rows = [(seq, trigger, t.target, t.number, t.url, t.started_at, t.duration_ms, t.waited_s,
             t.code, t.error, t.answer) for t in tries]

    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE deliveries SET state=?, attempts=?, code=?, error=?, updated_at=?"
            " WHERE event_seq=? AND trigger=?",
            (state, attempts, code, error, time.time(), seq, trigger))
        conn.executemany("INSERT INTO attempts (event_seq, trigger, target, number, url,"
                         " started_at, duration_ms, waited_s, code, error, answer)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    return op


def collected_at_once(insert: Op, event: Event, sinks: Iterable[str]) -> Op:
    """`insert` (an insert_event that records these deliveries as delivered), then the
    event as each of the broker's own collectors `sinks` records it, in the same step: what
    the sink's HTTP handler would write, without a delivery task or a second transaction."""
    rows = [response_row(event, sink=sink) for sink in sinks]

    def op(conn: sqlite3.Connection) -> int:
        seq = int(insert(conn))
        for row in rows:
            row(conn, seq)
        return seq

    return op


def chain(*ops: Op) -> Op:
    """Several operations in one atomic step; returns the last one's result."""
    def op(conn: sqlite3.Connection) -> Any:
        result = None
        for each in ops:
            result = each(conn)
        return result

    return op


def prediction_columns(event: Event) -> tuple[str | None, int | None, str | None, str]:
    """(names, row count, first row) of a Seldon answer, as JSON text for fast reading, and
    the id of the request it answers as the body names it (Seldon's `meta.puid`, the Open
    Inference Protocol's `id`; "" for none): read once here, never per query."""
    if not event.data or not is_json_type(event.datacontenttype):
        return None, None, None, ""
    try:
        body = json.loads(event.data)
    except (ValueError, UnicodeDecodeError, RecursionError):  # kept as opaque data
        return None, None, None, ""
    key = ""
    if isinstance(body, dict):
        meta = body.get("meta")
        found = meta.get("puid") if isinstance(meta, dict) else None
        found = body.get("id") if found is None else found
        key = found if isinstance(found, str) else "" if found is None else json.dumps(found)
    shape = answer_shape(body)
    if shape is None:
        return None, None, None, key
    names, rows = shape
    return json.dumps(names), len(rows), json.dumps(rows[0]), key


def response_row(event: Event, *, sink: str, received_at: float | None = None
                 ) -> Callable[[sqlite3.Connection, int | None], int]:
    """Record an event a collector received, linked to the broker's copy of it: the seq
    given, or else the broker's newest accepted event with its (id, source), if any."""
    attrs = json.dumps(dict(event.attributes))
    now = time.time() if received_at is None else received_at
    names, nrows, row0, key = prediction_columns(event)

    def write(conn: sqlite3.Connection, event_seq: int | None) -> int:
        if names is not None:
            conn.execute("INSERT OR IGNORE INTO shapes (names) VALUES (?)", (names,))
        row = (event_seq,) if event_seq is not None else conn.execute(
            "SELECT seq FROM events WHERE id=? AND source=? AND status='accepted'"
            " ORDER BY seq DESC LIMIT 1", (event.id, event.source)).fetchone()
        cur = conn.execute(
            "INSERT INTO responses (sink, id, type, source, time, attributes, data, received_at,"
            " event_seq, names, nrows, row0, request_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sink, event.id, event.type, event.source, event.time, attrs, event.data, now,
             row[0] if row else None, names, nrows, row0, key))
        return int(cur.lastrowid or 0)

    return write


def insert_response(event: Event, *, sink: str, event_seq: int | None = None,
                    received_at: float | None = None) -> Op:
    """Record an event a collector received; linked to the broker's copy of it if known."""
    write = response_row(event, sink=sink, received_at=received_at)
    return lambda conn: write(conn, event_seq)


Pending = tuple[int, str, Event, str, str, int, dict[str, str]]


def pending_deliveries(conn: sqlite3.Connection) -> list[Pending]:
    """(seq, trigger, event, namespace, broker, ttl, pass-through headers) for every
    delivery not yet finished. A row that cannot be read back (a poison event) is finished
    as failed with the reason here, so it cannot crash the broker on every start."""
    rows = conn.execute(
        "SELECT d.event_seq, d.trigger, e.attributes, e.data, e.namespace, e.broker, e.ttl,"
        " e.headers FROM deliveries d JOIN events e ON e.seq = d.event_seq"
        " WHERE d.state = ? ORDER BY d.event_seq", (PENDING,)).fetchall()
    found: list[Pending] = []
    for seq, trig, attrs, data, ns, broker, ttl, headers in rows:
        try:
            found.append((seq, trig, Event(json.loads(attrs), bytes(data or b"")), ns, broker,
                          ttl, json.loads(headers) if headers else {}))
        except (ValueError, TypeError, RecursionError) as exc:
            finish_delivery(seq, trig, state=FAILED, attempts=0, code=None,
                            error="the journaled event could not be read back: "
                                  f"{type(exc).__name__}: {str(exc)[:200]}")(conn)
    return found
