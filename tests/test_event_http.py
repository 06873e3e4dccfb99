"""The HTTP binding: binary, structured and batched modes, in and out."""

from __future__ import annotations

import base64
import json

import pytest

from seldon_jupyter import event_http, events
from seldon_jupyter.errors import EventError


def make(version: str = "1.0", data=None, **kw):
    return events.new_event({"data": {"ndarray": [[1, 2, 3, 4]]}} if data is None else data,
                            type="seldon.iris-deployment.default.request",
                            source="seldon.examples.streaming.curl", specversion=version, **kw)


@pytest.mark.parametrize("version", ["1.0", "0.3"])
def test_binary_round_trip_keeps_attributes_and_body_bytes(version):
    event = make(version, extensions={"traceid": "abc 1/2"}, subject="s")
    headers, body = event_http.to_binary(event)
    assert headers["ce-specversion"] == version
    assert headers["content-type"] == "application/json"
    # verbatim: sdk-go (what Knative runs) neither percent-encodes nor decodes header values
    assert headers["ce-traceid"] == "abc 1/2"
    assert body == event.data
    parsed = event_http.from_http(headers, body)
    assert parsed == event
    assert parsed.extensions == {"traceid": "abc 1/2"}
    assert parsed.json() == {"data": {"ndarray": [[1, 2, 3, 4]]}}


def test_header_names_are_case_insensitive_like_the_seed_curl():
    headers = {"Ce-Id": "536808d3", "Ce-specversion": "0.3", "Ce-Type": "t", "Ce-Source": "s",
               "Content-Type": "application/json"}
    event = event_http.from_http(headers, b'{"data": { "ndarray": [[1,2,3,4]]}}')
    assert (event.id, event.specversion, event.type, event.source) == ("536808d3", "0.3", "t", "s")
    assert event.data == b'{"data": { "ndarray": [[1,2,3,4]]}}'  # body bytes untouched


@pytest.mark.parametrize("version", ["1.0", "0.3"])
def test_structured_round_trip_with_json_data(version):
    event = make(version)
    headers, body = event_http.to_structured(event)
    assert headers == {"content-type": events.STRUCTURED}
    doc = json.loads(body)
    assert doc["data"] == {"data": {"ndarray": [[1, 2, 3, 4]]}}
    assert event_http.from_http(headers, body).json() == event.json()


def test_structured_binary_data_uses_base64_per_version():
    for version, field in (("1.0", "data_base64"), ("0.3", "data")):
        event = make(version, data=b"\x00\x01binary", datacontenttype="application/octet-stream")
        headers, body = event_http.to_structured(event)
        doc = json.loads(body)
        assert base64.b64decode(doc[field]) == b"\x00\x01binary"
        assert event_http.from_http(headers, body).data == b"\x00\x01binary"


def test_batch_round_trip_and_ingress_refusal():
    batch = [make(), make("0.3")]
    headers, body = event_http.to_batch(batch)
    assert headers["content-type"] == events.BATCH
    assert [e.id for e in event_http.from_batch(body)] == [e.id for e in batch]
    with pytest.raises(EventError, match="batched"):
        event_http.from_http(headers, body)


@pytest.mark.parametrize(("headers", "message"), [
    ({"ce-specversion": "1.0", "ce-type": "t"}, "missing required attribute.*id, source"),
    ({"ce-specversion": "2.0", "ce-type": "t", "ce-id": "1", "ce-source": "s"},
     "unsupported CloudEvents specversion '2.0'"),
    ({"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s", "ce-Bad_x": "1"},
     "invalid extension attribute name 'bad_x'"),
    ({"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s",
      "ce-time": "yesterday"}, "not an RFC 3339 timestamp"),
    ({"content-type": "application/json"}, "not a CloudEvent"),
])
def test_malformed_binary_events_are_refused_with_the_reason(headers, message):
    with pytest.raises(EventError, match=message):
        event_http.from_http(headers, b"{}")


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"specversion": "1.0", "id": "1", "type": "t"}', "missing required attribute.*source"),
    (b'{"specversion": "1.0", "id": "1", "type": "t", "source": "s", "data_base64": "%%"}',
     "not valid base64"),
])
def test_malformed_structured_events_are_refused(body, message):
    with pytest.raises(EventError, match=message):
        event_http.from_http({"Content-Type": "application/cloudevents+json"}, body)


def test_percent_signs_in_header_values_stay_as_they_are():
    headers = {"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "a%20b"}
    assert event_http.from_http(headers, b"").source == "a%20b"


def test_structured_mode_is_chosen_by_content_type_prefix():
    # sdk-go protocol/http/message.go: application/cloudevents* (parameters allowed) wins
    assert event_http.content_mode({"Content-Type": "application/cloudevents+json; charset=utf-8",
                                "ce-specversion": "1.0"}) == "structured"
    assert event_http.content_mode({"content-type": "application/cloudevents-batch+json"}
                                   ) == "batch"


def test_attributes_that_are_not_utf8_and_bodies_nested_too_deep_are_event_errors():
    headers = {"ce-id": "a\udcff", "ce-source": "s", "ce-type": "t", "ce-specversion": "1.0"}
    with pytest.raises(EventError, match="attribute 'id' is not valid UTF-8"):
        event_http.from_http(headers, b"")
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(EventError, match="nested too deeply"):
        event_http.from_http({"Content-Type": "application/cloudevents+json"}, deep)
