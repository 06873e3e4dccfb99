"""The built extension is one this JupyterLab accepts: every @jupyterlab package it shares
is in a range the running JupyterLab provides (a mismatch loads nothing in some set-ups and
is flagged `X` by `jupyter labextension list`)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # needs the built extension: see tests/conftest.py


def test_jupyterlab_lists_the_extension_as_compatible():
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list",
                             "--verbose"], capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"seldon-jupyter v\S+ enabled OK", text), text[-2000:]
    assert "is not compatible with the current JupyterLab" not in text, text[-2000:]
