"""The local backend as `Session` sees it: a client of the supervisor's control API.

It finds the running local cluster through the state file, or starts the supervisor as
a detached process (one at a time, under a file lock) and waits until it answers. HTTP
failures become the package's own errors here, at the seam.
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from seldon_jupyter import doctor
from seldon_jupyter.backends.base import Check, Resource, SendTarget, summarize
from seldon_jupyter.backends.local import owners
from seldon_jupyter.backends.local.state import (
    State,
    clear_state,
    home_dir,
    pid_alive,
    read_state,
)
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError
from seldon_jupyter.events import Event
from seldon_jupyter.home import private_file

START_TIMEOUT = 60.0
CONTROL_TIMEOUT = 120.0  # one control-API call (an apply starts model servers synchronously)


SHUTDOWN_WAIT = 15.0  # seconds a supervisor gets to stop its processes before it is killed
WAIT_PAUSE = 0.1  # seconds between two status reads while waiting


class LocalBackend:
    """Embedded default backend: broker and model servers as processes on 127.0.0.1."""

    name = "local"
    default_namespace = "default"

    def __init__(self, home: str | Path | None = None, *, start: bool = True,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.home = home_dir(home)
        self.start_timeout = start_timeout
        self.http = requests.Session()
        self._state: State | None = None
        if start:
            self.up()

    # -- lifecycle --------------------------------------------------------------------------

    def _healthy(self, state: State | None) -> bool:
        if state is None or not pid_alive(state.pid):
            return False
        try:
            return self.http.get(f"{state.control_url}/healthz", timeout=2).ok
        except requests.RequestException:
            return False

    def running(self) -> State | None:
        state = read_state(self.home)
        return state if self._healthy(state) else None

    def up(self) -> State:
        """Return the running local cluster, starting it if needed. The home's supervisor
        lock decides whether one runs: a supervisor that holds it but is slow to answer is
        waited for, never joined by a second one."""
        state = self.running()
        if state is not None:
            self._state = state
            return state
        lock_path = private_file(self.home / "start.lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.running()
            if state is None:
                state = self._await_holder() if owners.held(self.home) else self._spawn()
        self._state = state
        return state

    def _await_holder(self) -> State:
        """Wait (bounded) for the supervisor that holds the home's lock to answer."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not owners.held(self.home):
                return self._spawn()  # it exited meanwhile: start a fresh one
            state = self.running()
            if state is not None:
                return state
            time.sleep(0.1)
        raise BackendError(
            f"the local supervisor (pid {owners.holder(self.home)}) runs in {self.home} but "
            f"has not answered for {self.start_timeout:g}s",
            hint="it may be busy (a very large apply); wait and try again, or stop it with "
                 "`seldon-jupyter local down`")

    def _spawn(self) -> State:
        logs = self.home / "logs"
        logs.mkdir(exist_ok=True, mode=0o700)
        log_path = private_file(logs / "supervisor.log")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "seldon_jupyter.backends.local.supervisor",
                 "--home", str(self.home)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                if proc.returncode == owners.ALREADY_RUNNING:
                    return self._await_holder()  # another client's supervisor won the lock
                tail = log_path.read_text(errors="replace")[-2000:]
                raise BackendError(f"the local supervisor exited with code {proc.returncode}",
                                   hint=f"log {log_path}:\n{tail}")
            state = read_state(self.home)
            if state is not None and state.pid == proc.pid and self._healthy(state):
                return state
            time.sleep(0.05)
        proc.terminate()
        raise BackendError(f"the local supervisor did not start within {self.start_timeout:g}s",
                           hint=f"see {log_path}")

    def down(self) -> bool:
        """Stop the local cluster and everything it started, orphans of a crashed
        supervisor included; False if nothing was running. Takes a few seconds: it waits
        for the supervisor's lock to be released, not for its pid to be reaped."""
        stopped = False
        state = read_state(self.home)
        if state is not None and self._healthy(state):
            with contextlib.suppress(requests.RequestException):
                self.http.post(f"{state.control_url}/v1/shutdown", headers=self._auth(state),
                               timeout=10)
                stopped = True
        if not owners.wait_released(self.home, SHUTDOWN_WAIT if stopped else 0):
            holder = owners.holder(self.home)  # one that does not answer, or did not stop
            if holder is not None and owners.stop_pids([holder], self.home):
                stopped = True
            owners.wait_released(self.home, owners.STOP_GRACE)
        if owners.reap_orphans(self.home):
            stopped = True
        if state is not None and not owners.held(self.home):
            clear_state(self.home, state.pid)
        self._state = None
        return stopped

    # -- control API --------------------------------------------------------------------------

    @staticmethod
    def _auth(state: State) -> dict[str, str]:
        return {"Authorization": f"Bearer {state.token}"}

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        for attempt in range(2):
            state = self._state or self.up()
            try:
                resp = self.http.request(method, state.control_url + path, json=body,
                                         headers=self._auth(state), timeout=CONTROL_TIMEOUT)
                break
            except requests.ConnectionError as exc:
                self._state = None
                if attempt:
                    raise BackendError("the local cluster is not reachable",
                                       hint="run `seldon-jupyter local status`") from exc
        if resp.status_code < 400:
            return resp.json()
        try:
            err = resp.json()
        except ValueError:
            err = {"error": resp.text}
        message, hint = err.get("error", resp.reason), err.get("hint")
        if resp.status_code == 422:
            error = ManifestError(message, hint=hint)
            error.field = err.get("field")
            raise error
        if resp.status_code == 404:
            raise NotFoundError(message, hint=hint)
        raise BackendError(f"local control API answered {resp.status_code}: {message}", hint=hint)

    def apply(self, manifests: list[dict[str, Any]]) -> list[Resource]:
        return [summarize(o) for o in self._call("POST", "/v1/apply",
                                                 {"manifests": manifests})["resources"]]

    def get(self, kind: str, namespace: str, name: str) -> Resource:
        return summarize(self._call("GET", f"/v1/resources/{kind}/{namespace}/{name}"))

    def list(self, namespace: str | None = None) -> list[Resource]:
        found = [summarize(o) for o in self._call("GET", "/v1/resources")["resources"]]
        return [r for r in found if namespace is None or r.namespace == namespace]

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self._call("DELETE", f"/v1/resources/{kind}/{namespace}/{name}")

    def record_sent(self, namespace: str, broker: str, sent: Sequence[Event],
                    at: float) -> None:
        """Nothing to do: the local broker journals what it accepts."""

    def wait_for_change(self, waiting: Sequence[Resource], timeout: float) -> None:
        """Reads are local and cheap: a short pause between them."""
        time.sleep(max(0.0, min(WAIT_PAUSE, timeout)))

    def info(self) -> dict[str, Any]:
        """The running cluster's own report (starts it if needed)."""
        info: dict[str, Any] = self._call("GET", "/v1/info")
        return info

    def start(self) -> dict[str, Any]:
        self.up()
        return self.describe()

    def stop(self) -> bool:
        return self.down()

    def describe(self) -> dict[str, Any]:
        """Where this backend lives, without starting it."""
        state = self.running()
        described: dict[str, Any] = {"backend": self.name, "home": str(self.home),
                                     "host": state.control_url if state else None,
                                     "running": state is not None}
        if state is not None:
            described.update(pid=state.pid, broker_url=state.broker_url)
        return described

    def send_target(self, namespace: str, broker: str) -> SendTarget:
        state = self._state or self.up()
        return SendTarget(f"{state.broker_url}/{namespace}/{broker}")

    def journal_path(self) -> Path:
        return self.home / "journal.sqlite"

    def collect(self, namespace: str | None = None, *, force: bool = False) -> int:
        """Nothing to pull: the local broker journals responses as they arrive."""
        return 0

    def doctor(self, namespace: str, found: Sequence[Resource]) -> Sequence[Check]:
        """The local cluster: running (it starts on first use), its broker serving, and
        each Ready Broker's ingress answering."""
        state = self.running()
        if state is None:
            return [Check("local", "local cluster", "warn", f"not running (home {self.home}):"
                          " it starts on the first apply or send", "session.start()")]
        info = self.info()
        checks = [Check("local", "local cluster", "ok", f"pid {state.pid}, control API "
                        f"{state.control_url}, broker {state.broker_url} "
                        f"({info.get('broker_state') or 'serving'})")]
        return checks + doctor.ingress_checks(self.send_target, namespace, found)

    def close(self) -> None:
        self.http.close()
