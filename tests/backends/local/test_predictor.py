"""The predictor as a real process on loopback, driven over HTTP like Seldon's executor."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import requests
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from seldon_jupyter.resources import IRIS_URI

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py


def start(tmp_path, unit, **extra):
    config = {"namespace": "ns1", "deployment": "iris-deployment", "predictor": "default",
              "unit": unit, **extra}
    path = tmp_path / "predictor.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, "-m", "seldon_jupyter.backends.local.predictor",
                             "--config", str(path)], stdout=subprocess.PIPE, text=True)
    lines = []
    for _ in range(3):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(json.loads(line))
        if "port" in lines[-1] or "error" in lines[-1]:
            break
    return proc, lines


@pytest.fixture
def iris(tmp_path):
    proc, lines = start(tmp_path, {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                   "modelUri": IRIS_URI})
    yield f"http://127.0.0.1:{lines[-1]['port']}", lines
    proc.terminate()
    proc.wait(10)


def stand_in():
    X, y = load_iris(return_X_y=True)
    # Seldon's iris recipe (servers/sklearnserver/models/iris/train.py)
    return OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(X, y)


def test_iris_stand_in_answers_predict_proba_like_sklearn_server(iris):
    url, lines = iris
    assert "stand-in" in lines[0]["loaded"]
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    resp = requests.post(f"{url}/api/v1.0/predictions", json={"data": {"ndarray": rows}},
                         timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"]["names"] == ["t:0", "t:1", "t:2"]
    np.testing.assert_allclose(body["data"]["ndarray"], stand_in().predict_proba(rows))
    assert "puid" not in body["meta"]  # only echoed from a request's meta (utils.py)
    assert "Ce-Id" not in resp.headers  # not a CloudEvent request -> no CloudEvent answer


def test_cloudevent_request_gets_seldon_cloudevent_headers(iris):
    url, _ = iris
    resp = requests.post(f"{url}/api/v1.0/predictions", data='{"data":{"ndarray":[[1,2,3,4]]}}',
                         headers={"Ce-Id": "abc", "Ce-Specversion": "1.0", "Ce-Type": "x",
                                  "Ce-Source": "y", "Content-Type": "application/json",
                                  "Seldon-Puid": "my-puid"}, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Ce-Id"] == "my-puid" == resp.headers["Seldon-Puid"]
    assert resp.headers["Ce-Specversion"] == "0.3"
    assert resp.headers["Ce-Type"] == "seldon.iris-deployment.ns1.response"
    assert resp.headers["Ce-Source"] == "seldon.iris-deployment"
    assert resp.headers["Ce-Path"] == "/api/v1.0/predictions"


def test_tensor_in_tensor_out_and_ingress_path(iris):
    url, _ = iris
    resp = requests.post(f"{url}/seldon/ns1/iris-deployment/api/v1.0/predictions",
                         json={"data": {"tensor": {"shape": [1, 4], "values": [1, 2, 3, 4]}}},
                         timeout=10)
    tensor = resp.json()["data"]["tensor"]
    assert tensor["shape"] == [1, 3]
    np.testing.assert_allclose(tensor["values"], stand_in().predict_proba([[1, 2, 3, 4]])[0])


def test_form_encoded_json_field_is_accepted(iris):
    url, _ = iris
    resp = requests.post(f"{url}/api/v0.1/predictions",
                         data={"json": '{"data":{"ndarray":[[1,2,3,4]]}}'}, timeout=10)
    assert resp.status_code == 200


@pytest.mark.parametrize(("body", "code", "info"), [
    (b"{not json", 400, "Invalid JSON"),
    (b'{"jsonData": {"a": 1}}', 400, "expects data.ndarray"),
    (b'{"data": {"ndarray": [[1, 2], [3]]}}', 400, "ragged"),
    (b'{"data": {"ndarray": [[1, 2]]}}', 400, "Unknown data type returned as payload"),
    (b'{"data": {"ndarray": [["a", "b", "c", "d"]]}}', 400, "2-d array of numbers"),
    (b'{"data": {"tensor": {"shape": [1, 4], "values": [1, 2, 3, 1e999]}}}', 400, "infinite"),
])
def test_errors_use_the_model_wrappers_error_format(iris, body, code, info):
    # python/seldon_core: SeldonMicroserviceException -> {"status": {"status": 1, "code": -1}}
    url, _ = iris
    resp = requests.post(f"{url}/api/v1.0/predictions", data=body,
                         headers={"Content-Type": "application/json", "Ce-Specversion": "1.0"},
                         timeout=10)
    assert resp.status_code == code
    status = resp.json()["status"]
    assert status["status"] == 1 and status["code"] == -1
    assert info in status["info"]
    assert resp.headers["Ce-Type"] == "seldon.iris-deployment.ns1.response"


def test_health_and_metadata(iris):
    url, _ = iris
    assert requests.get(f"{url}/ready", timeout=5).status_code == 200
    meta = requests.get(f"{url}/api/v1.0/metadata", timeout=5).json()
    assert "stand-in" in meta["models"]["classifier"]["note"]


def test_joblib_model_from_a_local_path(tmp_path, iris_model_dir):
    proc, lines = start(tmp_path, {"name": "m", "implementation": "SKLEARN_SERVER",
                                   "modelUri": f"file://{iris_model_dir}",
                                   "parameters": [{"name": "method", "type": "STRING",
                                                   "value": "predict"}]})
    try:
        url = f"http://127.0.0.1:{lines[-1]['port']}"
        resp = requests.post(f"{url}/api/v1.0/predictions",
                             json={"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}, timeout=10)
        assert resp.json()["data"]["ndarray"] == [0]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(("unit", "message"), [
    ({"name": "m", "implementation": "SKLEARN_SERVER", "modelUri": "/nonexistent/dir"},
     "does not exist"),
    ({"name": "m", "implementation": "SKLEARN_SERVER", "modelUri": "s3://bucket/model"},
     "cannot download"),
    ({"name": "m", "implementation": "XGBOOST_SERVER", "modelUri": "/x"}, "not available"),
    ({"name": "m", "implementation": "SKLEARN_SERVER", "modelUri": IRIS_URI,
      "children": [{"name": "c"}]}, "single-node"),
])
def test_models_that_cannot_load_exit_with_a_reason(tmp_path, unit, message):
    proc, lines = start(tmp_path, unit)
    assert proc.wait(30) == 3
    assert message in lines[-1]["error"]


def test_python_class_with_parameters_tags_and_json(tmp_path, python_models):
    unit = {"name": "model", "parameters": [{"name": "factor", "type": "FLOAT", "value": "3"}]}
    proc, lines = start(tmp_path, unit, model_class="Scaler", python_path=str(python_models))
    try:
        url = f"http://127.0.0.1:{lines[-1]['port']}"
        resp = requests.post(f"{url}/api/v1.0/predictions",
                             json={"data": {"ndarray": [[1, 2], [3, 4]]}}, timeout=10).json()
        assert resp["data"] == {"names": ["scaled"], "ndarray": [[9.0], [21.0]]}
        assert resp["meta"]["tags"] == {"factor": 3.0}
        resp = requests.post(f"{url}/api/v1.0/predictions", json={"jsonData": {"q": 1}},
                             timeout=10).json()
        assert resp["jsonData"] == {"echo": {"q": 1}, "factor": 3.0}
    finally:
        proc.terminate()
        proc.wait(10)


def test_model_that_raises_gives_500(tmp_path, python_models):
    proc, lines = start(tmp_path, {"name": "model"}, model_class="Broken",
                        python_path=str(python_models))
    try:
        url = f"http://127.0.0.1:{lines[-1]['port']}"
        resp = requests.post(f"{url}/api/v1.0/predictions",
                             json={"data": {"ndarray": [[1]]}}, timeout=10)
        assert resp.status_code == 500
        assert resp.json()["status"]["info"] == "RuntimeError: model exploded on purpose"
        assert resp.json()["status"]["reason"] == "MICROSERVICE_INTERNAL_ERROR"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("model_class", ["subprocess.Popen", "os.PathLike", "..Echo", "."])
def test_python_models_load_only_from_the_named_directory(tmp_path, python_models,
                                                          model_class):
    proc, lines = start(tmp_path, {"name": "model", "parameters": [
        {"name": "args", "type": "STRING", "value": "touch /tmp/pwned"}]},
        model_class=model_class, python_path=str(python_models))
    assert proc.wait(30) == 3
    assert "no module file" in lines[-1]["error"]
