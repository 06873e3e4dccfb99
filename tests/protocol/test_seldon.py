"""Seldon Core v1 model-server facts (executor/api/rest/middlewares.go, python/seldon_core/),
raw HTTP against the real local predictor process serving the walkthrough's iris URI."""

from __future__ import annotations

import pytest
import requests

from seldon_jupyter.resources import IRIS_URI
from tests.backends.local.test_predictor import start

pytestmark = pytest.mark.slow

PATH = "/api/v1.0/predictions"
REQUEST = {"data": {"ndarray": [[1, 2, 3, 4]]}}
CE = {"Ce-Specversion": "0.3", "Ce-Id": "req-1", "Ce-Type": "seldon.iris.ns1.request",
      "Ce-Source": "curl"}


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    proc, lines = start(tmp_path_factory.mktemp("seldon"), {
        "name": "simple-iris-model", "implementation": "SKLEARN_SERVER", "modelUri": IRIS_URI})
    yield f"http://127.0.0.1:{lines[-1]['port']}"
    proc.terminate()
    proc.wait(10)


def test_cloudevent_headers_only_when_the_request_has_ce_specversion(iris):
    # middlewares.go CloudeventHeaderMiddleware: only `if r.Header.Get("Ce-Specversion")`
    plain = requests.post(iris + PATH, json=REQUEST, timeout=10)
    assert plain.status_code == 200
    assert not [k for k in plain.headers if k.lower().startswith("ce-")]


def test_cloudevent_headers_as_the_executor_sets_them(iris):
    # middlewares.go: Ce-Id = Seldon-Puid (or a fresh UUID), Ce-Specversion 0.3, Ce-Type
    # seldon.<sdep>.<ns>.response, Ce-Source seldon.<sdep>, Ce-Path; no Ce-Time
    answer = requests.post(iris + PATH, json=REQUEST, headers={**CE, "Seldon-Puid": "p-42"},
                           timeout=10)
    h = answer.headers
    assert (h["Ce-Id"], h["Seldon-Puid"], h["Ce-Specversion"]) == ("p-42", "p-42", "0.3")
    assert h["Ce-Type"] == "seldon.iris-deployment.ns1.response"
    assert h["Ce-Source"] == "seldon.iris-deployment" and h["Ce-Path"] == PATH
    assert "Ce-Time" not in h


def test_a_fresh_uuid_without_seldon_puid(iris):
    a = requests.post(iris + PATH, json=REQUEST, headers=CE, timeout=10).headers
    b = requests.post(iris + PATH, json=REQUEST, headers=CE, timeout=10).headers
    assert a["Ce-Id"] == a["Seldon-Puid"] and a["Ce-Id"] != b["Ce-Id"] and len(a["Ce-Id"]) == 36


def test_content_type_is_application_json_exactly(iris):
    # the executor writes "application/json" with no charset
    answer = requests.post(iris + PATH, json=REQUEST, headers=CE, timeout=10)
    assert answer.headers["Content-Type"] == "application/json"


def test_the_iris_model_answers_the_upstream_probabilities(iris):
    # servers/sklearnserver/models/iris/train.py (OvR liblinear on the full iris data);
    # the Seldon notebook's saved output for [[1, 2, 3, 4]]
    body = requests.post(iris + PATH, json=REQUEST, timeout=10).json()
    assert body["data"]["names"] == ["t:0", "t:1", "t:2"]
    assert body["data"]["ndarray"][0] == pytest.approx(
        [0.0006985194531162841, 0.003668039039435755, 0.9956334415074478], abs=1e-9)
    assert body["meta"] == {"requestPath": {"simple-iris-model": "seldonio/sklearnserver"}}


def test_meta_puid_and_tags_are_only_echoed(iris):
    # python/seldon_core/utils.py construct_response_json: puid/tags copied from the request
    echoed = requests.post(iris + PATH, json={**REQUEST, "meta": {
        "puid": "mine", "tags": {"run": "a"}}}, timeout=10).json()["meta"]
    assert echoed["puid"] == "mine" and echoed["tags"] == {"run": "a"}
    bare = requests.post(iris + PATH, json=REQUEST, timeout=10).json()["meta"]
    assert "puid" not in bare and "tags" not in bare


def test_a_wrong_feature_count_is_the_wrappers_400(iris):
    # seldon_core: SKLEARN_SERVER's predict_proba fails -> 400 with the wrapper's status
    answer = requests.post(iris + PATH, json={"data": {"ndarray": [[1, 2, 3]]}}, headers=CE,
                           timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"status": {
        "status": 1, "code": -1, "reason": "MICROSERVICE_BAD_DATA",
        "info": "Unknown data type returned as payload (must be list or np array):None"}}
    assert answer.headers["Ce-Type"] == "seldon.iris-deployment.ns1.response"  # on errors too


def test_invalid_json_is_a_wrapper_bad_data_error(iris):
    answer = requests.post(iris + PATH, data=b"{nope", timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    status = answer.json()["status"]
    assert (status["status"], status["code"], status["reason"]) == (
        1, -1, "MICROSERVICE_BAD_DATA")


def test_the_seeds_uri_override_and_its_predicions_typo(session):
    # docs streaming/knative_eventing.md "Overriding URI": subscriber.uri through the Istio
    # gateway (/seldon/<ns>/<sdep>/...). The docs' path says `predicions`: the executor's
    # router answers 404 ("404 page not found"), which Knative retries, then gives up.
    from seldon_jupyter import resources
    from tests.protocol.conftest import settled

    ns = session.namespace
    session.deploy("iris-deployment")
    gateway = f"http://istio-ingressgateway/seldon/{ns}/iris-deployment/api/v1.0"
    for name, path in (("typo", "predicions"), ("right", "predictions")):
        session.apply(resources.trigger(name, namespace=ns, uri=f"{gateway}/{path}",
                                        filter={"type": f"seed.{name}"},
                                        delivery={"retry": 1}), wait=True, timeout=60)
    session.apply(resources.collector_manifests(
        "display", namespace=ns, filter={"type": f"seldon.iris-deployment.{ns}.response"}),
        wait=True, timeout=60)
    session.send([[1, 2, 3, 4]], type="seed.typo", specversion="0.3")
    failed = settled(session, "failed")
    assert (int(failed["code"].iloc[0]), int(failed["attempts"].iloc[0])) == (404, 2)
    sent = session.send([[1, 2, 3, 4]], type="seed.right", specversion="0.3")
    frame = session.responses(wait=20, count=1)
    assert list(frame["request_id"]) == [sent.id]
