"""Broker ingress facts (knative/eventing pkg/broker/ingress/ingress_handler.go), raw HTTP.

Each test is one fact of ../shared/PROTOCOL.md, "Broker ingress" and "CloudEvents over
HTTP", checked against the real local broker process.
"""

from __future__ import annotations

import json

import requests

from tests.protocol.conftest import binary, to_recorder


def post(url: str, headers: dict[str, str], body: bytes = b"{}") -> requests.Response:
    return requests.post(url, data=body, headers={"content-type": "application/json",
                                                  **headers}, timeout=10)


def root(session) -> str:
    return session.broker_url().rsplit("/", 2)[0]


def test_every_answer_carries_allow_post_options(session):
    # ingress_handler.go: writer.Header().Set("Allow", "POST, OPTIONS") before any answer
    url = session.broker_url()
    answers = [post(url, binary()), post(url, {"ce-specversion": "1.0"}),
               post(url + "x", binary()), requests.get(url, timeout=10)]
    assert [a.status_code for a in answers] == [202, 400, 404, 405]
    assert all(a.headers.get("Allow") == "POST, OPTIONS" for a in answers)


def test_options_is_200_with_webhook_headers(session):
    # ingress_handler.go: OPTIONS -> WebHook-Allowed-Origin / WebHook-Allowed-Rate, 200
    answer = requests.options(session.broker_url(), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["WebHook-Allowed-Origin"] == "*"
    assert answer.headers["WebHook-Allowed-Rate"] == "*"


def test_root_is_404_and_a_path_that_is_not_ns_broker_is_400(session):
    # ingress_handler.go: "/" -> 404; ConvertPathToNamespacedName fails -> 400
    assert post(root(session) + "/", binary()).status_code == 404
    assert post(root(session) + "/only-one", binary()).status_code == 400
    assert post(session.broker_url() + "/extra", binary()).status_code == 400


def test_a_trailing_slash_is_accepted(session):
    assert post(session.broker_url() + "/", binary()).status_code == 202


def test_the_event_is_validated_before_the_broker_is_looked_up(session):
    # ingress_handler.go: ToEvent + Validate come before getBroker
    unknown = root(session) + f"/{session.namespace}/no-such-broker"
    assert post(unknown, {"ce-specversion": "1.0", "ce-id": "x"}).status_code == 400
    assert post(unknown, binary()).status_code == 404


def test_extension_names_longer_than_20_characters_are_accepted(session, recorder):
    # sdk-go event/extensions.go: [a-z0-9]+, the 20-character limit is only a SHOULD
    to_recorder(session, recorder)
    long_name = "averyveryverylongextensionname"
    assert post(session.broker_url(), binary(**{long_name: "v"})).status_code == 202
    (got,) = recorder.wait(1)
    assert got.headers[f"ce-{long_name}"] == "v"


def test_header_values_pass_verbatim_and_filters_compare_the_raw_value(session, recorder):
    # sdk-go writes and reads ce- headers without percent-coding; the filter sees "a%20b"
    to_recorder(session, recorder, filter={"source": "a%20b"})
    assert post(session.broker_url(), binary(source="a%20b")).status_code == 202
    (got,) = recorder.wait(1)
    assert got.headers["ce-source"] == "a%20b"


def test_time_is_reserialised_in_utc(session, recorder):
    # sdk-go types.Timestamp: forwarded as t.UTC().Format(time.RFC3339Nano)
    to_recorder(session, recorder)
    assert post(session.broker_url(), binary(time="2018-04-05T03:56:24+02:00")
                ).status_code == 202
    (got,) = recorder.wait(1)
    assert got.headers["ce-time"] == "2018-04-05T01:56:24Z"


def test_no_small_body_limit(session, recorder):
    # Knative sets no body limit; the local default is tens of MiB (configurable)
    to_recorder(session, recorder)
    big = json.dumps({"blob": "x" * (12 * 1024 * 1024)}).encode()
    assert post(session.broker_url(), binary(), big).status_code == 202
    (got,) = recorder.wait(1, timeout=60)
    assert len(got.body) == len(big)


def test_ttl_is_set_decremented_and_enforced(session, recorder):
    # ingress_handler.go + broker/ttl.go: absent -> 255; present -> decremented by the
    # filter side; not an integer -> 255; 0 or less after decrement -> 400, dropped
    to_recorder(session, recorder)
    url = session.broker_url()
    assert post(url, binary(id="absent")).status_code == 202
    assert post(url, binary(id="given", knativebrokerttl="7")).status_code == 202
    assert post(url, binary(id="junk", knativebrokerttl="many")).status_code == 202
    assert post(url, binary(id="last", knativebrokerttl="1")).status_code == 400
    recorder.wait(3)
    journaled = session.events().set_index("id")
    assert journaled.loc["absent", "ttl"] == 255 and journaled.loc["junk", "ttl"] == 255
    assert journaled.loc["given", "ttl"] == 6
    assert journaled.loc["last", "status"] == "dropped"


def test_arrival_time_is_set_in_utc_rfc3339(session, recorder):
    # ingress_handler.go: knativearrivaltime = time.Now().UTC().Format(time.RFC3339Nano)
    to_recorder(session, recorder)
    assert post(session.broker_url(), binary()).status_code == 202
    (got,) = recorder.wait(1)
    stamp = got.headers["ce-knativearrivaltime"]
    assert stamp.endswith("Z") and stamp[10] == "T"


def test_batched_mode_is_400(session):
    # knative/eventing issues 2880, 6797: the ingress does not take batches
    batch = json.dumps([{"specversion": "1.0", "id": "1", "source": "s", "type": "t"}])
    answer = requests.post(session.broker_url(), data=batch, timeout=10,
                           headers={"content-type": "application/cloudevents-batch+json"})
    assert answer.status_code == 400


def test_structured_mode_wins_over_ce_headers(session, recorder):
    # spec http-protocol-binding.md 3.1: application/cloudevents* is structured
    to_recorder(session, recorder)
    body = json.dumps({"specversion": "1.0", "id": "s1", "source": "structured",
                       "type": "proto.test", "data": {"x": 1}}).encode()
    answer = requests.post(session.broker_url(), data=body, timeout=10, headers={
        "content-type": "application/cloudevents+json; charset=utf-8",
        **binary(id="ignored", source="ignored")})
    assert answer.status_code == 202
    (got,) = recorder.wait(1)
    assert (got.headers["ce-id"], got.headers["ce-source"]) == ("s1", "structured")
