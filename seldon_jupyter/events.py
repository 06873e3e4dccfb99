"""CloudEvents as the package holds them: with `event_http`, the only modules that import
the cloudevents SDK.

Events travel through the package as `Event`: the context attributes as strings and the
data as the exact body bytes, so the broker can route on attributes and forward bodies
unparsed. Validation is the SDK's (spec 1.0 and 0.3), turned into `EventError`; building
events, their ids and bodies, and Knative's time formats live here too. The HTTP
encodings (binary, structured, batched) are `event_http`'s.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from time import time_ns
from typing import Any

from cloudevents.core.bindings.common import decode_header_value
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v03.event import CloudEvent as CloudEventV03
from cloudevents.core.v1.event import CloudEvent as CloudEventV1

from seldon_jupyter.errors import EventError

SPECVERSIONS = {"1.0": CloudEventV1, "0.3": CloudEventV03}
REQUIRED = ("id", "source", "specversion", "type")
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
# [a-z0-9]+ (sdk-go event/extensions.go); "at most 20 characters" is only a SHOULD
_EXTENSION_NAME = re.compile(r"^[a-z0-9]+$")
_JSON_TYPE = JSONFormat.JSON_CONTENT_TYPE_PATTERN
_CORE = {
    "1.0": {"id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject",
            "time"},
    "0.3": {"id", "source", "specversion", "type", "datacontenttype", "schemaurl", "subject",
            "time", "datacontentencoding"},
}


@dataclass(frozen=True)
class Event:
    """A CloudEvent as it travels: string attributes plus the raw data bytes."""

    attributes: Mapping[str, str]
    data: bytes = b""
    _json: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.attributes["id"]

    @property
    def type(self) -> str:
        return self.attributes["type"]

    @property
    def source(self) -> str:
        return self.attributes["source"]

    @property
    def specversion(self) -> str:
        return self.attributes["specversion"]

    @property
    def datacontenttype(self) -> str | None:
        return self.attributes.get("datacontenttype")

    @property
    def time(self) -> str | None:
        return self.attributes.get("time")

    @property
    def extensions(self) -> dict[str, str]:
        core = _CORE.get(self.specversion, _CORE["1.0"])
        return {k: v for k, v in self.attributes.items() if k not in core}

    def json(self) -> Any:
        """The data parsed as JSON (cached); EventError when it is not JSON."""
        if not self._json:
            try:
                self._json.append(json.loads(self.data) if self.data else None)
            except (ValueError, UnicodeDecodeError) as exc:
                raise EventError(
                    f"event {self.id!r} data is not JSON ({exc})",
                    hint="read .data for the raw bytes",
                ) from exc
        return self._json[0]

    def with_attributes(self, **changes: str | None) -> Event:
        """A copy with attributes set (or removed where the value is None)."""
        attrs = dict(self.attributes)
        for key, value in changes.items():
            if value is None:
                attrs.pop(key, None)
            else:
                attrs[key] = value
        return Event(attrs, self.data)


def is_json_type(content_type: str | None) -> bool:
    return content_type is None or bool(_JSON_TYPE.match(content_type))


def validate(attributes: Mapping[str, str]) -> None:
    """Check attributes as the spec demands; raise EventError naming what is wrong."""
    missing = [name for name in REQUIRED if not attributes.get(name)]
    if missing:
        raise EventError(
            f"CloudEvent is missing required attribute(s): {', '.join(missing)}",
            hint="binary mode needs ce-id, ce-source, ce-specversion and ce-type headers",
        )
    version = attributes["specversion"]
    factory = SPECVERSIONS.get(version)
    if factory is None:
        raise EventError(
            f"unsupported CloudEvents specversion {version!r}",
            hint="use specversion 1.0 or 0.3",
        )
    for name in attributes:
        if name not in _CORE[version] and not _EXTENSION_NAME.match(name):
            raise EventError(
                f"invalid extension attribute name {name!r}",
                hint="extension names are lowercase letters or digits (a-z, 0-9)",
            )
    for name, value in attributes.items():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # raw bytes in a header, or a lone surrogate
            raise EventError(f"attribute {name!r} is not valid UTF-8 text",
                             hint="CloudEvents attribute values are Unicode strings") from exc
        except AttributeError:
            pass  # a JSON number or boolean in structured mode: typed later
    checked: dict[str, Any] = dict(attributes)
    if "time" in checked:
        try:
            checked["time"] = decode_header_value("time", checked["time"])
        except (ValueError, OverflowError) as exc:
            raise EventError(
                f"attribute 'time' is not an RFC 3339 timestamp: {attributes['time']!r}",
                hint="for example 2024-05-01T12:00:00Z",
            ) from exc
    key = _sdk_key(checked)
    if key in _SDK_PASSED:
        return
    if "time" not in checked:
        checked["time"] = datetime.now(UTC)  # the SDK requires one; the event keeps none
    try:
        factory(checked, None)
    except BaseCloudEventException as exc:
        raise EventError(f"invalid CloudEvent: {exc}") from exc
    if len(_SDK_PASSED) >= 4096:
        _SDK_PASSED.clear()
    _SDK_PASSED.add(key)


# What the SDK's validation depends on, and nothing more (cloudevents/core/v1 and v03
# event.py): which attributes are present, the type of each value and whether it is empty,
# the specversion, and whether `time` is a timezone-aware datetime. Events of one stream
# differ in id, time and data only, so the SDK runs once per kind of event, not per event.
_SDK_PASSED: set[tuple[Any, ...]] = set()


def _sdk_key(checked: Mapping[str, Any]) -> tuple[Any, ...]:
    when = checked.get("time")
    zone = ("none" if "time" not in checked else "aware" if isinstance(when, datetime)
            and when.tzinfo is not None else "other")
    return (checked.get("specversion"), zone,
            *sorted((name, type(value), bool(value)) for name, value in checked.items()
                    if name != "time"))


# one encoder for every body: json.dumps with options builds a new encoder on each call
# allow_nan=False: `NaN` is not JSON, and Go's (Knative's, Seldon's executor's) parsers refuse it
_compact = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one read of the OS's randomness
    instead of one per id (uuid4's os.urandom call was a third of building 10k events)."""
    raw = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=raw[i:i + 16], version=4)) for i in range(0, 16 * count, 16)]


