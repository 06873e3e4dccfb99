"""Journal -> DataFrame, against pandas' own constructor over the same rows in memory.

`fill` writes response rows the way the collector journals them (attributes, data, the
flattened prediction columns), and for the scale rows as many events as the broker takes;
`build` times `journal_responses.responses` over them beside `pd.DataFrame(list_of_dicts)`
of the same rows, and the peak memory above the frame's own size; `newest` times a bounded
`since` query, which must not grow with the journal.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import pandas as pd

from seldon_jupyter import events, journal, journal_ops, journal_reader, journal_responses

BASE_TIME = 1.7e9
CHUNK = 100_000


def _reply() -> events.Event:
    return events.new_event({"data": {"names": ["t:0", "t:1", "t:2"],
                                      "ndarray": [[0.1, 0.2, 0.7]]}, "meta": {}},
                            type="seldon.iris.default.response", source="seldon.iris",
                            specversion="0.3")


def fill(path: Path, rows: int, *, start: int = 0, with_events: bool = False) -> None:
    """Append `rows` collected responses (received one millisecond apart), and as many
    events taken by the broker if `with_events` (random ids, as real sends carry: the
    (id, source) index then grows as it does in use)."""
    reply = _reply()
    names, nrows, row0, key = journal_ops.prediction_columns(reply)
    attrs = json.dumps(dict(reply.attributes))
    conn = journal.connect(path)
    conn.execute("INSERT OR IGNORE INTO shapes (names) VALUES (?)", (names,))
    for first in range(start, start + rows, CHUNK):
        last = min(first + CHUNK, start + rows)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO responses (sink, id, type, source, time, attributes, data,"
            " received_at, event_seq, names, nrows, row0, request_key)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (("default/event-display", f"id{i}", reply.type, reply.source, None, attrs,
              reply.data, BASE_TIME + i / 1000, None, names, nrows, row0, key)
             for i in range(first, last)))
        if with_events:
            conn.executemany(
                "INSERT INTO events (id, type, source, namespace, broker, attributes, data,"
                " received_at, ttl, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
                ((str(uuid.uuid4()), "bench.request", "bench", "default", "default", attrs,
                  b'{"data": {"ndarray": [[1, 2, 3, 4]]}}', BASE_TIME + i / 1000, 255,
                  "accepted") for i in range(first, last)))
        conn.execute("COMMIT")
    conn.close()


def _records(rows: int) -> list[dict[str, object]]:
    reply = _reply()
    attrs = json.dumps(dict(reply.attributes))
    return [{"seq": i + 1, "id": f"id{i}", "type": reply.type, "source": reply.source,
             "time": None, "sink": "default/event-display",
             "received_at": BASE_TIME + i / 1000, "request_id": None, "request_type": None,
             "latency_ms": None, "attributes": attrs, "t:0": 0.1, "t:1": 0.2, "t:2": 0.7,
             "data": reply.data.decode()} for i in range(rows)]


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def build(path: Path, rows: int) -> tuple[float, float, float]:
    """(seconds for responses(), seconds for the pandas baseline, peak memory of
    responses() as a multiple of the frame's own deep size)."""
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    before = _rss_kib("VmRSS")
    start = time.perf_counter()
    frame = journal_responses.responses(path)
    ours = time.perf_counter() - start
    peak = (_rss_kib("VmHWM") - before) * 1024
    size = int(frame.memory_usage(deep=True).sum())
    assert len(frame) == rows and frame["t:0"].dtype == "float64", frame.dtypes
    del frame
    records = _records(rows)
    start = time.perf_counter()
    pd.DataFrame(records)
    return ours, time.perf_counter() - start, peak / size


def newest(path: Path, total: int, count: int = 100) -> float:
    """Milliseconds for responses(since=...) of the newest `count` of `total` rows."""
    since = BASE_TIME + (total - count) / 1000
    best = float("inf")
    for _ in range(5):  # the best of five: the page cache is warm for a notebook too
        start = time.perf_counter()
        frame = journal_responses.responses(path, since=since)
        best = min(best, time.perf_counter() - start)
        assert len(frame) == count, len(frame)
    return best * 1000


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM responses").fetchone()[0])
    finally:
        conn.close()


def count_since(path: Path, total: int, count: int = 100) -> float:
    """Milliseconds for the wait loops' count of the newest `count` rows."""
    since = BASE_TIME + (total - count) / 1000
    start = time.perf_counter()
    found = journal_reader.count_responses(path, since=since)
    elapsed = (time.perf_counter() - start) * 1000
    assert found == count, found
    return elapsed


def ingest_ms(path: Path, n: int = 200) -> float:
    """Milliseconds per idempotent ingest (insert with the (source, id) de-duplication
    lookup), as the broker journals a kit send, into a journal of this size."""
    writer = journal.Journal(path)
    try:
        start = time.perf_counter()
        for i in range(n):
            event = events.new_event({"x": i}, type="bench", source="bench", id=f"send-{i}")
            op = journal_ops.insert_event(event, namespace="default", broker="default", ttl=255)
            writer.submit(journal_ops.once(event, namespace="default", broker="default",
                                           since=time.time() - 600, insert=op)).result()
        return (time.perf_counter() - start) / n * 1000
    finally:
        writer.close()
