from __future__ import annotations

import base64
import json

import pytest

from seldon_jupyter import events
from seldon_jupyter.errors import EventError


def make(version: str = "1.0", data=None, **kw):
    return events.new_event({"data": {"ndarray": [[1, 2, 3, 4]]}} if data is None else data,
                            type="seldon.iris-deployment.default.request",
                            source="seldon.examples.streaming.curl", specversion=version, **kw)


@pytest.mark.parametrize("version", ["1.0", "0.3"])
def test_binary_round_trip_keeps_attributes_and_body_bytes(version):
    event = make(version, extensions={"traceid": "abc 1/2"}, subject="s")
    headers, body = events.to_binary(event)
    assert headers["ce-specversion"] == version
    assert headers["content-type"] == "application/json"
    assert headers["ce-traceid"] == "abc%201/2"  # space percent-encoded per the HTTP binding
    assert body == event.data
    parsed = events.from_http(headers, body)
    assert parsed == event
    assert parsed.extensions == {"traceid": "abc 1/2"}
    assert parsed.json() == {"data": {"ndarray": [[1, 2, 3, 4]]}}


def test_header_names_are_case_insensitive_like_the_seed_curl():
    headers = {"Ce-Id": "536808d3", "Ce-specversion": "0.3", "Ce-Type": "t", "Ce-Source": "s",
               "Content-Type": "application/json"}
    event = events.from_http(headers, b'{"data": { "ndarray": [[1,2,3,4]]}}')
    assert (event.id, event.specversion, event.type, event.source) == ("536808d3", "0.3", "t", "s")
    assert event.data == b'{"data": { "ndarray": [[1,2,3,4]]}}'  # body bytes untouched


@pytest.mark.parametrize("version", ["1.0", "0.3"])
def test_structured_round_trip_with_json_data(version):
    event = make(version)
    headers, body = events.to_structured(event)
    assert headers == {"content-type": events.STRUCTURED}
    doc = json.loads(body)
    assert doc["data"] == {"data": {"ndarray": [[1, 2, 3, 4]]}}
    assert events.from_http(headers, body).json() == event.json()


def test_structured_binary_data_uses_base64_per_version():
    for version, field in (("1.0", "data_base64"), ("0.3", "data")):
        event = make(version, data=b"\x00\x01binary", datacontenttype="application/octet-stream")
        headers, body = events.to_structured(event)
        doc = json.loads(body)
        assert base64.b64decode(doc[field]) == b"\x00\x01binary"
        assert events.from_http(headers, body).data == b"\x00\x01binary"


def test_batch_round_trip_and_ingress_refusal():
    batch = [make(), make("0.3")]
    headers, body = events.to_batch(batch)
    assert headers["content-type"] == events.BATCH
    assert [e.id for e in events.from_batch(body)] == [e.id for e in batch]
    with pytest.raises(EventError, match="batched"):
        events.from_http(headers, body)


@pytest.mark.parametrize(("headers", "message"), [
    ({"ce-specversion": "1.0", "ce-type": "t"}, "missing required attribute.*id, source"),
    ({"ce-specversion": "2.0", "ce-type": "t", "ce-id": "1", "ce-source": "s"},
     "unsupported CloudEvents specversion '2.0'"),
    ({"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s", "ce-Bad_x": "1"},
     "invalid extension attribute name 'bad_x'"),
    ({"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s",
      "ce-averyveryverylongextension": "1"}, "invalid extension attribute name"),
    ({"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s",
      "ce-time": "yesterday"}, "not an RFC 3339 timestamp"),
    ({"content-type": "application/json"}, "not a CloudEvent"),
])
def test_malformed_binary_events_are_refused_with_the_reason(headers, message):
    with pytest.raises(EventError, match=message):
        events.from_http(headers, b"{}")


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"specversion": "1.0", "id": "1", "type": "t"}', "missing required attribute.*source"),
    (b'{"specversion": "1.0", "id": "1", "type": "t", "source": "s", "data_base64": "%%"}',
     "not valid base64"),
])
def test_malformed_structured_events_are_refused(body, message):
    with pytest.raises(EventError, match=message):
        events.from_http({"Content-Type": "application/cloudevents+json"}, body)


def test_new_event_rejects_unserialisable_data_with_a_hint():
    with pytest.raises(EventError, match="not JSON serialisable") as info:
        make(data=object())
    assert "payloads" in str(info.value)


def test_event_json_error_is_clear():
    event = make(data=b"\xff\xfe", datacontenttype="application/octet-stream")
    with pytest.raises(EventError, match="not JSON"):
        event.json()
