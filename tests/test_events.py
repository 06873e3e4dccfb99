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
    # verbatim: sdk-go (what Knative runs) neither percent-encodes nor decodes header values
    assert headers["ce-traceid"] == "abc 1/2"
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


def test_extension_names_of_any_length_are_valid():
    # sdk-go event/extensions.go: [a-z0-9]+; the 20-character limit is only a SHOULD
    headers = {"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "s",
               "ce-averyveryverylongextension": "1"}
    assert events.from_http(headers, b"").extensions == {"averyveryverylongextension": "1"}


def test_percent_signs_in_header_values_stay_as_they_are():
    headers = {"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1", "ce-source": "a%20b"}
    assert events.from_http(headers, b"").source == "a%20b"


def test_structured_mode_is_chosen_by_content_type_prefix():
    # sdk-go protocol/http/message.go: application/cloudevents* (parameters allowed) wins
    assert events.content_mode({"Content-Type": "application/cloudevents+json; charset=utf-8",
                                "ce-specversion": "1.0"}) == "structured"
    assert events.content_mode({"content-type": "application/cloudevents-batch+json"}
                               ) == "batch"


def test_time_is_normalised_to_utc_as_go_formats_it():
    assert events.normalized_time("2018-04-05T03:56:24+02:00") == "2018-04-05T01:56:24Z"
    assert events.normalized_time("2018-04-05T01:56:24.120000Z") == "2018-04-05T01:56:24.12Z"
    stamp = events.now_rfc3339_nano()
    assert stamp.endswith("Z") and len(stamp.split(".")[-1]) <= 10


def test_attributes_that_are_not_utf8_and_bodies_nested_too_deep_are_event_errors():
    import pytest

    from seldon_jupyter import events as ev
    from seldon_jupyter.errors import EventError

    headers = {"ce-id": "a\udcff", "ce-source": "s", "ce-type": "t", "ce-specversion": "1.0"}
    with pytest.raises(EventError, match="attribute 'id' is not valid UTF-8"):
        ev.from_http(headers, b"")
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(EventError, match="nested too deeply"):
        ev.from_http({"Content-Type": "application/cloudevents+json"}, deep)


def test_an_event_made_like_another_differs_only_in_id_and_body():
    first = events.new_event({"x": 1}, type="t", source="s", subject="row",
                             extensions={"team": "a"})
    other = events.like(first, {"x": 2}, id="second")
    assert other.id == "second" and other.json() == {"x": 2}
    assert {**other.attributes, "id": first.id} == dict(first.attributes)
    events.validate(other.attributes)


def test_new_ids_are_distinct_version_4_uuids():
    import uuid

    ids = events.new_ids(1000)
    assert len(set(ids)) == 1000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert all(str(u) == i for u, i in zip(parsed, ids, strict=True))
    assert events.new_ids(0) == []


def test_validation_remembered_per_kind_of_event_still_refuses_what_differs():
    """The SDK's checks run once per kind of event (names, value types, emptiness); an
    event that differs in any of those is checked again and refused as before."""
    base = {"specversion": "1.0", "id": "a", "source": "s", "type": "t", "subject": "x",
            "time": "2024-05-01T12:00:00Z"}
    events.validate(base)
    events.validate({**base, "id": "b", "time": "2025-01-01T00:00:00+02:00"})  # same kind
    with pytest.raises(EventError, match="subject"):
        events.validate({**base, "subject": ""})
    with pytest.raises(EventError):
        events.validate({**base, "time": "2024-05-01T12:00:00"})  # no zone
    with pytest.raises(EventError, match="data"):
        events.validate({**base, "data": "reserved"})
    structured = {**base, "subject": 5}  # a JSON number where text is required
    with pytest.raises(EventError, match="subject"):
        events.validate(structured)
