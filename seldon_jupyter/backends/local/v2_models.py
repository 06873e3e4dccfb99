"""Which model file MLServer loads for a V2 predictor: the user's, or a stand-in.

A SeldonDeployment with `protocol: v2` (or a KServe sklearn predictor) names a model
directory that MLServer's scikit-learn runtime loads (`model.joblib`). The public example
models cannot be downloaded here, so each gets a stand-in trained on scikit-learn's bundled
iris data by the recipe its publisher used, saved with joblib where MLServer looks for it,
and the status says so. Anything else must be a local path (model_uris' rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seldon_jupyter.backends.local.models import local_path
from seldon_jupyter.errors import ModelError
from seldon_jupyter.home import private_dir

SKLEARN_RUNTIME = "mlserver_sklearn.SKLearnModel"
RUNTIMES = {"SKLEARN_SERVER": SKLEARN_RUNTIME, "sklearn": SKLEARN_RUNTIME}
MODEL_FILES = ("model.joblib", "model.pickle", "model.pkl")  # what the runtime looks for


def _seldon_iris_lr() -> Any:
    """Seldon's V2 iris example (`sklearn/iris-0.23.2/lr_model`): a logistic regression."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(X, y)


def _kserve_iris_svc() -> Any:
    """KServe's sklearn example (`models/sklearn/1.0/model`): `svm.SVC(gamma='scale')`
    fitted on iris, as its docs train it."""
    from sklearn import svm
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return svm.SVC(gamma="scale").fit(X, y)


@dataclass(frozen=True)
class StandIn:
    pattern: re.Pattern[str]
    slug: str
    train: Callable[[], Any]
    recipe: str


STAND_INS = (
    StandIn(re.compile(r"^gs://seldon-models/sklearn/iris-[0-9.]+/lr_model/?$"),
            "seldon-iris-lr", _seldon_iris_lr, "a logistic regression"),
    StandIn(re.compile(r"^gs://kfserving-examples/models/sklearn/1\.0/model/?$"),
            "kserve-iris-svc", _kserve_iris_svc, "svm.SVC(gamma='scale')"),
)


@dataclass(frozen=True)
class Prepared:
    directory: Path  # what MLServer's `uri` points at
    note: str  # said in the status (empty for the user's own model)


def prepare(uri: str, implementation: str, models_home: Path) -> Prepared:
    """The directory MLServer loads `uri` from, a stand-in saved under `models_home` for
    the public examples; ModelError with the fix for anything it cannot serve."""
    if implementation not in RUNTIMES:
        raise ModelError(f"the local backend serves V2 models with MLServer's scikit-learn "
                         f"runtime only, not {implementation!r}",
                         hint="use implementation SKLEARN_SERVER (or a KServe sklearn "
                              "predictor), or run it on a cluster")
    for stand_in in STAND_INS:
        if stand_in.pattern.match(uri):
            return Prepared(_saved(stand_in, models_home),
                            f"{uri} cannot be downloaded by the local backend; MLServer "
                            f"serves a stand-in, {stand_in.recipe} trained on "
                            "scikit-learn's bundled iris data")
    if not uri:
        raise ModelError("a V2 scikit-learn model needs a modelUri / storageUri",
                         hint="a local directory holding model.joblib")
    path = local_path(uri)
    directory = path if path.is_dir() else path.parent
    if not any((directory / name).exists() for name in MODEL_FILES) and not path.is_file():
        raise ModelError(f"no model.joblib in {directory}",
                         hint="MLServer's scikit-learn runtime loads model.joblib (or "
                              "model.pkl) from the model directory")
    return Prepared(path, "")


def _saved(stand_in: StandIn, models_home: Path) -> Path:
    import joblib

    directory = private_dir(models_home / stand_in.slug)
    target = directory / "model.joblib"
    if not target.exists():
        partial = directory / ".model.joblib.partial"
        joblib.dump(stand_in.train(), partial)
        partial.replace(target)
    return directory
