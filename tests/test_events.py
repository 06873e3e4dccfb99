from __future__ import annotations

import pytest

from seldon_jupyter import event_http, events
from seldon_jupyter.errors import EventError


def make(version: str = "1.0", data=None, **kw):
    return events.new_event({"data": {"ndarray": [[1, 2, 3, 4]]}} if data is None else data,
                            type="seldon.iris-deployment.default.request",
                            source="seldon.examples.streaming.curl", specversion=version, **kw)


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
    assert event_http.from_http(headers, b"").extensions == {"averyveryverylongextension": "1"}


def test_time_is_normalised_to_utc_as_go_formats_it():
    assert events.normalized_time("2018-04-05T03:56:24+02:00") == "2018-04-05T01:56:24Z"
    assert events.normalized_time("2018-04-05T01:56:24.120000Z") == "2018-04-05T01:56:24.12Z"
    stamp = events.now_rfc3339_nano()
    assert stamp.endswith("Z") and len(stamp.split(".")[-1]) <= 10


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
