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

    def counting(items, conn, *, wait):
        commits.append((len(items), conn is j._inline, wait))
        return original(items, conn, wait=wait)

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
    assert commits == [(51, True, False)]  # one transaction for the whole iteration, inline
    assert isinstance(results[25], sqlite3.IntegrityError)
    seqs = results[:25] + results[26:]
    assert sorted(seqs) == list(range(1, 51))  # the neighbours committed, in order
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 50
    assert conn.execute("SELECT count(*) FROM events WHERE id='half-written'").fetchone()[0] == 0


def test_the_loop_commits_inline_and_submit_uses_the_writer_thread(tmp_path):
    import threading

    j = journal.Journal(tmp_path / "j.sqlite")

    def where(conn):
        conn.execute("SELECT 1")
        return threading.get_ident()

    async def main():
        return threading.get_ident(), await j.run(where)

    loop_thread, ran_on = asyncio.run(main())
    writer = j.submit(where).result(timeout=10)
    j.close()
    assert ran_on == loop_thread
    assert writer not in (loop_thread, threading.get_ident())


def test_a_write_lock_held_elsewhere_never_stalls_the_loop_and_order_is_kept(tmp_path):
    path = tmp_path / "j.sqlite"
    j = journal.Journal(path)
    other = journal.connect(path)
    other.execute("BEGIN IMMEDIATE")  # e.g. a Session pruning the journal
    other.execute("INSERT INTO cursors VALUES ('s', 'o', 1)")

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        beat = asyncio.create_task(ticker())
        first = asyncio.create_task(j.run(journal_ops.insert_event(
            event(1), namespace="n", broker="b", ttl=1)))
        await asyncio.sleep(0.3)
        assert not first.done()  # waiting for the lock, in the writer thread
        assert ticks >= 10  # the loop kept turning meanwhile
        other.execute("COMMIT")  # the writer notices at its next retry, some ms later
        second = asyncio.create_task(j.run(journal_ops.insert_event(
            event(2), namespace="n", broker="b", ttl=1)))  # free now, but behind the first
        seqs = await asyncio.wait_for(asyncio.gather(first, second), 30)
        beat.cancel()
        third = await j.run(journal_ops.insert_event(event(3), namespace="n", broker="b",
                                                     ttl=1))
        return seqs, third, j._aside

    seqs, third, aside = asyncio.run(main())
    j.close()
    other.close()
    assert seqs == [1, 2] and third == 3
    assert aside == 0  # back to committing inline once the writer drained


def test_the_writer_checkpoints_what_the_loop_commits(tmp_path, monkeypatch):
    def wal_after(name: str, every: int) -> int:
        monkeypatch.setattr(journal, "CHECKPOINT_EVERY", every)
        path = tmp_path / name
        j = journal.Journal(path)
        reader = journal.connect(path, readonly=True)

        async def main():
            for batch in range(60):
                await asyncio.gather(*(j.run(journal_ops.insert_event(
                    event(batch * 50 + i), namespace="n", broker="b", ttl=1,
                    triggers=["n/t"])) for i in range(50)))
                await asyncio.to_thread(j.submit(lambda conn: None).result, 10)

        asyncio.run(main())
        size = (tmp_path / f"{name}-wal").stat().st_size
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 3000
        reader.close()
        j.close()
        return size

    never = wal_after("never.sqlite", 10**9)
    every = wal_after("every.sqlite", 200)
    assert every * 4 < never, (every, never)


def test_the_loops_connection_keeps_a_larger_page_cache(tmp_path):
    j = journal.Journal(tmp_path / "j.sqlite")
    try:
        assert j._inline.execute("PRAGMA cache_size").fetchone()[0] == -journal.CACHE_KIB
        assert j._inline.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        assert j._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    finally:
        j.close()
