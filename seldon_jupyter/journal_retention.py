"""A bounded journal: what pruning removes, and the limits it keeps by default.

Every event and response is journaled, so without a bound a long-running stream grows the
journal forever (about 2.4 kB per request). Pruning drops what is older than an age and,
beyond a size, the oldest rest, and never an event with a delivery still pending (that one
is still owed to its subscriber). The local broker prunes with the defaults (or
`$SELDON_JUPYTER_RETENTION_DAYS` / `$SELDON_JUPYTER_RETENTION_MB`) when it starts and every
hour; `Session.prune()` and `seldon-jupyter journal prune` do it on demand.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.journal import connect

RETENTION_DAYS = 30.0
RETENTION_BYTES = 4 * 1024**3
DAYS_ENV, MB_ENV = "SELDON_JUPYTER_RETENTION_DAYS", "SELDON_JUPYTER_RETENTION_MB"
SIZE_STEPS = 50  # at most this many rounds of dropping the oldest 5% to get under a size
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w|)\s*$", re.IGNORECASE)
_AGE_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0,
              "d": 86400.0, "w": 604800.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


class RetentionError(SeldonJupyterError, ValueError):
    """A retention limit that does not parse."""


@dataclass(frozen=True)
class Pruned:
    events: int
    responses: int
    bytes_before: int
    bytes_after: int  # bytes the journal's rows use (free pages are reused by new rows)

    def __str__(self) -> str:
        return (f"pruned {self.events} events and {self.responses} responses; the journal "
                f"uses {self.bytes_after / 1e6:.1f} MB (was {self.bytes_before / 1e6:.1f} MB)")


def parse_age(value: float | str | None) -> float | None:
    """Seconds from a number of seconds or a duration such as '7d', '12h', '30min'."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    match = _AGE.match(value)
    if not match:
        raise RetentionError(f"{value!r} is not a duration",
                             hint="give seconds or a duration such as '7d', '12h' or "
                             "'30min'")
    return float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]


def parse_size(value: int | str | None) -> int | None:
    """Bytes from a number of bytes or a size such as '500MB', '2GiB', '10k'."""
    if value is None or isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if not match:
        raise RetentionError(f"{value!r} is not a size",
                             hint="give bytes or a size such as '500MB' or '2GiB'")
    number, unit, binary = match.groups()
    base = 1024 if "i" in binary.lower() else 1000
    return int(float(number) * base ** " kmgt".index(unit.lower() or " "))


def from_env() -> tuple[float, int]:
    """(max age in seconds, max bytes) for the broker's own pruning."""
    days = float(os.environ.get(DAYS_ENV) or RETENTION_DAYS)
    mb = os.environ.get(MB_ENV)
    return days * 86400.0, int(float(mb) * 1e6) if mb else RETENTION_BYTES


def used_bytes(conn: sqlite3.Connection) -> int:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


# events that may go: none with a delivery still owed to its subscriber
_DOOMED = {
    "age": "INSERT INTO doomed SELECT seq FROM events WHERE received_at < ? AND NOT EXISTS"
           " (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND"
           " d.state = 'pending')",
    "seq": "INSERT INTO doomed SELECT seq FROM events WHERE seq <= ? AND NOT EXISTS"
           " (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND"
           " d.state = 'pending')",
}
_OLDEST_5PCT = {
    "events": "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET"
              " (SELECT COUNT(*) / 20 FROM events)",
    "responses": "SELECT seq FROM responses ORDER BY seq LIMIT 1 OFFSET"
                 " (SELECT COUNT(*) / 20 FROM responses)",
}


def _drop_events(conn: sqlite3.Connection, by: str, bound: float) -> int:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (seq INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM doomed")
    conn.execute(_DOOMED[by], (bound,))
    conn.execute("DELETE FROM attempts WHERE event_seq IN (SELECT seq FROM doomed)")
    conn.execute("DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM doomed)")
    return int(conn.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM doomed)")
               .rowcount)


def prune(conn: sqlite3.Connection, *, max_age: float | None, max_bytes: int | None,
          now: float | None = None) -> Pruned:
    """Drop rows older than `max_age` seconds, then the oldest until the rows use at most
    `max_bytes`; runs in the caller's transaction (the journal writer's, or its own)."""
    before = used_bytes(conn)
    events = responses = 0
    if max_age is not None:
        cutoff = (time.time() if now is None else now) - max_age
        events += _drop_events(conn, "age", cutoff)
        responses += conn.execute("DELETE FROM responses WHERE received_at < ?",
                                  (cutoff,)).rowcount
    for _ in range(SIZE_STEPS if max_bytes is not None else 0):
        assert max_bytes is not None
        if used_bytes(conn) <= max_bytes:
            break
        step = [conn.execute(_OLDEST_5PCT[table]).fetchone() for table in ("events", "responses")]
        if step == [None, None]:
            break
        if step[0] is not None:
            events += _drop_events(conn, "seq", step[0][0])
        if step[1] is not None:
            responses += conn.execute("DELETE FROM responses WHERE seq <= ?",
                                      (step[1][0],)).rowcount
    return Pruned(events, responses, before, used_bytes(conn))


def prune_file(path: Path | str, *, max_age: float | None, max_bytes: int | None,
               compact: bool = False) -> Pruned:
    """`prune` in a transaction of its own on the journal at `path`; `compact` also gives
    the freed pages back to the file system (VACUUM: it rewrites the file)."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = prune(conn, max_age=max_age, max_bytes=max_bytes)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if compact:
            conn.execute("VACUUM")
        return result
    finally:
        conn.close()
