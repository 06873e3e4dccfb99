"""The seed walkthrough end to end through Session on the local backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from seldon_jupyter import resources
from seldon_jupyter.demo import SEED
from seldon_jupyter.errors import EventError, NotFoundError, NotReadyError, PayloadError
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session


def stand_in():
    X, y = load_iris(return_X_y=True)
    # Seldon's iris recipe (servers/sklearnserver/models/iris/train.py)
    return OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(X, y)


@pytest.fixture
def walkthrough(session):
    seed = [m for m in resources.load(SEED) if m["kind"] != "Broker"]
    for m in seed:
        m["metadata"]["namespace"] = session.namespace
        if m["kind"] == "Trigger" and m["metadata"]["name"] == "seldon-eventing-sklearn-trigger":
            m["spec"]["filter"]["attributes"]["type"] = request_type("iris-deployment",
                                                                     session.namespace)
        if m["metadata"]["name"] == "event-display" and m["kind"] == "Trigger":
            m["spec"]["filter"]["attributes"]["type"] = response_type("iris-deployment",
                                                                      session.namespace)
    applied = session.apply(seed, wait=True, timeout=120)
    return session, applied


def test_seed_manifests_become_ready(walkthrough):
    _, applied = walkthrough
    assert [(r.kind, r.ready) for r in applied] == [
        ("SeldonDeployment", True), ("Trigger", True), ("Deployment", True), ("Service", True),
        ("Trigger", True)]
    sdep = applied[0]
    assert "stand-in" in sdep.reason and sdep.address.startswith("http://127.0.0.1:")


def test_seed_payload_comes_back_as_a_prediction_row(walkthrough):
    session, _ = walkthrough
    sent = session.send({"data": {"ndarray": [[1, 2, 3, 4]]}},
                        type=request_type("iris-deployment", session.namespace),
                        source="seldon.examples.streaming.curl", specversion="0.3")
    assert sent.status == 202
    frame = session.responses(wait=20, count=1)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["request_id"] == sent.id
    assert row["source"] == "seldon.iris-deployment"
    expected = stand_in().predict_proba([[1, 2, 3, 4]])[0]
    np.testing.assert_allclose(row[["t:0", "t:1", "t:2"]].astype(float), expected)
    assert 0 < row["latency_ms"] < 10_000


def test_send_many_streams_a_dataframe_at_a_rate(walkthrough):
    session, _ = walkthrough
    X = load_iris(as_frame=True).data
    seen = []
    summary = session.send_many(X, type=request_type("iris-deployment", session.namespace),
                                rate=400, progress=lambda done, total: seen.append(done))
    assert (summary.sent, summary.failed) == (150, 0)
    assert summary.elapsed_s >= 149 / 400 * 0.9  # the rate was held
    assert seen[-1] == 150
    frame = session.responses(wait=30, count=150)
    assert len(frame) == 150
    by_request = frame.set_index("request_id").loc[summary.ids]
    np.testing.assert_allclose(by_request[["t:0", "t:1", "t:2"]].astype(float),
                               stand_in().predict_proba(X.to_numpy()), rtol=1e-6)


def test_batched_rows_explode_into_one_row_per_prediction(walkthrough):
    session, _ = walkthrough
    X = np.array(load_iris().data[:10])
    summary = session.send_many(X, type=request_type("iris-deployment", session.namespace),
                                batch_size=5, kind="tensor")
    assert summary.sent == 2
    wide = session.responses(wait=20, count=2)
    assert len(wide) == 2 and all(len(v) == 5 for v in wide["t:0"])
    long = session.responses(explode=True)
    assert len(long) == 10 and list(long["row"]) == [0, 1, 2, 3, 4] * 2


def test_send_many_refuses_what_it_cannot_iterate(session):
    with pytest.raises(PayloadError, match="cannot iterate"):
        session.send_many(42, type="x")
    with pytest.raises(PayloadError, match="items are rows"):
        session.send_many([1, 2], type="x")


def test_status_lists_this_namespace(walkthrough):
    session, _ = walkthrough
    kinds = {r.kind for r in session.status() if r.namespace == session.namespace}
    assert kinds == {"Broker", "SeldonDeployment", "Trigger", "Deployment", "Service"}
    assert isinstance(session.events(), pd.DataFrame)


# -- the fast layer: the same Session over the in-memory FakeBackend ---------------------------


def test_fake_wait_ready_names_the_controller_reason(fake):
    fake.apply(resources.trigger("lost", namespace="fast", broker="nope", uri="http://x/"))
    with pytest.raises(NotReadyError, match="BrokerDoesNotExist"):
        fake.wait_ready(("trigger", "lost"), timeout=0.05)


def test_fake_send_errors_repeat_the_broker_answer(fake):
    with pytest.raises(NotFoundError, match="apply a Broker"):
        fake.send({"x": 1}, type="t")
    with pytest.raises(EventError, match="an event needs a type"):
        fake.send({"x": 1})


def test_namespace_defaults_to_the_backend_default(tmp_path):
    from tests.fakes import FakeBackend

    backend = FakeBackend(tmp_path)
    try:
        with Session(backend) as s:
            assert s.namespace == backend.default_namespace
        assert Session(backend, namespace="x").namespace == "x"
    finally:
        backend.close()


def test_a_trigger_on_a_missing_broker_fails_at_once_with_the_fix(fake):
    import time

    started = time.monotonic()
    with pytest.raises(NotReadyError, match="cannot become Ready: BrokerDoesNotExist") as info:
        fake.apply(resources.trigger("lost", namespace="fast", uri="http://x/"), wait=True)
    assert time.monotonic() - started < 5 and "apply a Broker first" in info.value.hint
