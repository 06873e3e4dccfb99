"""Shared fixtures: one real local cluster (supervisor, broker, predictors) per test run.

Each test gets its own namespace, so brokers, triggers and deployments never collide.
"""

from __future__ import annotations

import itertools
import os
import textwrap
import time
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from seldon_jupyter import resources
from seldon_jupyter.backends.local.backend import LocalBackend
from seldon_jupyter.session import Session

_names = itertools.count()


@pytest.fixture(scope="session")
def local_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="session")
def backend(local_home: Path):
    be = LocalBackend(local_home)
    yield be
    be.down()
    be.close()


@pytest.fixture
def ns() -> str:
    return f"t{next(_names)}"


@pytest.fixture
def session(backend: LocalBackend, ns: str):
    s = Session(backend, namespace=ns)
    s.ensure_broker()
    yield s
    s.close()


@pytest.fixture(scope="session")
def iris_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real SKLEARN_SERVER model directory (model.joblib) trained on bundled iris."""
    path = tmp_path_factory.mktemp("iris-model")
    X, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), path / "model.joblib")
    return path


@pytest.fixture(scope="session")
def python_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python classes following the Seldon wrapper convention."""
    path = tmp_path_factory.mktemp("pymodels")
    (path / "Echo.py").write_text(textwrap.dedent("""
        class Echo:
            def predict(self, X, features_names):
                return X
    """))
    (path / "Broken.py").write_text(textwrap.dedent("""
        class Broken:
            def predict(self, X, features_names):
                raise RuntimeError("model exploded on purpose")
    """))
    (path / "Slow.py").write_text(textwrap.dedent("""
        import time

        class Slow:
            def __init__(self, seconds=0.5):
                self.seconds = seconds

            def predict(self, X, features_names):
                time.sleep(self.seconds)
                return X
    """))
    (path / "Scaler.py").write_text(textwrap.dedent("""
        class Scaler:
            class_names = ["scaled"]

            def __init__(self, factor=2.0):
                self.factor = factor

            def predict(self, X, features_names):
                if isinstance(X, dict):
                    return {"echo": X, "factor": self.factor}
                return (X * self.factor).sum(axis=1, keepdims=True)

            def tags(self):
                return {"factor": self.factor}
    """))
    return path


def python_sdep(name: str, cls: str, path: Path, ns: str, **params) -> dict:
    return resources.python_deployment(name, model_class=cls, path=str(path), namespace=ns,
                                       parameters=params or None)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll until predicate() is truthy (bounded); return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


def pid_listening_on(port: int) -> int | None:
    """The pid of the process listening on a loopback port (from /proc)."""
    wanted = f":{port:04X}"
    inodes = set()
    with open("/proc/net/tcp") as handle:
        for line in handle.readlines()[1:]:
            parts = line.split()
            if parts[1].endswith(wanted) and parts[3] == "0A":
                inodes.add(parts[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None
