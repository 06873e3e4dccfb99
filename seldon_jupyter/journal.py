"""The durable event journal: SQLite in WAL mode, written by one thread with group commit.

The broker acknowledges an event only after its row is committed here, and the
collector does the same for responses, so a killed process loses nothing it accepted.
Writes from many coroutines are batched into one transaction (each in its own savepoint)
to keep thousands of events a second cheap; reads happen on separate connections.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from seldon_jupyter.events import Event, is_json_type
from seldon_jupyter.home import private_file
from seldon_jupyter.payloads import answer_shape

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,
    namespace TEXT NOT NULL, broker TEXT NOT NULL, attributes TEXT NOT NULL, data BLOB,
    received_at REAL NOT NULL, ttl INTEGER, parent_seq INTEGER, via_trigger TEXT,
    status TEXT NOT NULL, reason TEXT, headers TEXT);
CREATE INDEX IF NOT EXISTS events_id ON events (id, source);
CREATE TABLE IF NOT EXISTS deliveries (
    event_seq INTEGER NOT NULL, trigger TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, code INTEGER, error TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (event_seq, trigger));
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state);
CREATE TABLE IF NOT EXISTS responses (
    seq INTEGER PRIMARY KEY, sink TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    source TEXT NOT NULL, time TEXT, attributes TEXT NOT NULL, data BLOB,
    received_at REAL NOT NULL, event_seq INTEGER,
    names TEXT, nrows INTEGER, row0 TEXT);
CREATE INDEX IF NOT EXISTS responses_type ON responses (type);
CREATE INDEX IF NOT EXISTS responses_event ON responses (source, id);
CREATE TABLE IF NOT EXISTS attempts (
    event_seq INTEGER NOT NULL, trigger TEXT NOT NULL, target TEXT NOT NULL,
    number INTEGER NOT NULL, url TEXT NOT NULL, started_at REAL NOT NULL,
    duration_ms REAL NOT NULL, waited_s REAL NOT NULL, code INTEGER, error TEXT, answer BLOB);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_seq);
CREATE INDEX IF NOT EXISTS events_parent ON events (parent_seq);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS responses_received ON responses (received_at);
CREATE TABLE IF NOT EXISTS shapes (names TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS cursors (
    sink TEXT NOT NULL, origin TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (sink, origin));
"""
PENDING, DELIVERED, DEAD_LETTERED, FAILED = "pending", "delivered", "dead-lettered", "failed"


# Columns added after a journal may already exist on disk: (table, column, declaration).
MIGRATIONS = [("events", "headers", "TEXT"), ("responses", "request_key", "TEXT")]


def _migrate(conn: sqlite3.Connection, *, new_shapes: bool) -> None:
    for table, column, declaration in MIGRATIONS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    if new_shapes:  # once, when `shapes` was just created: learn the name sets the
        # responses of a journal from before it already have
        conn.execute("INSERT OR IGNORE INTO shapes SELECT DISTINCT names FROM responses"
                     " WHERE names IS NOT NULL")


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30,
                               check_same_thread=False)
    else:
        if not Path(path).exists():
            private_file(Path(path))  # SQLite gives its -wal and -shm files the same mode
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        new_shapes = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='shapes'").fetchone() is None
        conn.executescript(SCHEMA)
        _migrate(conn, new_shapes=new_shapes)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


Op = Callable[[sqlite3.Connection], Any]


_Waiter = Future[Any] | asyncio.Future[Any]
_Item = tuple[Op, _Waiter]
_Settled = list[tuple[_Waiter, bool, Any]]


