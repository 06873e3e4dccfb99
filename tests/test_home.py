"""The kit's homes are private: 0700 directories, 0600 files, and another user's is refused."""

from __future__ import annotations

import os
import stat

import pytest

from seldon_jupyter import journal
from seldon_jupyter.errors import BackendError
from seldon_jupyter.home import private_dir


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_is_0700_and_a_new_journal_0600(tmp_path):
    home = private_dir(tmp_path / "new")
    assert mode(home) == 0o700
    db = journal.ensure(home / "journal.sqlite")
    journal.connect(db).execute("CREATE TABLE IF NOT EXISTS x (a)").connection.close()
    for path in home.iterdir():  # the db and SQLite's -wal / -shm files alike
        assert mode(path) == 0o600, (path, oct(mode(path)))


def test_an_open_existing_home_is_tightened_with_everything_in_it(tmp_path):
    old = tmp_path / "old"
    (old / "logs").mkdir(parents=True)
    (old / "journal.sqlite").write_text("")
    (old / "logs" / "broker.log").write_text("secret")
    for path, m in ((old, 0o755), (old / "logs", 0o755), (old / "journal.sqlite", 0o644),
                    (old / "logs" / "broker.log", 0o644)):
        os.chmod(path, m)
    private_dir(old)
    assert (mode(old), mode(old / "logs")) == (0o700, 0o700)
    assert mode(old / "journal.sqlite") == mode(old / "logs" / "broker.log") == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
def test_another_users_home_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(BackendError, match="belongs to user id 65534") as info:
        private_dir(theirs)
    assert "SELDON_JUPYTER_HOME" in str(info.value)
