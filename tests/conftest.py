"""Shared fixtures: one real local cluster (supervisor, broker, predictors) per test run.

Each test gets its own namespace, so brokers, triggers and deployments never collide.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

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


# -- the two layers -----------------------------------------------------------------------------
# `pytest -m "not slow"` runs the fast layer (FakeBackend, pure functions) in seconds. A test is
# slow when it starts real processes: the local cluster, the kube double, a Jupyter server,
# a kernel or a browser. Modules that do so in their own fixtures say `pytestmark = slow`.
SLOW_FIXTURES = frozenset({"backend", "session", "local_home", "apiserver", "kube", "cluster",
                           "jp_fetch", "jp_serverapp"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fake(tmp_path: Path):
    """A Session over the in-memory FakeBackend (see tests/fakes.py)."""
    from tests.fakes import FakeBackend

    backend = FakeBackend(tmp_path)
    s = Session(backend, namespace="fast")
    yield s
    s.close()
    backend.close()