def encode_data(data: Any, datacontenttype: str | None) -> bytes:
    """Bytes for an event body: JSON for dicts/lists/numbers, UTF-8 for text."""
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str) and not is_json_type(datacontenttype):
        return data.encode()
    try:
        return _compact(data).encode()
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise EventError(
                "event data holds NaN or an infinity, which JSON cannot carry",
                hint="drop or fill the missing values first, e.g. frame.dropna() or "
                     "frame.fillna(0)") from exc
        raise EventError(f"event data is not JSON serialisable ({exc})") from exc
    except TypeError as exc:
        raise EventError(
            f"event data of type {type(data).__name__} is not JSON serialisable ({exc})",
            hint="pass a dict, list, str or bytes; seldon_jupyter.payloads builds Seldon payloads",
        ) from exc


def new_event(
    data: Any = None,
    *,
    type: str,  # noqa: A002 - the CloudEvents attribute is called type
    source: str,
    id: str | None = None,  # noqa: A002
    specversion: str = "1.0",
    datacontenttype: str | None = "application/json",
    time: datetime | str | None = None,
    subject: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Event:
    """Build and validate an event; data is JSON-encoded unless it is bytes or text."""
    attrs: dict[str, str] = {
        "specversion": specversion,
        "id": id or str(uuid.uuid4()),
        "source": source,
        "type": type,
    }
    if time is not None:
        attrs["time"] = _rfc3339(time) if isinstance(time, datetime) else time
    if subject is not None:
        attrs["subject"] = subject
    if datacontenttype is not None and data is not None:
        attrs["datacontenttype"] = datacontenttype
    for name, value in (extensions or {}).items():
        attrs[name] = str(value).lower() if isinstance(value, bool) else str(value)
    validate(attrs)
    return Event(attrs, encode_data(data, datacontenttype))


def like(template: Event, data: Any, *, id: str) -> Event:  # noqa: A002
    """An event with `template`'s attributes (validated when it was built) and another id
    and body: for sending many rows, where only those differ."""
    return Event({**template.attributes, "id": id},
                 encode_data(data, template.attributes.get("datacontenttype")))


def go_rfc3339_nano(moment: datetime) -> str:
    """A time as Go's `t.UTC().Format(time.RFC3339Nano)` writes it: UTC, Z, the fraction
    without trailing zeros (none at all for whole seconds)."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def now_rfc3339_nano() -> str:
    """Now, as Knative stamps `knativearrivaltime` (nanosecond precision, UTC)."""
    seconds, fraction = divmod(time_ns(), 1_000_000_000)
    text = _second_text(seconds)
    return text + (("." + f"{fraction:09d}".rstrip("0")) if fraction else "") + "Z"


@lru_cache(maxsize=4)
def _second_text(seconds: int) -> str:
    """The whole-second part, formatted once per second (strftime is the slow part)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def normalized_time(value: str) -> str:
    """An RFC 3339 `time` re-serialised in UTC, as Knative forwards it."""
    try:
        moment = decode_header_value("time", value)
    except (ValueError, OverflowError):
        return value
    if not isinstance(moment, datetime):
        return value
    # keep sub-microsecond digits the text had (Python datetimes stop at microseconds)
    fraction = re.search(r"\.(\d+)", value)
    base = go_rfc3339_nano(moment.replace(microsecond=0))[:-1]
    if fraction and fraction.group(1).rstrip("0"):
        base += "." + fraction.group(1).rstrip("0")
    return base + "Z"


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
