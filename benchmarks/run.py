"""End-to-end throughput of the local backend, beside the predictor's own rate.

Runs in a fresh workdir on 127.0.0.1 only:
  baseline  - CloudEvent requests straight to the predictor (32 in flight);
  end2end   - send_many through broker -> predictor -> reply -> broker -> collector -> journal,
              timed until the last response is journaled.
Prints a table with events/s and the ratio end2end / baseline. Usage:
    python benchmarks/run.py [--events 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

import aiohttp
import numpy as np
from sklearn.datasets import load_iris

from seldon_jupyter import resources, store
from seldon_jupyter.session import Session, request_type, response_type


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


def end_to_end(session: Session, n: int) -> tuple[float, float, float, float]:
    X = np.tile(load_iris().data, (n // 150 + 1, 1))[:n]
    since = time.time()
    start = time.perf_counter()
    summary = session.send_many(X, type=request_type("iris"), concurrency=32)
    assert summary.failed == 0, summary.errors[:3]
    path = session.backend.journal_path()
    deadline = time.monotonic() + 300
    while store.count_responses(path, type=response_type("iris"), since=since) < n:
        if time.monotonic() > deadline:
            raise SystemExit("responses did not all arrive within 300 s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    frame = session.responses(type=response_type("iris"), since=since)
    return n / elapsed, summary.rate, frame["latency_ms"].median(), frame["latency_ms"].quantile(
        0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, Session(home=home) as session:
        try:
            session.ensure_broker()
            sdep = session.deploy("iris")
            session.apply(resources.trigger("to-iris", filter={"type": request_type("iris")},
                                            deployment="iris"), wait=True)
            session.collector(type=response_type("iris"))
            end_to_end(session, 300)  # warm up connections and the journal
            base = asyncio.run(predictor_rate(sdep.address, args.events))
            e2e, send_rate, p50, p99 = end_to_end(session, args.events)
        finally:
            session.backend.down()
    rows = [("predictor alone (baseline)", base, 1.0),
            ("end to end via broker + journal", e2e, e2e / base)]
    print(f"{'measure':<34}{'events/s':>10}{'ratio':>8}")
    for name, rate, ratio in rows:
        print(f"{name:<34}{rate:>10.0f}{ratio:>8.2f}")
    print(f"send_many accept rate {send_rate:.0f}/s; end-to-end latency p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms (burst of {args.events}, 32 in flight)")


if __name__ == "__main__":
    main()
