"""Events through the local cluster, each run beside the least it could cost.

- the kit's broker: send_many -> ingress -> journal -> Trigger -> predictor -> reply ->
  journal -> collector -> journal, until the last response row is committed;
- the predictor alone: the same CloudEvent requests straight to it, 32 in flight;
- the minimal broker (`minimal_broker.py`) in front of the same predictor, fed by the
  same client doing the same work in the clock: `send_many`'s event building from the
  rows and `send_bulk` on the kit's uvloop thread;
with the CPU seconds per event of every process (procs.py), so "the broker costs more
than its model" is a measured statement, not a guess from wall time.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np
import requests
from procs import Meter, cluster_pids
from sklearn.datasets import load_iris

from seldon_jupyter import _loop, batch, events, journal_reader, resources, sender, tables
from seldon_jupyter.backends.base import SendTarget
from seldon_jupyter.backends.local.state import read_state
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session

IN_FLIGHT = 32
HERE = Path(__file__).resolve().parent


@dataclass
class Run:
    rate: float  # events/s
    cpu_us: dict[str, float]  # CPU microseconds per event, by process
    p50: float = float("nan")
    p99: float = float("nan")


def rows(n: int) -> np.ndarray:
    return np.tile(load_iris().data, (n // 150 + 1, 1))[:n]


def token(session: Session) -> str:
    state = read_state(Path(session.backend.home))  # type: ignore[attr-defined]
    assert state is not None
    return state.token


def _meter(session: Session, extra: dict[str, int] | None = None) -> Meter:
    pids = cluster_pids(Path(session.backend.home))  # type: ignore[attr-defined]
    return Meter({**pids, "client": os.getpid(), **(extra or {})})


def predictor_alone(session: Session, url: str, n: int) -> Run:
    body = b'{"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}'
    headers = {"Ce-Id": "x", "Ce-Specversion": "1.0", "Ce-Type": "bench", "Ce-Source": "bench",
               "Content-Type": "application/json", "Authorization": f"Bearer {token(session)}"}

    async def burst() -> float:
        sem = asyncio.Semaphore(IN_FLIGHT)
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as http:
            async def one() -> None:
                async with sem, http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return n / (time.perf_counter() - start)

    meter = _meter(session).start()
    rate = asyncio.run(burst())
    meter.stop()
    return Run(rate, meter.per_event_us(n))


def kit(session: Session, n: int, rate: float | None = None) -> Run:
    """n iris rows through the kit's broker (burst, or paced at `rate`)."""
    since = time.time()
    meter = _meter(session).start()
    start = time.perf_counter()
    summary = session.send_many(rows(n), type=request_type("iris"), concurrency=IN_FLIGHT,
                                rate=rate)
    assert summary.failed == 0, summary.errors[:3]
    path = session.backend.journal_path()
    deadline = time.monotonic() + 300
    while journal_reader.count_responses(path, type=response_type("iris"), since=since) < n:
        if time.monotonic() > deadline:
            raise SystemExit("responses did not all arrive within 300 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    meter.stop()
    latency = session.responses(type=response_type("iris"), since=since)["latency_ms"]
    return Run(n / elapsed, meter.per_event_us(n), latency.quantile(0.5),
               latency.quantile(0.99))


def minimal(session: Session, predictor_url: str, n: int, layer: str = "aiohttp") -> Run:
    """The same events, the same client, through minimal_broker.py (on HTTP layer `layer`)
    to the same predictor."""
    env = {**os.environ, "SELDON_JUPYTER_TOKEN": token(session)}
    proc = subprocess.Popen([sys.executable, str(HERE / "minimal_broker.py"), predictor_url,
                             "--layer", layer], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        target = SendTarget(url + "/default/default")
        _loop.run(sender.send_bulk(target, _events(rows(300))))  # connections, warm caches
        counted = _replies(url)
        meter = _meter(session, {"minimal broker": proc.pid}).start()
        start = time.perf_counter()
        summary = _loop.run(sender.send_bulk(target, _events(rows(n)), concurrency=IN_FLIGHT))
        assert summary.failed == 0, summary.errors[:3]
        deadline = time.monotonic() + 300
        while _replies(url) < counted + n:
            if time.monotonic() > deadline:
                raise SystemExit("the minimal broker's replies did not all arrive")
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        meter.stop()
        return Run(n / elapsed, meter.per_event_us(n))
    finally:
        proc.terminate()
        proc.wait(10)


def _events(data: np.ndarray) -> Sequence[events.Event]:
    """The events `send_many` builds for these rows, built the way it builds them (as the
    sender takes them), so both clients do the same work inside the clock."""
    items = tables.split_rows(data, "ndarray", None, "seldon")
    return batch.build(items, lazy=tables.checked_rows(data, "ndarray", "seldon"),
                       type=request_type("iris"), source="bench")


def _replies(url: str) -> int:
    return int(requests.get(url + "/count", timeout=10).json()["replies"])


def setup(session: Session) -> str:
    """The walkthrough's topology: Broker, iris predictor, its Trigger and a collector.
    Returns the predictor's address."""
    session.ensure_broker()
    session.ensure_broker("bulk")
    sdep = session.deploy("iris")
    session.apply(resources.trigger("to-iris", filter={"type": request_type("iris")},
                                    deployment="iris"), wait=True)
    session.collector(type=response_type("iris"))
    kit(session, 300)  # warm up connections and the journal
    return str(sdep.address)


def with_triggers(session: Session, have: int, total: int, n: int) -> Run:
    """The kit's path with `total` Triggers on the default broker (`have` of them there
    already), one matching: the walkthrough's two, and others that filter on types
    nobody sends and point at a port nothing listens on."""
    extra = [resources.trigger(f"other-{i}", filter={"type": f"bench.other.{i}"},
                               uri="http://127.0.0.1:9/") for i in range(have, total)]
    if extra:
        session.apply(extra, wait=True)
    return kit(session, n)
