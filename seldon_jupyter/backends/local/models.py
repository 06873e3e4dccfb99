"""Loading the model a predictor serves: SKLEARN_SERVER joblib files, the iris stand-in,
or a Python class following the Seldon wrapper convention `predict(X, features_names)`.

Only paths the user named in the manifest are read. The public
`gs://seldon-models/.../sklearn/iris` URIs cannot be downloaded here, so they are served
by a stand-in trained on scikit-learn's bundled iris data, and the status says so.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seldon_jupyter import model_uris
from seldon_jupyter.errors import ManifestError, ModelError
from seldon_jupyter.naming import PYTHON_PATH_ANNOTATION

IRIS_PATTERN = re.compile(r"^gs://seldon-models/.*sklearn/iris/?$")
SKLEARN_METHODS = ("predict_proba", "predict", "decision_function")


WRONG_SHAPE = "Unknown data type returned as payload (must be list or np array):None"


class BadInput(ValueError):
    """The request's data cannot be what the model takes: a client error (HTTP 400)."""


@dataclass
class LoadedModel:
    """What the predictor calls, plus what it reports in status and metadata."""

    predict: Any
    class_names: list[str] | None = None
    note: str = ""
    image: str = "seldonio/sklearnserver"
    accepts_json: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


def _parameters(unit: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param in unit.get("parameters") or []:
        value, kind = param["value"], param.get("type", "STRING")
        try:
            out[param["name"]] = (int(value) if kind == "INT" else float(value)
                                  if kind in ("FLOAT", "DOUBLE") else value.lower() == "true"
                                  if kind == "BOOL" else json.loads(value) if kind == "JSON"
                                  else value)
        except ValueError as exc:
            raise ModelError(f"parameter {param['name']!r} is not a valid {kind}: {value!r}"
                             ) from exc
    return out


def local_path(uri: str) -> Path:
    """A filesystem path from a plain path or a file:// URI (model_uris' rule); other
    schemes are refused: the local backend downloads nothing."""
    try:
        path = model_uris.local_path(uri)
    except ManifestError as exc:
        raise ModelError(exc.message, hint=exc.hint) from exc
    if path is None:
        raise ModelError(
            f"the local backend cannot download {uri!r}",
            hint="download the model and point modelUri at the local directory or file://...")
    return path


def _iris_stand_in() -> Any:
    """The public iris model as Seldon trains it (servers/sklearnserver/models/iris/
    train.py): one-vs-rest logistic regression, liblinear, on the full bundled iris data.
    (`multi_class="ovr"` is gone from scikit-learn; OneVsRestClassifier is the same fit.)"""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X, y = load_iris(return_X_y=True)
    return OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(X, y)


def ovr_logistic_proba(model: Any) -> Any:
    """The stand-in's `predict_proba` as its fitted arithmetic: each class's logistic
    score, normalised per row, exactly what OneVsRestClassifier computes, without
    scikit-learn's per-call input validation (4 passes for 3 classes, two thirds of a
    one-row call); the server has checked the input already. Only for the stand-in the kit
    trains itself: a user's model is always called through scikit-learn."""
    coef = np.vstack([e.coef_ for e in model.estimators_])
    intercept = np.array([e.intercept_[0] for e in model.estimators_])

    def proba(X: Any) -> Any:
        scores = 1.0 / (1.0 + np.exp(-(np.asarray(X, dtype=float) @ coef.T + intercept)))
        return scores / scores.sum(axis=1, keepdims=True)

    return proba


def load_sklearn(unit: dict[str, Any]) -> LoadedModel:
    uri = unit.get("modelUri") or ""
    params = _parameters(unit)
    method = params.get("method", "predict_proba")
    if method not in SKLEARN_METHODS:
        raise ModelError(f"SKLEARN_SERVER method {method!r} is not supported",
                         hint=f"one of {', '.join(SKLEARN_METHODS)}")
    if IRIS_PATTERN.match(uri):
        model = _iris_stand_in()
        note = (f"{uri} cannot be downloaded by the local backend; serving a stand-in "
                "trained by Seldon's iris recipe (one-vs-rest liblinear logistic regression) "
                "on scikit-learn's bundled iris data")
    else:
        if not uri:
            raise ModelError("SKLEARN_SERVER needs graph.modelUri",
                             hint="a directory holding model.joblib, or file:///path/model.joblib")
        path = local_path(uri)
        target = path / "model.joblib" if path.is_dir() else path
        if not target.exists():
            raise ModelError(f"model file {target} does not exist",
                             hint="SKLEARN_SERVER loads model.joblib from the modelUri directory")
        import joblib

        try:
            model = joblib.load(target)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is the user's file
            raise ModelError(f"could not load {target}: {type(exc).__name__}: {exc}") from exc
        note = f"loaded {target}"
    if not hasattr(model, method):
        raise ModelError(f"model {type(model).__name__} has no method {method!r}")
    names = None
    if method == "predict_proba":
        names = [f"t:{i}" for i in range(len(getattr(model, "classes_", [])))] or None
    fn = getattr(model, method)
    if IRIS_PATTERN.match(uri) and method == "predict_proba":
        fn = ovr_logistic_proba(model)
    else:
        fn = _without_revalidation(fn)
    width = getattr(model, "n_features_in_", None)

    def predict(X: Any, _names: list[str]) -> Any:
        array = np.asarray(X)
        if array.ndim != 2 or array.dtype.kind not in "biuf":
            raise BadInput(f"SKLEARN_SERVER expects a 2-d array of numbers, got shape "
                           f"{array.shape} of {array.dtype}")
        if width is not None and array.shape[1] != width:
            # what Seldon's SKLEARN_SERVER answers when predict_proba refuses the shape
            raise BadInput(WRONG_SHAPE)
        if not np.isfinite(array).all():
            raise BadInput("the input holds NaN or infinite values")
        if array.shape[0] == 0:  # scikit-learn refuses it with a ValueError (a 500)
            raise BadInput(f"the input has no rows (shape {array.shape}): send at least one")
        return fn(array)

    if width is not None:  # warm up: the first call pays for lazy imports, not a request
        predict(np.zeros((1, width)), [])
    return LoadedModel(predict=predict, class_names=names, note=note)


def _without_revalidation(fn: Any) -> Any:
    """A model method called with scikit-learn's finiteness and parameter checks off:
    `predict` below has refused non-finite input already, with Seldon's own answer."""
    import sklearn

    def call(X: Any) -> Any:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return fn(X)

    return call


def _import_class(model_class: str, path: Path) -> type:
    """The class from a module file inside `path`, and nowhere else (not site-packages)."""
    module_name, _, class_name = model_class.rpartition(".")
    if not module_name:
        module_name = class_name = model_class
    if not path.is_dir():
        raise ModelError(f"python model directory {path} does not exist",
                         hint=f"set the {PYTHON_PATH_ANNOTATION} annotation to the directory "
                         "that holds the model module")
    root = path.resolve()
    try:
        file = (root / Path(*module_name.split("."))).with_suffix(".py").resolve()
    except ValueError:
        file = root / f"{module_name}.py"
    if not file.is_relative_to(root) or not file.is_file():
        raise ModelError(f"no module file {file.name} in {root}",
                         hint="MODEL_NAME names a module in the model directory: 'MyModel' for "
                         "MyModel.py with class MyModel, or 'module.Class'")
    sys.path.insert(0, str(root))  # so the model's own sibling modules import
    spec = importlib.util.spec_from_file_location(module_name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - user code failed to import
        raise ModelError(f"could not import {file}: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise ModelError(f"{file.name} has no class {class_name!r}")
    return cls


def load_python(unit: dict[str, Any], model_class: str, path: str) -> LoadedModel:
    cls = _import_class(model_class, Path(path).expanduser())
    try:
        instance = cls(**_parameters(unit))
    except Exception as exc:  # noqa: BLE001 - user constructor failed
        raise ModelError(f"{model_class}(...) raised {type(exc).__name__}: {exc}") from exc
    if hasattr(instance, "load"):
        instance.load()
    if not callable(getattr(instance, "predict", None)):
        raise ModelError(f"{model_class} has no predict(X, features_names) method")
    names = getattr(instance, "class_names", None)

    def predict(X: Any, feature_names: list[str]) -> Any:
        return instance.predict(X, feature_names)

    extras = {k: getattr(instance, k) for k in ("tags", "metrics") if callable(
        getattr(instance, k, None))}
    return LoadedModel(predict=predict, class_names=list(names) if names else None,
                       note=f"serving {model_class} from {path}", image="python-class",
                       accepts_json=True, extras=extras)


def load(unit: dict[str, Any], *, model_class: str | None, path: str | None) -> LoadedModel:
    """Load the graph's root unit; raises ModelError with the reason for the status."""
    if unit.get("children"):
        raise ModelError("the local backend serves single-node inference graphs only",
                         hint="deploy each model as its own SeldonDeployment and chain them "
                         "with triggers on the response events")
    impl = unit.get("implementation")
    if impl == "SKLEARN_SERVER":
        return load_sklearn(unit)
    if impl and impl != "UNKNOWN_IMPLEMENTATION":
        raise ModelError(f"{impl} is not available in the local backend",
                         hint="use SKLEARN_SERVER or a Python class locally, or the kubernetes "
                         "backend for this server")
    if model_class and path:
        return load_python(unit, model_class, path)
    raise ModelError(
        "no model to serve: the graph has no implementation and no Python class",
        hint=f"set implementation: SKLEARN_SERVER, or a container env MODEL_NAME plus the "
        f"{PYTHON_PATH_ANNOTATION} annotation")

