"""`make bench`: every performance figure of the kit beside a baseline from the same run.

Everything runs on 127.0.0.1 in fresh temporary homes and prints one table: value,
baseline, ratio, target, and whether the target is met. How to read it: benchmarks/README.md.
Sections (each can be skipped, e.g. `--skip scale`):
  stream    end to end through the kit's broker vs the predictor alone and vs a minimal
            broker in front of the same predictor, with CPU us/event of every process;
            paced latency; bulk send vs a naive loop
  journal   the journal's group commit vs raw SQLite
  frames    responses() over --rows journaled responses vs pd.DataFrame(list_of_dicts);
            memory; the newest 100 rows with since=
  scale     Triggers on the broker (--triggers); the stream, since= and one ingest with a
            journal of --journal-sizes events and as many responses
Usage: python benchmarks/run.py [--events 6000] [--rows 1000000] [--skip SECTION ...]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import e2e
import frames
import numpy as np
import pandas as pd
import requests
from journal_bench import journal_rates
from procs import machine
from sklearn.datasets import load_iris

from seldon_jupyter import event_http, events
from seldon_jupyter.session import Session

ROWS: list[tuple[str, float, float | None, str, bool | None]] = []


def row(measure: str, value: float, baseline: float | None = None, target: str = "",
        met: bool | None = None) -> None:
    ROWS.append((measure, value, baseline, target, met))
    print(_line(ROWS[-1]), flush=True)


def _line(r: tuple[str, float, float | None, str, bool | None]) -> str:
    measure, value, baseline, target, met = r
    ratio = f"{value / baseline:.2f}" if baseline else ""
    base = "" if baseline is None else f"{baseline:.1f}"
    verdict = "" if met is None else ("met" if met else "NOT MET")
    shown = f"{value:>11.2f}" if abs(value) < 10 else f"{value:>11.1f}"
    return f"{measure:<58}{shown}{base:>11}{ratio:>7}  {target:<22}{verdict}"


def cpu_rows(label: str, run: e2e.Run, names: list[str]) -> None:
    for name in names:
        row(f"  {label}: {name} CPU us/event", run.cpu_us.get(name, math.nan))


def stream(session: Session, args: argparse.Namespace) -> None:
    address = e2e.setup(session)
    alone = e2e.predictor_alone(session, address, args.events)
    kit = e2e.kit(session, args.events)
    mini = e2e.minimal(session, address, args.events)
    layers = {layer: e2e.minimal(session, address, args.events, layer)
              for layer in ("http1", "httptools")}
    predictor = next(n for n in kit.cpu_us if "iris" in n)
    broker_us, model_us = kit.cpu_us["broker"], alone.cpu_us[predictor]
    row("end to end ev/s vs the predictor alone", kit.rate, alone.rate, ">= 0.75x",
        kit.rate >= 0.75 * alone.rate)
    best = max([mini, *layers.values()], key=lambda run: run.rate)  # the strictest baseline
    row("end to end ev/s vs the minimal broker (fastest layer)", kit.rate, best.rate,
        ">= 0.9x", kit.rate >= 0.9 * best.rate)
    row("broker CPU us/event (whole path)", broker_us, 400.0, "<= 400 us", broker_us <= 400)
    row("broker CPU us/event vs the predictor's own", broker_us, model_us, "<= 1.0x",
        broker_us <= model_us)
    row("minimal broker CPU us/event (aiohttp server and client)",
        mini.cpu_us["minimal broker"])
    row("  the same, aiohttp server + the kit's http1 client",
        layers["http1"].cpu_us["minimal broker"], mini.cpu_us["minimal broker"])
    row("  the same, httptools server + the kit's http1 client",
        layers["httptools"].cpu_us["minimal broker"], mini.cpu_us["minimal broker"])
    row("  minimal broker ev/s by layer: aiohttp / http1 / httptools", mini.rate)
    row("                                                     http1", layers["http1"].rate)
    row("                                                 httptools",
        layers["httptools"].rate)
    cpu_rows("kit path", kit, ["broker", predictor, "client", "supervisor"])
    cpu_rows("minimal path", mini, [predictor, "client"])
    row("  latency p50 ms in the burst", kit.p50)
    row("  latency p99 ms in the burst", kit.p99)
    paced = e2e.kit(session, int(args.rate * 5), args.rate)
    row(f"paced {args.rate:g}/s latency p50 ms", paced.p50)
    row(f"paced {args.rate:g}/s latency p99 ms", paced.p99, None, "<= 10 ms", paced.p99 <= 10)
    ours, naive = bulk_send(session, args.bulk)
    row(f"send_many of {args.bulk} rows ev/s vs naive loop", ours, naive, ">= 10x",
        ours >= 10 * naive)


def bulk_send(session: Session, rows: int) -> tuple[float, float]:
    """(send_many events/s, DataFrame to last 202 included; naive loop events/s)."""
    frame = pd.DataFrame(np.tile(load_iris().data, (rows // 150 + 1, 1))[:rows],
                         columns=["sl", "sw", "pl", "pw"])
    start = time.perf_counter()
    summary = session.send_many(frame, type="bench.bulk", broker="bulk")
    ours = rows / (time.perf_counter() - start)
    assert summary.failed == 0
    url = session.broker_url("bulk")
    naive_rows = frame.head(rows // 5)
    start = time.perf_counter()
    for values in naive_rows.itertuples(index=False):
        event = events.new_event({"data": {"ndarray": [list(values)]}}, type="bench.naive",
                                 source="bench")
        headers, body = event_http.to_binary(event)
        assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 202
    return ours, len(naive_rows) / (time.perf_counter() - start)


def journal_section() -> None:
    ours, raw = journal_rates()
    row("journal rows/s (64 writers) vs raw SQLite 64/txn", ours, raw, ">= 15000 rows/s",
        ours >= 15_000)


def frames_section(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite"
        frames.fill(path, rows)
        ours, baseline, memory = frames.build(path, rows)
        row(f"responses() of {rows} rows s vs pd.DataFrame(dicts)", ours, baseline,
            "<= 1.0x", ours <= baseline)
        row("  peak memory / the frame's own size", memory, None, "<= 1.5x", memory <= 1.5)
        newest = frames.newest(path, rows)
        row(f"responses(since=) newest 100 of {rows} rows ms", newest, None, "<= 50 ms",
            newest <= 50)


def scale_section(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as home, Session(home=home) as session:
        try:
            e2e.setup(session)
            have = 0
            for total in args.triggers:
                run = e2e.with_triggers(session, have, max(total - 2, 0), args.events // 2)
                have = max(have, total - 2)
                row(f"{total} Triggers: end to end ev/s", run.rate)
                row(f"{total} Triggers: broker CPU us/event", run.cpu_us["broker"])
            have = 0
            for size in args.journal_sizes:  # the same stream into a journal this full
                frames.fill(session.backend.journal_path(), size - have, start=have,
                            with_events=True)
                os.sync()  # the fill's dirty pages written back before the clock, not during
                have = size
                run = e2e.kit(session, args.events // 2)
                row(f"{size} journaled: end to end ev/s", run.rate)
                row(f"{size} journaled: broker CPU us/event", run.cpu_us["broker"])
        finally:
            session.backend.down()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite"
        have = 0
        for size in args.journal_sizes:
            frames.fill(path, size - have, start=have, with_events=True)
            have = size
            row(f"{size} journaled: responses(since=) newest 100 ms",
                frames.newest(path, size), None, "flat as it grows")
            row(f"{size} journaled: count(since=) ms", frames.count_since(path, size))
            row(f"{size} journaled: one idempotent ingest ms (dedupe lookup)",
                frames.ingest_ms(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument("--triggers", type=int, nargs="*", default=[2, 10, 100, 1000])
    parser.add_argument("--journal-sizes", type=int, nargs="*",
                        default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["stream", "journal", "frames", "scale"])
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    print(f"{'measure':<58}{'value':>11}{'baseline':>11}{'ratio':>7}  {'target':<22}",
          flush=True)
    if "stream" not in args.skip:
        with tempfile.TemporaryDirectory() as home, Session(home=home) as session:
            try:
                stream(session, args)
            finally:
                session.backend.down()
    if "journal" not in args.skip:
        journal_section()
    if "frames" not in args.skip:
        frames_section(args.rows)
    if "scale" not in args.skip:
        scale_section(args)
    missed = [r[0] for r in ROWS if r[4] is False]
    print(f"machine at the end: {machine()}")
    print(f"{len([r for r in ROWS if r[4]])} targets met, {len(missed)} not met"
          + (": " + "; ".join(m.strip() for m in missed) if missed else ""))


if __name__ == "__main__":
    main()
