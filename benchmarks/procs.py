"""CPU time per process, read from /proc, so every figure can say where the time went.

A ratio alone cannot tell a slow broker from a busy machine: the CPU seconds each process
spent during a run, divided by the events it handled, can (a process's CPU time is not
inflated by another process holding the core, only its wall time is).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` (its threads included), 0.0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def cluster_pids(home: Path) -> dict[str, int]:
    """The local cluster's processes by role: supervisor, broker, each model server."""
    found: dict[str, int] = {}
    lock = home / "supervisor.lock"
    if lock.exists() and lock.read_text().strip().isdigit():
        found["supervisor"] = int(lock.read_text())
    for pid_file in sorted((home / "pids").glob("*.pid")):
        text = pid_file.read_text().strip()
        if text.isdigit():
            found[pid_file.stem] = int(text)
    return found


class Meter:
    """CPU seconds of a set of processes between `start()` and `stop()`."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def start(self) -> Meter:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        self.spent = {name: cpu_seconds(pid) - self.before[name]
                      for name, pid in self.pids.items()}
        return self.spent

    def per_event_us(self, events: int) -> dict[str, float]:
        return {name: seconds / events * 1e6 for name, seconds in self.spent.items()}


def machine() -> str:
    """Cores and load average at this moment, printed at the start of every run."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"