class Journal:
    """Serialises writes through one thread with group commit.

    `submit` (any thread) returns a Future done after commit. `run` (the event loop) is the
    broker's hot path: the operations awaited during one loop iteration go to the writer
    as one batch, and the batch's results come back in one loop callback, so a thousand
    events a second cost a few thread hand-offs, not thousands."""

    def __init__(self, path: Path | str, *, batch: int = 512) -> None:
        self.path = Path(path)
        self._batch = batch
        self._queue: queue.SimpleQueue[list[_Item] | None] = queue.SimpleQueue()
        self._tick: list[_Item] = []
        self._tick_loop: asyncio.AbstractEventLoop | None = None
        self._conn = connect(self.path)
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Op) -> Future[Any]:
        fut: Future[Any] = Future()
        self._queue.put([(op, fut)])
        return fut

    async def run(self, op: Op) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if self._tick and self._tick_loop is not loop:
            self._flush()
        self._tick.append((op, fut))
        if len(self._tick) == 1:
            self._tick_loop = loop
            loop.call_soon(self._flush)  # after every coroutine ready in this iteration
        return await fut

    def _flush(self) -> None:
        if self._tick:
            items, self._tick = self._tick, []
            self._queue.put(items)

    def close(self) -> None:
        self._flush()
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items = first
            while len(items) < self._batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                items.extend(more)
            self._settle(self._commit(items))

    def _commit(self, items: list[_Item]) -> _Settled:
        """Run every op in one transaction. Optimistically without savepoints (two
        statements fewer per op); if any op fails, the transaction is rolled back and
        re-run with each op in its own savepoint, so only the failing ops fail."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                results: _Settled = [(fut, True, op(conn)) for op, fut in items]
            except Exception:  # noqa: BLE001 - isolated below, handed back to its caller
                conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                results = self._isolated(items)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(fut, False, exc) for _, fut in items]
        return results

    def _isolated(self, items: list[_Item]) -> _Settled:
        conn = self._conn
        results: _Settled = []
        for op, fut in items:
            conn.execute("SAVEPOINT op")
            try:
                results.append((fut, True, op(conn)))
                conn.execute("RELEASE op")
            except Exception as exc:  # noqa: BLE001 - handed back to the caller
                conn.execute("ROLLBACK TO op")
                conn.execute("RELEASE op")
                results.append((fut, False, exc))
        return results

    @staticmethod
    def _settle(results: _Settled) -> None:
        """Hand results back: thread futures directly, loop futures in one callback per
        loop."""
        by_loop: dict[asyncio.AbstractEventLoop, _Settled] = {}
        for fut, ok, value in results:
            if isinstance(fut, asyncio.Future):
                by_loop.setdefault(fut.get_loop(), []).append((fut, ok, value))
            elif ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, settled)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass


def _resolve(settled: _Settled) -> None:
    for fut, ok, value in settled:
        if fut.done():  # its waiter was cancelled
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


# -- operations (run inside the writer thread, inside a transaction) ------------------------


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


# -- collected events from a cluster's sinks (cursor per sink instance) ----------------------


SENT = "sent"  # an events row the kit wrote as it sent a request (a cluster's broker is remote)


def record_sent(path: Path | str, sent: Iterable[Event], *, namespace: str, broker: str,
                at: float) -> None:
    """Remember requests sent to a remote broker, with the time their send began, so
    responses that echo `meta.puid` can name their request and its latency."""
    conn = connect(path)
    try:
        with conn:
            for event in sent:
                insert_event(event, namespace=namespace, broker=broker, ttl=None,
                             status=SENT, at=at)(conn)
    finally:
        conn.close()


def ensure(path: Path | str) -> Path:
    """Create the journal file with its schema if it is not there yet."""
    connect(path).close()
    return Path(path)


def forget_cursor(path: Path | str, sink: str, origin: str) -> None:
    """Start reading a new sink instance (or pod) from its first event."""
    conn = connect(path)
    try:
        conn.execute("INSERT OR IGNORE INTO cursors (sink, origin, position) VALUES (?,?,0)",
                     (sink, origin))
    finally:
        conn.close()


def store_collected(path: Path | str, sink: str, origin: str, start: int, end: int,
                    batch: Iterable[tuple[Event, float]]) -> int:
    """Insert `batch` and move the cursor start -> end in one transaction, unless another
    reader moved it first (then nothing is written and 0 returned): exactly once."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT position FROM cursors WHERE sink=? AND origin=?",
                           (sink, origin)).fetchone()
        if (int(row[0]) if row else 0) != start:
            conn.execute("ROLLBACK")
            return 0
        count = 0
        for event, received_at in batch:
            if conn.execute("SELECT 1 FROM responses WHERE source=? AND id=? LIMIT 1",
                            (event.source, event.id)).fetchone():
                continue  # (source, id) names one event: a redelivery, or a second sink
            insert_response(event, sink=sink, received_at=received_at)(conn)
            count += 1
        conn.execute("INSERT INTO cursors (sink, origin, position) VALUES (?,?,?) ON"
                     " CONFLICT (sink, origin) DO UPDATE SET position=excluded.position",
                     (sink, origin, end))
        conn.execute("COMMIT")
        return count
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
