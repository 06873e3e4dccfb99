"""A full disk: refused with 507 and the reason, nothing shown as applied that is not stored,
and everything works again once there is space."""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest

from seldon_jupyter import resources
from seldon_jupyter.errors import BackendError, NotFoundError, SendError
from seldon_jupyter.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (mounting needs root, as CI and the dev machines run)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(where)],
                   check=True)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk) -> object:
    """Write a filler file until the disk is full; returns its path."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            for _ in range(64 * 1024):  # bounded: at most 64 MiB
                os.write(fd, b"\0" * 1024)
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_a_507_with_the_reason_and_nothing_half_applied(small_disk):
    session = Session(home=small_disk / "home", namespace="full")
    try:
        session.ensure_broker()
        session.apply([*resources.event_display("sink", namespace="full"),
                       resources.trigger("all", namespace="full", service="sink")], wait=True)
        assert session.send([[1]], type="before").status == 202
        filler = fill(small_disk)
        with pytest.raises(SendError) as sent:
            for i in range(200):  # the WAL may still hold a few pages' worth
                session.send({"blob": "x" * 4000, "i": i}, type="during")
        assert sent.value.status == 507
        assert "the journal could not store the event" in sent.value.message
        assert "free disk space" in sent.value.message
        with pytest.raises(BackendError, match="answered 507.*nothing was applied") as applied:
            session.apply(resources.trigger("late", namespace="full", service="sink"))
        assert "free disk space" in (applied.value.hint or "")
        with pytest.raises(NotFoundError):
            session.get("trigger", "late")  # not shown as applied, in memory or on disk
        filler.unlink()
        assert session.send([[2]], type="after").status == 202
        session.apply(resources.trigger("late", namespace="full", service="sink"), wait=True)
        assert session.get("trigger", "late").ready
        answered = session.responses(sink="full/sink", wait=20, count=2)
        assert {"before", "after"} <= set(answered["type"])
    finally:
        with contextlib.suppress(OSError):
            (small_disk / "filler").unlink()
        session.backend.down()
        session.close()
