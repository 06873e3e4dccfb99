"""`make demo`'s program on a fresh workdir: the walkthrough prints real predictions."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py


def test_demo_prints_the_response_dataframe(tmp_path):
    env = {**os.environ, "SELDON_JUPYTER_HOME": str(tmp_path)}
    try:
        result = subprocess.run([sys.executable, "-m", "seldon_jupyter.demo"], env=env,
                                capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", "local", "down"], env=env,
                       capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "the seed's curl answered HTTP 202" in out
    assert "send_many: 150 iris rows" in out and "0 failed" in out
    assert re.search(r"4\. 152 response events collected", out)
    header = next(line for line in out.splitlines() if line.strip().startswith("id "))
    assert header.split()[-3:] == ["t:0", "t:1", "t:2"]
    rows = [line for line in out.splitlines() if "seldon.iris-deployment.default.response" in line]
    assert len(rows) == 10
    probabilities = [float(x) for x in rows[0].split()[-3:]]
    assert abs(sum(probabilities) - 1) < 1e-3
