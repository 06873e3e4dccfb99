"""The tutorial notebooks, executed top to bottom with a real kernel, checked by output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str, workdir: Path, home: Path) -> nbformat.NotebookNode:
    shutil.copy(NOTEBOOKS / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    os.environ["SELDON_JUPYTER_HOME"] = str(home)
    try:
        NotebookClient(nb, timeout=240, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        del os.environ["SELDON_JUPYTER_HOME"]
    return nb


def tagged(nb: nbformat.NotebookNode, tag: str) -> str:
    """All text/plain and stream output of the cell carrying `tag`."""
    cell = next(c for c in nb.cells if tag in c.metadata.get("tags", []))
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def has_html(nb: nbformat.NotebookNode, tag: str) -> bool:
    cell = next(c for c in nb.cells if tag in c.metadata.get("tags", []))
    return any("text/html" in out.get("data", {}) for out in cell.outputs)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    yield path
    subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", "--home", str(path), "local",
                    "down"], capture_output=True, timeout=60)


def test_01_walkthrough(tmp_path, home):
    nb = execute("01-walkthrough.ipynb", tmp_path, home)
    assert "SeldonDeployment  default/iris-deployment" in tagged(nb, "deploy")
    status = tagged(nb, "status")
    assert re.search(r"Trigger\s+default/seldon-eventing-sklearn-trigger\s+Ready", status)
    assert "sent 1 event(s) of type seldon.iris-deployment.default.request" in tagged(
        nb, "first-send")
    assert "sent 2 event(s)" in tagged(nb, "more-sends")
    assert "2 response(s) collected" in tagged(nb, "more-sends")
    assert has_html(nb, "responses")
    assert tagged(nb, "check").strip() == (
        "2 responses to the last two requests; probabilities sum to [1.0]")


def test_02_override_uri(tmp_path, home):
    nb = execute("02-override-uri.ipynb", tmp_path, home)
    status = tagged(nb, "status")
    assert "iris-multi-canary" not in status  # cluster DNS names resolve to local addresses
    assert "/api/v0.1/predictions" in status
    check = tagged(nb, "check")
    assert "canary answers are one-hot: True" in check
    assert "main answers are one-hot: False" in check
    assert ("paths: [('demo.by-ref', '/api/v1.0/predictions'), ('demo.ref-plus-path', "
            "'/api/v0.1/predictions'), ('demo.to-canary', '/api/v1.0/predictions')]") in check


def test_03_streaming_analysis(tmp_path, home):
    nb = execute("03-streaming-analysis.ipynb", tmp_path, home)
    assert "sent 300 event(s)" in tagged(nb, "send")
    assert "300 response(s) collected" in tagged(nb, "send")
    accuracy = float(re.search(r"accuracy ([0-9.]+)", tagged(nb, "analysis")).group(1))
    assert accuracy > 0.9
    plot = next(c for c in nb.cells if "plot" in c.metadata.get("tags", []))
    assert any("image/png" in out.get("data", {}) for out in plot.outputs)


def test_04_chaining(tmp_path, home):
    nb = execute("04-chaining.ipynb", tmp_path, home)
    assert re.search(r"SeldonDeployment\s+default/namer\s+Available", tagged(nb, "status"))
    check = tagged(nb, "check").strip()
    assert check == ("['setosa', 'versicolor', 'virginica', 'virginica'] "
                     "{'seldon.iris-deployment.default.response'}")
