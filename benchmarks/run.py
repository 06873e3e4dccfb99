"""Local-backend benchmarks, each beside a baseline measured in the same run.

Everything runs in a fresh workdir on 127.0.0.1 only, and prints one table:
  end to end     send_many -> broker -> predictor -> reply -> broker -> collector -> journal,
                 timed until the last response row is committed; baseline: the predictor's
                 own rate (CloudEvent requests straight to it, 32 in flight);
  paced latency  p50/p99 end-to-end latency of a steady stream at --rate events/s;
  bulk send      Session.send_many of a 10k-row DataFrame to a broker; baseline: a naive
                 loop of events.new_event + requests.post per row;
  DataFrame      journal -> Session.responses() for --rows response events; baseline:
                 pd.DataFrame(list_of_dicts) of the same rows already in memory.
Usage: python benchmarks/run.py [--events 6000] [--rate 500] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import pandas as pd
import requests
from sklearn.datasets import load_iris

from seldon_jupyter import events, journal, resources, store
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session


async def predictor_rate(url: str, n: int, in_flight: int = 32) -> float:
    body = json.dumps({"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}).encode()
    headers = {"Ce-Id": "x", "Ce-Specversion": "1.0", "Ce-Type": "bench", "Ce-Source": "bench",
               "Content-Type": "application/json"}
    sem = asyncio.Semaphore(in_flight)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as http:
        async def one() -> None:
            async with sem, http.post(url, data=body, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - start)


def stream(session: Session, n: int, rate: float | None) -> tuple[float, float, float]:
    """(events/s end to end, p50 ms, p99 ms) for n iris rows sent at `rate` (None: burst)."""
    X = np.tile(load_iris().data, (n // 150 + 1, 1))[:n]
    since = time.time()
    start = time.perf_counter()
    summary = session.send_many(X, type=request_type("iris"), concurrency=32, rate=rate)
    assert summary.failed == 0, summary.errors[:3]
    path = session.backend.journal_path()
    deadline = time.monotonic() + 300
    while store.count_responses(path, type=response_type("iris"), since=since) < n:
        if time.monotonic() > deadline:
            raise SystemExit("responses did not all arrive within 300 s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    latency = session.responses(type=response_type("iris"), since=since)["latency_ms"]
    return n / elapsed, latency.quantile(0.5), latency.quantile(0.99)


def bulk_send(session: Session, rows: int) -> tuple[float, float]:
    """(send_many events/s, naive loop events/s) into a broker with no triggers."""
    frame = pd.DataFrame(np.tile(load_iris().data, (rows // 150 + 1, 1))[:rows],
                         columns=["sl", "sw", "pl", "pw"])
    summary = session.send_many(frame, type="bench.bulk", broker="bulk")
    assert summary.failed == 0
    url = session.broker_url("bulk")
    naive_rows = frame.head(rows // 5)
    start = time.perf_counter()
    for row in naive_rows.itertuples(index=False):
        event = events.new_event({"data": {"ndarray": [list(row)]}}, type="bench.naive",
                                 source="bench")
        headers, body = events.to_binary(event)
        assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 202
    naive = len(naive_rows) / (time.perf_counter() - start)
    return summary.rate, naive


def frame_build(rows: int) -> tuple[float, float]:
    """(seconds for store.responses, seconds for pd.DataFrame(list_of_dicts))."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite"
        conn = journal.connect(path)
        reply = events.new_event({"data": {"names": ["t:0", "t:1", "t:2"],
                                           "ndarray": [[0.1, 0.2, 0.7]]}, "meta": {}},
                                 type="seldon.iris.default.response", source="seldon.iris",
                                 specversion="0.3")
        names, nrows, row0 = journal.prediction_columns(reply)
        attrs = json.dumps(dict(reply.attributes))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO responses (sink, id, type, source, time, attributes, data, received_at,"
            " event_seq, names, nrows, row0) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (("default/event-display", f"id{i}", reply.type, reply.source, None, attrs,
              reply.data, 1.7e9 + i, None, names, nrows, row0) for i in range(rows)))
        conn.execute("COMMIT")
        conn.close()
        start = time.perf_counter()
        frame = store.responses(path)
        ours = time.perf_counter() - start
        assert len(frame) == rows
        records = [{"seq": i, "id": f"id{i}", "type": reply.type, "source": reply.source,
                    "time": None, "sink": "default/event-display", "received_at": 1.7e9 + i,
                    "request_id": None, "request_type": None, "latency_ms": None,
                    "attributes": attrs, "t:0": 0.1, "t:1": 0.2, "t:2": 0.7,
                    "data": reply.data.decode()} for i in range(rows)]
        start = time.perf_counter()
        pd.DataFrame(records)
        return ours, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bulk", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, Session(home=home) as session:
        try:
            session.ensure_broker()
            session.ensure_broker("bulk")
            sdep = session.deploy("iris")
            session.apply(resources.trigger("to-iris", filter={"type": request_type("iris")},
                                            deployment="iris"), wait=True)
            session.collector(type=response_type("iris"))
            stream(session, 300, None)  # warm up connections and the journal
            base = asyncio.run(predictor_rate(sdep.address, args.events))
            e2e, b50, b99 = stream(session, args.events, None)
            _, p50, p99 = stream(session, int(args.rate * 5), args.rate)
            ours, naive = bulk_send(session, args.bulk)
        finally:
            session.backend.down()
    frame_s, baseline_s = frame_build(args.rows)
    print(f"{'measure':<46}{'value':>12}{'baseline':>12}{'ratio':>8}")
    print(f"{'end to end events/s (burst, 32 in flight)':<46}{e2e:>12.0f}{base:>12.0f}"
          f"{e2e / base:>8.2f}")
    print(f"{'  latency p50 / p99 ms in that burst':<46}{b50:>12.1f}{b99:>12.1f}")
    print(f"{f'paced {args.rate:g}/s latency p50 / p99 ms':<46}{p50:>12.1f}{p99:>12.1f}")
    print(f"{f'send_many {args.bulk} rows events/s vs naive loop':<46}{ours:>12.0f}"
          f"{naive:>12.0f}{ours / naive:>8.2f}")
    print(f"{f'{args.rows} responses -> DataFrame seconds':<46}{frame_s:>12.2f}"
          f"{baseline_s:>12.2f}{frame_s / baseline_s:>8.2f}")


if __name__ == "__main__":
    main()
