"""Where the local cluster lives on disk, and the state file that lets every client find it.

A kernel, the CLI and the Jupyter server extension all read `state.json` in the same
workdir (`$SELDON_JUPYTER_HOME`, else the user's data dir) to learn the supervisor's
control port, the broker port and the access token. The file is created 0600.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from seldon_jupyter.home import private_dir

STATE_FILE = "state.json"


def home_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    raw = explicit or os.environ.get("SELDON_JUPYTER_HOME")
    path = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("seldon-jupyter"))
    return private_dir(path)


@dataclass(frozen=True)
class State:
    pid: int
    control_port: int
    broker_port: int
    token: str

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @property
    def broker_url(self) -> str:
        return f"http://127.0.0.1:{self.broker_port}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, readable by the owner only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_state(home: Path, state: State) -> None:
    write_private(home / STATE_FILE, json.dumps(asdict(state)))


def read_state(home: Path) -> State | None:
    try:
        raw = json.loads((home / STATE_FILE).read_text())
        return State(**raw)
    except (OSError, ValueError, TypeError):
        return None


def clear_state(home: Path, pid: int) -> None:
    """Remove the state file if it still describes process `pid`."""
    current = read_state(home)
    if current is not None and current.pid == pid:
        (home / STATE_FILE).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; reaps it first if it is our own exited child (a zombie)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
