"""The kit's home directories are private: 0700 directories, 0600 files, owned by you.

The journal holds every event and response, the state file the local cluster's token, the
logs what models printed; another local user must not read or forge them. A new home is
created 0700; an existing one that is open to others is tightened (with every file and
directory in it) before use, and one that belongs to another user is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from seldon_jupyter.errors import BackendError

MAX_ENTRIES = 100_000  # a bounded walk when tightening an old home


def private_dir(path: Path) -> Path:
    """`path` created or checked as a private directory (see the module docstring)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise BackendError(f"{path} belongs to user id {info.st_uid}, not you ({os.getuid()})",
                           hint="set SELDON_JUPYTER_HOME to a directory of your own")
    if stat.S_IMODE(info.st_mode) & 0o077:
        tighten(path)
    return path.resolve()


def tighten(path: Path) -> None:
    """chmod 0700 on `path` and its directories, 0600 on its files (symlinks untouched)."""
    os.chmod(path, 0o700)
    for seen, (root, dirs, names) in enumerate(os.walk(path)):
        if seen > MAX_ENTRIES:
            break
        for name in dirs:
            _chmod(Path(root) / name, 0o700)
        for name in names:
            _chmod(Path(root) / name, 0o600)


def _chmod(path: Path, mode: int) -> None:
    if not path.is_symlink():
        os.chmod(path, mode)


def private_file(path: Path) -> Path:
    """Create `path` (if missing) as a 0600 file, so what is written to it stays private."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    return path
