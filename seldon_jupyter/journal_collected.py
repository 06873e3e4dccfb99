"""What a Session on a cluster writes to its own journal: the requests it sent (a cluster's
broker is remote, so nothing else journals them) and the responses it collected from the
cluster's sinks, each sink instance read exactly once through a cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from seldon_jupyter.events import Event
from seldon_jupyter.journal import SENT, connect
from seldon_jupyter.journal_ops import insert_event, insert_response


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
