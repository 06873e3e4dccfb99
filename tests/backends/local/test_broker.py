"""The local broker through the real supervisor, broker and predictor processes."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from seldon_jupyter import event_http, events, resources
from seldon_jupyter.errors import EventError, NotFoundError
from seldon_jupyter.naming import request_type, response_type
from tests.helpers import python_sdep, wait_for


def collector(session, name, **flt):
    session.apply([*resources.event_display(name, namespace=session.namespace),
                   resources.trigger(name, namespace=session.namespace, filter=flt or None,
                                     service=name)], wait=True, timeout=60)


def test_ingress_answers_like_knative(session):
    url = session.broker_url()
    good = events.new_event({"x": 1}, type="t", source="s")
    headers, body = event_http.to_binary(good)
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 202
    bad = requests.post(url, data=b"{}", headers={"ce-specversion": "1.0", "ce-type": "t"},
                        timeout=10)
    assert bad.status_code == 400 and "missing required attribute" in bad.text
    assert requests.get(url, timeout=10).status_code == 405
    missing = url.rsplit("/", 1)[0] + "/nope"
    assert requests.post(missing, data=body, headers=headers, timeout=10).status_code == 404
    batch_headers, batch_body = event_http.to_batch([good])
    assert requests.post(url, data=batch_body, headers=batch_headers,
                         timeout=10).status_code == 400
    journaled = session.events()
    assert list(journaled["id"]) == [good.id]  # only the accepted event is in the journal


def test_session_send_errors_are_clear(session):
    with pytest.raises(NotFoundError, match="apply a Broker"):
        session.send({"x": 1}, type="t", broker="missing-broker")
    with pytest.raises(EventError, match="an event needs a type"):
        session.send({"x": 1})


def test_structured_ingress_is_delivered_in_binary_mode(session):
    collector(session, "all")
    event = events.new_event({"v": 1}, type="custom.type", source="src", specversion="1.0",
                             extensions={"tenant": "acme"})
    session.send(event, structured=True)
    frame = session.responses(wait=15, count=1)
    attrs = json.loads(frame["attributes"][0])
    assert attrs["tenant"] == "acme" and attrs["type"] == "custom.type"
    assert "knativearrivaltime" in attrs and "knativebrokerttl" not in attrs
    assert json.loads(frame["data"][0]) == {"v": 1}


def test_cesql_filters_route_on_the_local_broker(session):
    # pkg/eventfilter/subscriptionsapi/cesql_filter.go: an event passes only on a Boolean true
    ns = session.namespace
    session.apply([*resources.event_display("sql", namespace=ns),
                   resources.trigger("sql", namespace=ns, service="sql")], wait=True, timeout=60)
    m = resources.trigger("sql", namespace=ns, service="sql")
    m["spec"]["filters"] = [{"cesql": "type LIKE 'seldon.%.request' AND INT(priority) > 5"}]
    session.apply(m, wait=True, timeout=60)
    sent = [session.send({"n": i}, type=t, extensions=ext).id for i, (t, ext) in enumerate([
        ("seldon.a.x.request", {"priority": "9"}),    # passes
        ("seldon.a.x.request", {"priority": "1"}),    # INT(priority) > 5 is false
        ("seldon.a.x.request", {}),                   # missing attribute: an error, no pass
        ("other.type", {"priority": "9"}),            # LIKE fails
    ])]
    frame = session.responses(sink=f"{ns}/sql", wait=15, count=1)
    assert list(frame["id"]) == [sent[0]]
    journaled = session.deliveries()
    assert set(journaled[journaled["trigger"] == f"{ns}/sql"]["event_id"]) == {sent[0]}


def test_retries_then_dead_letter_with_knative_error_extensions(session, python_models):
    ns = session.namespace
    session.apply(python_sdep("broken", "Broken", python_models, ns), wait=True, timeout=90)
    collector(session, "dlq", type="never-matches")  # a sink used only as dead-letter target
    session.apply(resources.trigger(
        "to-broken", namespace=ns, filter={"type": request_type("broken", ns)},
        deployment="broken",
        delivery={"retry": 2, "backoffPolicy": "linear", "backoffDelay": "PT0.01S",
                  "deadLetterSink": {"ref": {"apiVersion": "v1", "kind": "Service",
                                             "name": "dlq"}}}), wait=True)
    sent = session.send({"data": {"ndarray": [[1, 2]]}}, type=request_type("broken", ns))
    frame = session.responses(sink=f"{ns}/dlq", wait=20, count=1)
    assert len(frame) == 1
    attrs = json.loads(frame["attributes"][0])
    assert attrs["id"] == sent.id
    assert attrs["knativeerrorcode"] == "500"
    assert attrs["knativeerrordest"].endswith("/api/v1.0/predictions")
    error = json.loads(base64.b64decode(attrs["knativeerrordata"]))
    assert error["status"]["info"] == "RuntimeError: model exploded on purpose"
    delivery = wait_for(lambda: [d for d in session.deliveries(trigger=f"{ns}/to-broken")
                                 .itertuples() if d.state != "pending"])[0]
    assert (delivery.state, delivery.attempts, delivery.code) == ("dead-lettered", 3, 500)


def test_failure_without_dead_letter_sink_is_recorded_not_lost(session):
    ns = session.namespace
    session.apply(resources.trigger("nowhere", namespace=ns, filter={"type": "x"},
                                    uri="http://127.0.0.1:9/unreachable",
                                    delivery={"retry": 1, "backoffDelay": "PT0.01S"}), wait=True)
    sent = session.send({"a": 1}, type="x")
    rows = wait_for(lambda: [d for d in session.deliveries(trigger=f"{ns}/nowhere").itertuples()
                             if d.state == "failed"])
    assert rows[0].event_id == sent.id and rows[0].attempts == 2
    assert "ClientConnectorError" in rows[0].error or "Connect" in rows[0].error


def test_non_retryable_answer_is_not_retried(session):
    ns = session.namespace
    session.deploy("iris")
    session.apply(resources.trigger("json-to-sklearn", namespace=ns, filter={"type": "j"},
                                    deployment="iris", delivery={"retry": 5}), wait=True)
    session.send({"jsonData": {"a": 1}}, type="j")
    row = wait_for(lambda: [d for d in session.deliveries(trigger=f"{ns}/json-to-sklearn")
                            .itertuples() if d.state == "failed"])[0]
    assert (row.attempts, row.code) == (1, 400)


def test_reply_loop_stops_at_the_ttl(session, python_models):
    ns = session.namespace
    session.apply(python_sdep("echo", "Echo", python_models, ns), wait=True, timeout=90)
    session.apply(resources.trigger("loop", namespace=ns,
                                    filter={"source": "seldon.echo"}, deployment="echo"),
                  wait=True)
    first = events.new_event({"data": {"ndarray": [[1]]}}, type="start", source="seldon.echo")
    session.send(first)
    dropped = wait_for(lambda: len(session.events(namespace=ns, status="dropped")), timeout=60)
    accepted = session.events(namespace=ns, status="accepted")
    assert dropped == 1
    assert len(accepted) == 255  # the original plus 254 replies, then loop protection
    assert accepted["ttl"].min() == 1


def test_uri_subscribers_resolve_cluster_names_and_ref_paths(session):
    ns = session.namespace
    session.deploy("iris")
    collector(session, "sink", source="seldon.iris")
    session.apply([
        resources.trigger("by-dns", namespace=ns, filter={"type": "dns"},
                          uri=f"http://iris-default.{ns}.svc.cluster.local:8000/api/v1.0/"
                              "predictions"),
        resources.trigger("by-ref-path", namespace=ns, filter={"type": "refpath"},
                          deployment="iris", uri="/api/v0.1/predictions"),
    ], wait=True)
    trig = session.get("trigger", "by-ref-path")
    assert trig.address.endswith("/api/v0.1/predictions")
    for kind in ("dns", "refpath"):
        session.send({"data": {"ndarray": [[1, 2, 3, 4]]}}, type=kind)
    frame = session.responses(sink=f"{ns}/sink", wait=20, count=2)
    assert sorted(frame["request_type"]) == ["dns", "refpath"]
    assert {json.loads(a)["path"] for a in frame["attributes"]} == {"/api/v1.0/predictions",
                                                        "/api/v0.1/predictions"}


def test_response_event_carries_seldon_attributes(session):
    ns = session.namespace
    session.deploy("iris")
    session.apply(resources.trigger("req", namespace=ns,
                                    filter={"type": request_type("iris", ns)}, deployment="iris"))
    collector(session, "display", type=response_type("iris", ns), source="seldon.iris")
    session.send([[1, 2, 3, 4]], type=request_type("iris", ns), specversion="0.3")
    frame = session.responses(wait=20, count=1)
    row = frame.iloc[0]
    assert row["type"] == f"seldon.iris.{ns}.response" and row["source"] == "seldon.iris"
    assert json.loads(row["attributes"])["specversion"] == "0.3"
    # the kit put the request's id in meta.puid and Seldon echoed it into the answer
    assert json.loads(row["data"])["meta"]["puid"] == row["request_id"]
