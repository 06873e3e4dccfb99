"""Delivery facts (knative/eventing pkg/kncloudevents/, pkg/broker/filter/), raw HTTP.

The subscriber is a recorder on loopback, so each test sees exactly what the local broker
sends and when: headers, retries and their waits, replies, dead letters.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.protocol.conftest import Answer, binary, settled, to_recorder
from tests.protocol.recorder import Recorder


def post(url: str, headers: dict[str, str], body: bytes = b'{"x": 1}') -> int:
    return requests.post(url, data=body, timeout=10,
                         headers={"content-type": "application/json", **headers}).status_code


@pytest.fixture
def dead_letters():
    rec = Recorder()
    yield rec
    rec.close()


def test_binary_mode_with_prefer_reply_and_kn_namespace_and_no_ttl(session, recorder):
    # filter_handler.go: binary mode, Prefer: reply, Kn-Namespace; knativebrokerttl removed
    to_recorder(session, recorder)
    assert post(session.broker_url(), binary(knativebrokerttl="9")) == 202
    (got,) = recorder.wait(1)
    assert got.headers["prefer"] == "reply" and got.headers["kn-namespace"] == session.namespace
    assert got.headers["ce-id"] == "e1" and got.headers["content-type"] == "application/json"
    assert "ce-knativebrokerttl" not in got.headers
    assert json.loads(got.body) == {"x": 1}


def test_listed_headers_pass_through_and_no_others(session, recorder):
    # filter_handler.go / utils: X-Request-Id, Retry-After, Knative-*, X-B3-*, traceparent
    to_recorder(session, recorder)
    extra = {"X-Request-Id": "r-1", "Knative-Custom": "k", "X-B3-TraceId": "b3",
             "traceparent": "00-abc-def-01", "Retry-After": "3", "X-Secret": "no"}
    assert post(session.broker_url(), {**binary(), **extra}) == 202
    (got,) = recorder.wait(1)
    for key in ("x-request-id", "knative-custom", "x-b3-traceid", "traceparent", "retry-after"):
        assert got.headers[key] == extra[next(k for k in extra if k.lower() == key)], key
    assert "x-secret" not in got.headers


def test_delivery_format_json_sends_structured(session, recorder):
    # delivery.format: json -> structured mode (application/cloudevents+json)
    to_recorder(session, recorder, delivery={"format": "json"})
    assert post(session.broker_url(), binary()) == 202
    (got,) = recorder.wait(1)
    assert got.headers["content-type"].startswith("application/cloudevents+json")
    assert json.loads(got.body)["id"] == "e1"


def test_an_empty_2xx_is_success_without_a_reply(session, recorder):
    to_recorder(session, recorder)
    assert post(session.broker_url(), binary(id="quiet")) == 202
    recorder.wait(1)
    frame = settled(session, "delivered")
    assert list(frame["event_id"]) == ["quiet"]
    assert list(session.events()["id"]) == ["quiet"]  # nothing re-entered the broker


def test_a_cloudevent_reply_reenters_the_broker_with_the_ttl(session):
    # filter_handler.go: a 2xx CloudEvent reply goes back to the same broker
    replier = Recorder(lambda n: Answer(200, {"ce-specversion": "1.0", "ce-id": f"r{n}",
                                              "ce-source": "replier", "ce-type": "reply",
                                              "content-type": "application/json"}, b"{}"))
    sink = Recorder()
    try:
        to_recorder(session, replier, "ask", filter={"type": "proto.test"})
        to_recorder(session, sink, "take", filter={"type": "reply"})
        assert post(session.broker_url(), binary(knativebrokerttl="50")) == 202
        (got,) = sink.wait(1)
        assert got.headers["ce-id"] == "r0" and "ce-knativebrokerttl" not in got.headers
        journaled = session.events().set_index("id")
        assert journaled.loc["r0", "ttl"] == 48  # 50 -> 49 at ingress, 48 for the reply
    finally:
        replier.close()
        sink.close()


def test_a_non_cloudevent_2xx_body_is_a_502_retried_then_dead_lettered_plain(
        session, dead_letters):
    # filter_handler.go: non-empty non-CloudEvent answer -> 502, retried; the dead letter
    # of such a 502 carries no knativeerror* extensions
    junk = Recorder(lambda _n: Answer(200, {"content-type": "application/json"}, b'{"ok":1}'))
    try:
        to_recorder(session, junk, delivery={
            "retry": 2, "deadLetterSink": {"uri": dead_letters.url}})
        assert post(session.broker_url(), binary()) == 202
        assert len(junk.wait(3)) == 3
        (letter,) = dead_letters.wait(1)
        assert not [k for k in letter.headers if k.startswith("ce-knativeerror")]
        assert letter.headers["ce-id"] == "e1"
    finally:
        junk.close()


@pytest.mark.parametrize(("policy", "waits"), [("exponential", [0.2, 0.4, 0.8]),
                                               ("linear", [0.0, 0.2, 0.4])])
def test_retry_count_and_the_wait_before_each_retry(session, policy, waits):
    # retries.go: attempts = retry + 1; exponential delay*2^(n-1), linear delay*(n-1)
    failing = Recorder(lambda _n: Answer(503))
    try:
        to_recorder(session, failing, delivery={"retry": 3, "backoffPolicy": policy,
                                                "backoffDelay": "PT0.2S"})
        assert post(session.broker_url(), binary()) == 202
        got = failing.wait(4)
        gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
        assert gaps == pytest.approx(waits, abs=0.12)
        frame = settled(session, "failed")
        assert int(frame["attempts"].iloc[0]) == 4 and int(frame["code"].iloc[0]) == 503
    finally:
        failing.close()


def test_no_wait_between_retries_without_a_backoff_policy(session):
    failing = Recorder(lambda _n: Answer(500))
    try:
        to_recorder(session, failing, delivery={"retry": 2, "backoffDelay": "PT2S"})
        assert post(session.broker_url(), binary()) == 202
        got = failing.wait(3)
        assert got[-1].at - got[0].at < 1.0
    finally:
        failing.close()


def test_a_trigger_without_delivery_inherits_the_broker_defaults(session):
    # default-broker.yaml: retry 10, exponential, PT0.2S on every Broker
    flaky = Recorder(lambda n: Answer(503 if n < 3 else 202))
    try:
        to_recorder(session, flaky)
        assert post(session.broker_url(), binary()) == 202
        got = flaky.wait(4, timeout=30)
        gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
        assert gaps == pytest.approx([0.2, 0.4, 0.8], abs=0.12)
    finally:
        flaky.close()


def test_a_trigger_inherits_its_brokers_own_delivery(session):
    from seldon_jupyter import resources

    failing = Recorder(lambda _n: Answer(503))
    try:
        session.apply(resources.broker(namespace=session.namespace,
                                       delivery={"retry": 1}), wait=True)
        to_recorder(session, failing)
        assert post(session.broker_url(), binary()) == 202
        assert len(failing.wait(2)) == 2
        frame = settled(session, "failed")
        assert int(frame["attempts"].iloc[0]) == 2
    finally:
        failing.close()


def test_dead_letter_of_an_http_failure(session, dead_letters):
    # event_dispatcher.go + knative_error.go: the event as delivered (arrival time and TTL
    # kept) plus knativeerrordest, knativeerrorcode and base64 knativeerrordata
    failing = Recorder(lambda _n: Answer(500, {}, b"model exploded " * 200))
    try:
        to_recorder(session, failing, delivery={"retry": 0,
                                                "deadLetterSink": {"uri": dead_letters.url}})
        assert post(session.broker_url(), binary()) == 202
        (letter,) = dead_letters.wait(1)
        h = letter.headers
        assert h["ce-knativeerrordest"] == failing.url and h["ce-knativeerrorcode"] == "500"
        assert len(h["ce-knativeerrordata"]) <= 1024
        assert base64.b64decode(h["ce-knativeerrordata"]).startswith(b"model exploded")
        assert "ce-knativearrivaltime" in h and h["ce-knativebrokerttl"] == "255"
    finally:
        failing.close()


def test_dead_letter_of_a_connection_error_is_code_500_dispatch_error(session, dead_letters):
    # knative_error.go: no response -> code "500", data base64("dispatch error: ...")
    from seldon_jupyter import resources

    session.apply(resources.trigger("nowhere", namespace=session.namespace,
                                    uri="http://127.0.0.1:9/", delivery={
                                        "retry": 1, "deadLetterSink": {"uri": dead_letters.url}}),
                  wait=True)
    assert post(session.broker_url(), binary()) == 202
    (letter,) = dead_letters.wait(1)
    assert letter.headers["ce-knativeerrorcode"] == "500"
    assert base64.b64decode(letter.headers["ce-knativeerrordata"]).startswith(
        b"dispatch error: ")
    frame = settled(session, "dead-lettered")
    assert int(frame["attempts"].iloc[0]) == 2


def test_a_timeout_is_dead_lettered_like_a_connection_error(session, dead_letters):
    slow = Recorder(lambda _n: Answer(202, delay=1.5))
    try:
        to_recorder(session, slow, delivery={"retry": 0, "timeout": "PT0.3S",
                                             "deadLetterSink": {"uri": dead_letters.url}})
        assert post(session.broker_url(), binary()) == 202
        (letter,) = dead_letters.wait(1)
        assert letter.headers["ce-knativeerrorcode"] == "500"
        assert b"dispatch error" in base64.b64decode(letter.headers["ce-knativeerrordata"])
    finally:
        slow.close()
