"""Journal group commit: the kit's writer against raw SQLite doing the same inserts.

Both write the same `events` rows (an iris request, its attributes, no triggers) into a
fresh journal with the kit's schema and pragmas. The kit's rows come from 64 coroutines
awaiting `Journal.run` at once, as the broker's ingress does; the baseline is a plain
`executemany` of 64 rows per transaction on one connection, the least SQLite can cost.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from seldon_jupyter import events, journal, journal_ops

GROUP = 64


def _event(i: int) -> events.Event:
    return events.new_event({"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}},
                            type="seldon.iris.request", source="bench", id=f"bench-{i}")


async def _kit(path: Path, batch: list[events.Event]) -> float:
    writer = journal.Journal(path)
    try:
        queue = iter(batch)

        async def worker() -> None:
            for event in queue:
                await writer.run(journal_ops.insert_event(event, namespace="default",
                                                          broker="default", ttl=255))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(GROUP)))
        return len(batch) / (time.perf_counter() - start)
    finally:
        writer.close()


def _raw(path: Path, batch: list[events.Event]) -> float:
    conn = journal.connect(path)
    now = time.time()
    rows = [(e.id, e.type, e.source, "default", "default", json.dumps(dict(e.attributes)),
             e.data, now, 255, None, None, "accepted", None, None) for e in batch]
    start = time.perf_counter()
    for i in range(0, len(rows), GROUP):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO events (id, type, source, namespace, broker, attributes, data,"
            " received_at, ttl, parent_seq, via_trigger, status, reason, headers)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows[i:i + GROUP])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def journal_rates(n: int = 20_000) -> tuple[float, float]:
    """(the kit's journal rows/s, raw SQLite group commit rows/s), same rows, same disk."""
    batch = [_event(i) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_kit(Path(tmp) / "kit.sqlite", batch))
        raw = _raw(Path(tmp) / "raw.sqlite", batch)
    return ours, raw


if __name__ == "__main__":
    kit, raw = journal_rates()
    print(f"journal rows/s: kit {kit:.0f}, raw SQLite {raw:.0f}, ratio {kit / raw:.2f}")
