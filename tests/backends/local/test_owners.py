"""One supervisor per home, decided by its lock; `local down` stops all it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seldon_jupyter.backends.local import owners
from seldon_jupyter.backends.local.backend import LocalBackend
from seldon_jupyter.errors import BackendError
from seldon_jupyter.session import Session
from tests.helpers import pid_listening_on, python_sdep, wait_for

pytestmark = pytest.mark.slow
SUPERVISOR = "seldon_jupyter.backends.local.supervisor"


def supervisors(home: Path) -> list[int]:
    """Every live (non-zombie) supervisor process of `home`, from /proc."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if SUPERVISOR.encode() in args and str(home).encode() in args and owners.ours(
                int(pid), home):
            found.append(int(pid))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_a_second_supervisor_on_the_same_home_exits_at_once(tmp_path):
    backend = LocalBackend(tmp_path)
    try:
        first = backend.running()
        assert first is not None and owners.holder(backend.home) == first.pid
        second = subprocess.run([sys.executable, "-m", SUPERVISOR, "--home", str(backend.home)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == owners.ALREADY_RUNNING
        assert f"another supervisor (pid {first.pid}) already runs" in second.stderr
        assert backend.running() == first  # same pid, ports and token
        assert supervisors(backend.home) == [first.pid]
    finally:
        backend.down()
        backend.close()


def test_a_stalled_supervisor_is_waited_for_never_joined_by_a_second(tmp_path):
    """A supervisor slow to answer (a huge manifest stalled one for 12.5 s) used to get a
    second one started beside it by another kernel, with a new token and no port."""
    backend = LocalBackend(tmp_path)
    first = backend.running()
    assert first is not None
    os.kill(first.pid, signal.SIGSTOP)
    try:
        with pytest.raises(BackendError, match="has not answered for 3s") as info:
            LocalBackend(tmp_path, start_timeout=3)
        assert "local down" in (info.value.hint or "")
        assert supervisors(backend.home) == [first.pid]
    finally:
        os.kill(first.pid, signal.SIGCONT)
    try:
        again = LocalBackend(tmp_path)
        assert again.running() == first
        again.close()
    finally:
        backend.down()
        backend.close()


def test_down_stops_the_orphans_of_a_killed_supervisor_in_seconds(tmp_path, python_models):
    session = Session(home=tmp_path, namespace="orphans")
    try:
        session.ensure_broker()
        session.apply(python_sdep("echo", "Echo", python_models, "orphans"), wait=True,
                      timeout=90)
        state = session.backend.running()
        model_port = int(session.get("sdep", "echo").address.split(":")[2].split("/")[0])
        children = [pid_listening_on(state.broker_port), pid_listening_on(model_port)]
        assert all(children)
        for pid in children:  # stopped, they cannot notice their parent is gone
            os.kill(pid, signal.SIGSTOP)
        os.kill(state.pid, signal.SIGKILL)
        wait_for(lambda: not owners.held(session.backend.home), timeout=10)
        started = time.monotonic()
        assert LocalBackend(tmp_path, start=False).down() is True
        took = time.monotonic() - started
        assert all(gone(pid) for pid in children), "an orphan survived `local down`"
        assert took < 10, f"local down took {took:.1f}s"
        assert not list((session.backend.home / owners.PIDS_DIR).glob("*.pid"))
    finally:
        session.backend.down()
        session.close()


def test_a_new_supervisor_clears_orphans_and_takes_their_ports_back(tmp_path):
    session = Session(home=tmp_path, namespace="again")
    try:
        session.ensure_broker()
        state = session.backend.running()
        broker = pid_listening_on(state.broker_port)
        os.kill(broker, signal.SIGSTOP)
        os.kill(state.pid, signal.SIGKILL)
        wait_for(lambda: not owners.held(session.backend.home), timeout=10)
        restarted = LocalBackend(tmp_path)
        assert gone(broker)
        assert restarted.running().broker_port == state.broker_port
        assert Session(restarted, namespace="again").send([[1]], type="x").status == 202
        restarted.close()
    finally:
        session.backend.down()
        session.close()


def test_down_of_a_cluster_a_kernel_started_takes_seconds(tmp_path):
    """The supervisor is the starting kernel's child: once it exits it stays a zombie until
    that kernel reaps it, and `local down` from a shell used to wait 30 s on its pid."""
    kernel = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from seldon_jupyter.backends.local.backend import LocalBackend
        LocalBackend({str(tmp_path)!r})
        print("up", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert kernel.stdout is not None and kernel.stdout.readline().strip() == "up"
        started = time.monotonic()
        assert LocalBackend(tmp_path, start=False).down() is True
        wait_for(lambda: not supervisors(tmp_path.resolve()), timeout=10)
        took = time.monotonic() - started
        assert took < 8, f"local down took {took:.1f}s"
    finally:
        kernel.kill()
        kernel.wait()
