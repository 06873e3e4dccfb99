"""`protocol: v2` on the local backend, served by the real MLServer end to end."""

from __future__ import annotations

import numpy as np
import pytest
import requests
from sklearn import svm
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from seldon_jupyter import resources
from seldon_jupyter.naming import V2_RESPONSE_TYPE, v2_response_source
from tests.helpers import wait_for


@pytest.fixture
def v2_walkthrough(session):
    ns = session.namespace
    session.apply([resources.seldon_deployment("iris", model_uri=resources.IRIS_V2_URI,
                                               namespace=ns, protocol="v2"),
                   resources.trigger("to-iris", namespace=ns, deployment="iris",
                                     filter={"type": "iris.v2.request"},
                                     delivery={"retry": 0}),
                   *resources.event_display("out", namespace=ns),
                   resources.trigger("out", namespace=ns, service="out",
                                     filter={"type": V2_RESPONSE_TYPE})],
                  wait=True, timeout=180)
    return session


def test_the_v2_iris_walkthrough_on_mlserver(v2_walkthrough):
    session, ns = v2_walkthrough, v2_walkthrough.namespace
    sdep = session.get("sdep", "iris")
    assert sdep.address.endswith("/v2/models/classifier/infer")  # the operator's path
    assert "MLServer serves a stand-in" in sdep.reason  # the status says so
    X = load_iris(as_frame=True).data.sample(12, random_state=3)
    sent = session.send_many(X, type="iris.v2.request", protocol="v2")
    both = session.send_many(X.head(3), type="iris.v2.request", protocol="v2",
                             kind="columns")
    frame = session.responses(sink=f"{ns}/out", wait=30, count=15)
    assert len(frame) == 15
    assert set(frame["type"]) == {V2_RESPONSE_TYPE}  # MLServer's own headers
    assert set(frame["source"]) == {v2_response_source(ns)}
    assert (frame["id"] == frame["request_id"]).all()  # MLServer answers with the request id
    assert set(frame["request_id"]) == set(sent.ids) | set(both.ids)
    Xy = load_iris(return_X_y=True)
    expected = LogisticRegression(max_iter=1000).fit(*Xy).predict(X.to_numpy())
    by_id = frame.set_index("request_id")["predict"]
    np.testing.assert_array_equal(by_id.loc[sent.ids].to_numpy(), expected)


def test_mlservers_own_error_answer_is_what_the_delivery_records(v2_walkthrough):
    """Not a stand-in's wording: the delivery records what MLServer itself answers."""
    session = v2_walkthrough
    event = session.send([[1, 2, 3]], type="iris.v2.request", protocol="v2")  # 3 features
    address = session.get("sdep", "iris").address
    body = {"inputs": [{"name": "predict", "shape": [1, 3], "datatype": "INT64",
                        "data": [1, 2, 3]}]}
    # only the cluster's owner drives the model: another local user gets a 401
    assert requests.post(address, json=body, timeout=30).status_code == 401
    assert requests.get(address.rsplit("/", 1)[0] + "/ready", timeout=30).status_code == 200
    owner = {"Authorization": f"Bearer {session.backend.running().token}"}
    direct = requests.post(address, json=body, headers=owner, timeout=30)
    # MLServer 1.7's scikit-learn runtime lets the model's ValueError through: a bare 500
    assert (direct.status_code, direct.text) == (500, "Internal Server Error")

    def failed():
        d = session.deliveries(trigger=f"{session.namespace}/to-iris")
        d = d[d["event_id"] == event.id]
        return [d] if len(d) and d["state"].iloc[0] != "pending" else None

    (outcome,) = wait_for(failed, timeout=60)
    assert outcome["state"].iloc[0] == "failed"
    assert int(outcome["code"].iloc[0]) == direct.status_code


def test_a_kserve_inference_service_as_a_trigger_subscriber(session):
    ns = session.namespace
    applied = session.apply(
        [resources.inference_service("sklearn-iris", namespace=ns),
         resources.trigger("to-isvc", namespace=ns, inference_service="sklearn-iris",
                           uri="/v2/models/sklearn-iris/infer",
                           filter={"type": "iris.kserve.request"}),
         *resources.event_display("out", namespace=ns),
         resources.trigger("out", namespace=ns, service="out",
                           filter={"type": V2_RESPONSE_TYPE})], wait=True, timeout=180)
    isvc, trigger = applied[0], applied[1]
    assert isvc.ready and "stand-in, svm.SVC(gamma='scale')" in isvc.reason
    assert trigger.address == isvc.address + "/v2/models/sklearn-iris/infer"
    X, y = load_iris(return_X_y=True)
    sent = session.send_many(X[::15], type="iris.kserve.request", protocol="v2")
    frame = session.responses(sink=f"{ns}/out", wait=30, count=len(sent.ids))
    expected = svm.SVC(gamma="scale").fit(X, y).predict(X[::15])
    got = frame.set_index("request_id").loc[sent.ids, "predict"].to_numpy()
    np.testing.assert_array_equal(got, expected)
    v1 = session.apply(resources.inference_service("old", namespace=ns,
                                                   protocol_version="v1"))[0]
    failed = wait_for(lambda: "PredictorFailed" in (r := session.get("isvc", "old")).reason
                      and r, timeout=60)
    assert not failed.ready and v1.name == "old"
    assert "cloudevents<2" in failed.reason and "protocolVersion: v2" in failed.reason
