"""Who runs the local cluster of a home, decided by a file lock, and what it started.

One supervisor per home, always: the supervisor holds an exclusive `flock` on
`supervisor.lock` for its whole life, and the kernel releases it the moment the process
exits (a zombie included), so "is a supervisor running here?" never depends on a health
check answering in time. Every process the supervisor starts leaves a pid file under
`pids/`, so `local down` (or the next supervisor) can stop orphans a crashed supervisor
left behind, and only those: a pid is signalled only while its command line is still one
of ours for this home.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path
from typing import IO

from seldon_jupyter.home import private_dir, private_file

LOCK_FILE = "supervisor.lock"
PIDS_DIR = "pids"
OUR_MODULES = "seldon_jupyter.backends.local."
ALREADY_RUNNING = 75  # a supervisor's exit code (EX_TEMPFAIL): the lock is held by another
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL


def take(home: Path) -> IO[str] | None:
    """The home's supervisor lock, held until the returned file is closed (or the process
    exits); None when another process holds it."""
    handle = open(private_file(home / LOCK_FILE), "r+")  # noqa: SIM115 - held for life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.truncate(0)  # only the holder rewrites the pid in it
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def held(home: Path) -> bool:
    """Whether a supervisor holds this home's lock right now."""
    path = home / LOCK_FILE
    if not path.exists():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def holder(home: Path) -> int | None:
    """The pid the lock's holder wrote, if a supervisor holds the lock."""
    if not held(home):
        return None
    with contextlib.suppress(OSError, ValueError):
        return int((home / LOCK_FILE).read_text().strip() or "0") or None
    return None


def wait_released(home: Path, timeout: float) -> bool:
    """Wait (bounded) until no supervisor holds the lock; True if it was released."""
    deadline = time.monotonic() + timeout
    while held(home):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _pid_file(home: Path, name: str) -> Path:
    return private_dir(home / PIDS_DIR) / (name.replace("/", ".") + ".pid")


def record(home: Path, name: str, pid: int) -> None:
    """Remember that this home's supervisor started process `pid` as `name`."""
    path = _pid_file(home, name)
    private_file(path)
    path.write_text(str(pid))


def forget(home: Path, name: str, pid: int) -> None:
    path = _pid_file(home, name)
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text()) == pid:
            path.unlink()


def ours(pid: int, home: Path) -> bool:
    """Whether `pid` still runs one of the kit's local servers for this home (a pid can be
    reused by anything once its process is gone). Zombies do not count."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if status.rpartition(")")[2].split()[:1] == ["Z"]:
        return False
    args = [part.decode(errors="replace") for part in cmdline]
    return (any(arg.startswith(OUR_MODULES) for arg in args)
            and any(arg.startswith(str(home)) for arg in args))


def _started(pid: int) -> tuple[str, str] | None:
    """A process's state letter and start time (clock ticks since boot) from
    /proc/<pid>/stat; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], fields[19]


def _alive(pid: int, started: str) -> bool:
    """Whether the process that had start time `started` still exists and is not a zombie.
    A process in the middle of exiting already has an empty command line (so `ours` says
    no) while it still closes its files and sockets: only its state says it is done."""
    now = _started(pid)
    return now is not None and now[1] == started and now[0] not in ("Z", "X", "x")


def stop_pids(pids: list[int], home: Path, grace: float = STOP_GRACE) -> list[int]:
    """SIGTERM each of ours, then SIGKILL what is still alive after `grace`, and wait until
    each has exited (bounded by `grace` again); returns the pids that were signalled."""
    mine: dict[int, str] = {}
    for pid in pids:
        facts = _started(pid)
        if pid != os.getpid() and facts is not None and ours(pid, home):
            mine[pid] = facts[1]  # a pid reused later has another start time
    for pid in mine:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGCONT)  # a stopped process handles SIGTERM only once resumed
    _wait_gone(mine, grace)
    for pid, started in mine.items():
        if _alive(pid, started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    _wait_gone(mine, grace)  # SIGKILL is delivered asynchronously
    return list(mine)


def _wait_gone(pids: dict[int, str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (any(_alive(pid, started) for pid, started in pids.items())
           and time.monotonic() < deadline):
        time.sleep(0.02)


def orphans(home: Path) -> dict[int, Path]:
    """Pids recorded under `pids/` that still run one of ours for this home (stale pid
    files are removed on the way)."""
    found: dict[int, Path] = {}
    folder = home / PIDS_DIR
    for path in sorted(folder.glob("*.pid")) if folder.exists() else []:
        try:
            pid = int(path.read_text())
        except (OSError, ValueError):
            pid = 0
        if pid and ours(pid, home):
            found[pid] = path
        else:
            path.unlink(missing_ok=True)
    return found


def reap_orphans(home: Path) -> list[int]:
    """Stop every process a previous supervisor of this home left behind."""
    found = orphans(home)
    stopped = stop_pids(list(found), home)
    for path in found.values():
        path.unlink(missing_ok=True)
    return stopped
