"""Everything the real local cluster writes under its home is the user's alone."""

from __future__ import annotations

import os
import stat


def test_every_file_the_cluster_wrote_is_0600_and_every_directory_0700(session, local_home):
    session.send([[5.1, 3.5, 1.4, 0.2]], type="privacy.check")  # the journal is written
    seen = 0
    for root, dirs, files in os.walk(local_home):
        for name in dirs:
            path = os.path.join(root, name)
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            seen += 1
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, (
                path, oct(os.stat(path).st_mode))
    assert stat.S_IMODE(os.stat(local_home).st_mode) == 0o700
    assert seen >= 3  # state.json, the journal, the logs at least
