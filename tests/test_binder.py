"""Binder cannot be built here (no Docker): reproduce what repo2docker + postBuild do in a
fresh virtual environment, then execute the walkthrough notebook with that environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent


def test_binder_files_are_well_formed():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK)
    assert "pip install --no-cache-dir ." in post.read_text()
    readme = (ROOT / "README.md").read_text()
    assert "badge_logo.svg" in readme and "labpath=notebooks%2F01-walkthrough.ipynb" in readme


def test_postbuild_in_a_fresh_venv_runs_the_walkthrough(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".venv", ".git", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
        ".seldon-jupyter", "test-artifacts", "node_modules"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
           "VIRTUAL_ENV": str(venv), "SELDON_JUPYTER_HOME": str(tmp_path / "home"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "-r", "binder/requirements.txt"], cwd=repo, env=env, check=True,
                   timeout=600)
    post = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=900)
    assert post.returncode == 0, post.stderr[-3000:]
    listed = post.stdout + post.stderr  # `jupyter labextension list` writes to stderr
    assert re.search(r"seldon-jupyter v0\.1\.0 .*enabled.*OK", listed), listed[-3000:]
    assert re.search(r"seldon_jupyter .*enabled", listed), listed[-3000:]
    try:
        run = subprocess.run(
            ["jupyter", "nbconvert", "--to", "notebook", "--execute",
             "--ExecutePreprocessor.timeout=240", "--output", str(tmp_path / "out.ipynb"),
             "notebooks/01-walkthrough.ipynb"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    finally:
        subprocess.run(["seldon-jupyter", "local", "down"], env=env, capture_output=True,
                       timeout=60)
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    check = next(c for c in nb.cells if "check" in c.metadata.get("tags", []))
    lines = check.outputs[0].text.strip().splitlines()
    assert lines[0] == "2 responses to the last two requests; probabilities sum to [1.0]"
    assert lines[1].startswith("matches the Seldon notebook's probabilities:")
    imported = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import seldon_jupyter, sys; print(seldon_jupyter.__file__)"],
                              env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert str(venv) in imported.stdout  # a real install, not this checkout
