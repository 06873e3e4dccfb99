from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3

import pytest

from seldon_jupyter import events, journal, journal_ops


def event(i: int) -> events.Event:
    return events.new_event({"i": i}, type="t", source="s", id=f"e{i}")


def test_concurrent_writes_are_all_committed_in_batches(tmp_path):
    j = journal.Journal(tmp_path / "j.sqlite", batch=64)
    futures = [j.submit(journal_ops.insert_event(event(i), namespace="ns", broker="b", ttl=255,
                                             triggers=["ns/t1", "ns/t2"]))
               for i in range(1000)]
    seqs = [f.result(timeout=30) for f in futures]
    j.close()
    assert sorted(seqs) == list(range(1, 1001))
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1000
    assert conn.execute("SELECT count(*) FROM deliveries WHERE state='pending'").fetchone()[0] \
        == 2000
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failing_operation_does_not_undo_its_batch_neighbours(tmp_path):
    j = journal.Journal(tmp_path / "j.sqlite")

    def broken(conn):
        conn.execute("INSERT INTO events (id) VALUES ('half-written')")  # violates NOT NULL

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ok = [pool.submit(lambda i=i: j.submit(journal_ops.insert_event(
            event(i), namespace="n", broker="b", ttl=1)).result()) for i in range(20)]
        bad = j.submit(broken)
        results = [f.result() for f in ok]
    with pytest.raises(sqlite3.IntegrityError):
        bad.result()
    j.close()
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == len(results) == 20


def test_ops_awaited_in_one_loop_iteration_commit_as_one_batch_and_fail_alone(tmp_path):
    j = journal.Journal(tmp_path / "j.sqlite")
    commits = []
    original = j._commit

    def counting(items):
        commits.append(len(items))
        return original(items)

    j._commit = counting  # type: ignore[method-assign]

    def broken(conn):
        conn.execute("INSERT INTO events (id) VALUES ('half-written')")  # violates NOT NULL

    async def main():
        ops = [journal_ops.insert_event(event(i), namespace="n", broker="b", ttl=1)
               for i in range(50)]
        ops.insert(25, broken)
        return await asyncio.gather(*(j.run(op) for op in ops), return_exceptions=True)

    results = asyncio.run(main())
    j.close()
    assert commits == [51]  # one hand-off and one transaction for the whole iteration
    assert isinstance(results[25], sqlite3.IntegrityError)
    seqs = results[:25] + results[26:]
    assert sorted(seqs) == list(range(1, 51))  # the neighbours committed, in order
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 50
    assert conn.execute("SELECT count(*) FROM events WHERE id='half-written'").fetchone()[0] == 0


def test_a_journal_from_before_shapes_learns_its_name_sets_once(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = journal.connect(path)
    conn.execute("INSERT INTO responses (sink, id, type, source, attributes, received_at,"
                 " names) VALUES ('s', 'i', 't', 's', '{}', 1.0, '[\"t:0\"]')")
    conn.execute("DROP TABLE shapes")  # as a kit from before 2026-12 left it
    conn.close()
    conn = journal.connect(path)
    assert conn.execute("SELECT names FROM shapes").fetchall() == [('["t:0"]',)]
    conn.execute("DELETE FROM shapes")
    conn.close()
    conn = journal.connect(path)  # not again on every connect: the table exists now
    assert conn.execute("SELECT count(*) FROM shapes").fetchone()[0] == 0
    conn.close()
