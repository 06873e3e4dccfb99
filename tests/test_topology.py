"""The one topology model (sidebar and dashboard), built from Resources alone."""

from __future__ import annotations

from seldon_jupyter import resources, topology
from seldon_jupyter.backends.base import summarize
from seldon_jupyter.naming import request_type, response_type


def res(m: dict, **status: object):
    m = {**m, "metadata": {"namespace": "ns", **m["metadata"]}}
    return summarize({**m, "status": status})


READY = {"conditions": [{"type": "Ready", "status": "True"}]}


def world():
    return [
        res(resources.broker(namespace="ns"), **READY),
        res(resources.seldon_deployment("iris", namespace="ns"), state="Available"),
        res(resources.trigger("to-iris", namespace="ns", deployment="iris",
                              filter={"type": request_type("iris", "ns")}), **READY),
        res(resources.trigger("replies", namespace="ns", service="display",
                              filter={"type": response_type("iris", "ns")}), **READY),
        res(resources.trigger("everything", namespace="ns", service="all"), **READY),
    ]


def test_reply_triggers_hang_under_the_deployment_they_answer():
    model = topology.build(world())
    (broker,) = model["brokers"]
    assert [t["name"] for t in broker["triggers"]] == ["to-iris", "everything"]
    to_iris = broker["triggers"][0]
    assert to_iris["subscriber"]["state"] == "Available" and to_iris["subscriber"]["tone"] == "ok"
    assert [r["name"] for r in to_iris["replies"]] == ["replies"]
    assert to_iris["reply_type"] == response_type("iris", "ns")
    assert to_iris["snippet"].startswith(f"%%seldon_send --type {request_type('iris', 'ns')}\n")


def test_reply_detection_uses_the_broker_filter_engine():
    # a CESQL reply filter is recognised exactly as the broker would evaluate it
    cesql = resources.trigger("sql-replies", namespace="ns", service="display")
    cesql["spec"]["filters"] = [{"cesql": "source = 'seldon.iris' AND type LIKE '%.response'"}]
    model = topology.build([*world()[:3], res(cesql, **READY)])
    assert [r["name"] for r in model["brokers"][0]["triggers"][0]["replies"]] == ["sql-replies"]
    assert model["brokers"][0]["triggers"][0]["replies"][0]["filter"].startswith("cesql(")


def test_a_trigger_on_a_missing_broker_is_an_orphan_with_the_reason():
    lost = res(resources.trigger("lost", namespace="ns", broker="nope", uri="http://x/"),
               conditions=[{"type": "Ready", "status": "False", "reason": "BrokerDoesNotExist"}])
    model = topology.build([*world(), lost])
    assert [o["name"] for o in model["orphans"]] == ["lost"]
    assert model["orphans"][0]["problem"] == "Broker ns/nope does not exist"
    assert model["orphans"][0]["tone"] == "warn"


def test_the_dashboard_html_draws_the_same_model():
    html = topology.to_html(topology.build(world()))
    assert "Trigger <b>to-iris</b>" in html and "Trigger <b>replies</b>" in html
    assert f"reply <code>{response_type('iris', 'ns')}</code>" in html
    assert "var(--jp-success-color1" in html  # theme colours, not hard-coded ones
    assert topology.to_html(topology.build([])) == "<i>no broker in this namespace</i>"
