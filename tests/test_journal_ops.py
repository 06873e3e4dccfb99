"""The broker's journal operations: deliveries to resume, idempotent repeats, poison rows."""

from __future__ import annotations

import sqlite3

from seldon_jupyter import events, journal, journal_ops


def event(i: int) -> events.Event:
    return events.new_event({"i": i}, type="t", source="s", id=f"e{i}")


def test_pending_deliveries_are_found_until_finished(tmp_path):
    j = journal.Journal(tmp_path / "j.sqlite")
    seq = j.submit(journal_ops.insert_event(event(1), namespace="n", broker="b", ttl=7,
                                            triggers=["n/a", "n/b"])).result()
    j.submit(journal_ops.finish_delivery(seq, "n/a", state=journal.DELIVERED, attempts=1,
                                         code=200, error=None)).result()
    pending = j.submit(journal_ops.pending_deliveries).result()
    j.close()
    assert [(p[0], p[1], p[2].id, p[5]) for p in pending] == [(seq, "n/b", "e1", 7)]


def test_once_takes_a_repeat_within_the_window_as_the_first_copy(tmp_path):
    conn = journal.connect(tmp_path / "j.sqlite")
    first = event(1)

    def take(since: float) -> tuple[int, bool]:
        insert = journal_ops.insert_event(first, namespace="ns", broker="b", ttl=255, at=100.0)
        return journal_ops.once(first, namespace="ns", broker="b", since=since,
                                insert=insert)(conn)

    seq, new = take(since=50.0)
    assert new and take(since=50.0) == (seq, False)  # within the window: the same event
    later, new_again = take(since=150.0)  # the window has passed: a new event
    assert new_again and later != seq
    other_insert = journal_ops.insert_event(first, namespace="ns", broker="c", ttl=255)
    other_broker = journal_ops.once(first, namespace="ns", broker="c", since=0.0,
                                    insert=other_insert)(conn)
    assert other_broker[1] is True
    conn.close()


def test_an_unreadable_pending_row_is_failed_with_the_reason_not_raised(tmp_path):
    """A poison row must not crash the broker's reload on every start."""
    j = journal.Journal(tmp_path / "j.sqlite")
    good = j.submit(journal_ops.insert_event(event(1), namespace="n", broker="b", ttl=9,
                                             triggers=["n/t"])).result()
    bad = j.submit(journal_ops.insert_event(event(2), namespace="n", broker="b", ttl=9,
                                            triggers=["n/t"])).result()
    j.submit(lambda conn: conn.execute("UPDATE events SET attributes = '{broken'"
                                       " WHERE seq = ?", (bad,))).result()
    pending = j.submit(journal_ops.pending_deliveries).result()
    assert [p[0] for p in pending] == [good]
    j.close()
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    state, error = conn.execute("SELECT state, error FROM deliveries WHERE event_seq = ?",
                                (bad,)).fetchone()
    assert state == "failed" and error.startswith("the journaled event could not be read")
