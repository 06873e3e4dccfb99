"""The durable event journal: SQLite in WAL mode, written by one thread with group commit.

The broker acknowledges an event only after its row is committed here, and the
collector does the same for responses, so a killed process loses nothing it accepted.
Writes from many coroutines are batched into one transaction (each in its own savepoint)
to keep thousands of events a second cheap; reads happen on separate connections. The
operations the writer runs are in `journal_ops`; a cluster Session's own writes in
`journal_collected`.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from seldon_jupyter.home import private_file

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
SENT = "sent"  # an events row the kit wrote as it sent a request (a cluster's broker is remote)


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


def ensure(path: Path | str) -> Path:
    """Create the journal file with its schema if it is not there yet."""
    connect(path).close()
    return Path(path)
