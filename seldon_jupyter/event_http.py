"""CloudEvents in and out of HTTP: the binary, structured and batched modes of the HTTP
protocol binding, as Knative (sdk-go) reads and writes them.

Every failure is an `EventError` naming what was wrong; validation is `events.validate`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from seldon_jupyter.errors import EventError
from seldon_jupyter.events import (
    BATCH,
    STRUCTURED,
    Event,
    encode_data,
    is_json_type,
    validate,
)


def to_binary(event: Event) -> tuple[dict[str, str], bytes]:
    """HTTP binary mode: ce-* headers and the data as the body.

    Values go out verbatim: the binding says percent-encode, but Knative (sdk-go) neither
    encodes nor decodes, and its filters compare the raw header string."""
    headers: dict[str, str] = {}
    for name, value in event.attributes.items():
        if name == "datacontenttype":
            headers["content-type"] = value
        else:
            headers["ce-" + name] = value
    return headers, event.data


def _structured_dict(event: Event) -> dict[str, Any]:
    body: dict[str, Any] = dict(event.attributes)
    if not event.data:
        return body
    if is_json_type(event.datacontenttype):
        try:
            body["data"] = json.loads(event.data)
            return body
        except (ValueError, UnicodeDecodeError):
            pass
    elif (event.datacontenttype or "").startswith("text/"):
        try:
            body["data"] = event.data.decode()
            return body
        except UnicodeDecodeError:
            pass
    encoded = base64.b64encode(event.data).decode()
    if event.specversion == "0.3":
        body["datacontentencoding"] = "base64"
        body["data"] = encoded
    else:
        body["data_base64"] = encoded
    return body


def to_structured(event: Event) -> tuple[dict[str, str], bytes]:
    """HTTP structured mode: the whole event as one JSON document."""
    return {"content-type": STRUCTURED}, json.dumps(_structured_dict(event)).encode()


def to_batch(events: Iterable[Event]) -> tuple[dict[str, str], bytes]:
    """HTTP batched mode: a JSON array of structured events."""
    return {"content-type": BATCH}, json.dumps([_structured_dict(e) for e in events]).encode()


def _from_mapping(raw: Any, where: str) -> Event:
    if not isinstance(raw, dict):
        raise EventError(f"{where} must be a JSON object, got {type(raw).__name__}")
    attrs: dict[str, str] = {}
    for name, value in raw.items():
        if name in ("data", "data_base64"):
            continue
        if isinstance(value, dict | list) or value is None:
            raise EventError(f"{where}: attribute {name!r} must be a string, number or boolean")
        attrs[name] = str(value).lower() if isinstance(value, bool) else str(value)
    validate(attrs)
    ctype = attrs.get("datacontenttype")
    if "data_base64" in raw:
        try:
            data = base64.b64decode(raw["data_base64"], validate=True)
        except (ValueError, TypeError) as exc:
            raise EventError(f"{where}: data_base64 is not valid base64") from exc
    elif attrs.get("datacontentencoding", "").lower() == "base64" and "data" in raw:
        try:
            data = base64.b64decode(raw["data"], validate=True)
        except (ValueError, TypeError) as exc:
            raise EventError(f"{where}: data is not valid base64") from exc
    elif "data" in raw:
        value = raw["data"]
        data = value.encode() if isinstance(value, str) and not is_json_type(ctype) else (
            encode_data(value, "application/json"))
        if ctype is None:
            attrs["datacontenttype"] = "application/json"
    else:
        data = b""
    return Event(attrs, data)


def _load_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"{what} body is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise EventError(f"{what} body is nested too deeply to read") from exc


def from_structured(body: bytes) -> Event:
    return _from_mapping(_load_json(body, "structured CloudEvent"), "structured CloudEvent")


def from_batch(body: bytes) -> list[Event]:
    raw = _load_json(body, "batched CloudEvents")
    if not isinstance(raw, list):
        raise EventError("batched CloudEvents must be a JSON array of structured events")
    return [_from_mapping(item, f"batch item {i}") for i, item in enumerate(raw)]


def from_binary(headers: Mapping[str, str], body: bytes) -> Event:
    attrs: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("ce-"):
            attrs[lower[3:]] = value  # verbatim, as sdk-go reads it
        elif lower == "content-type":
            attrs["datacontenttype"] = value
    validate(attrs)
    return Event(attrs, bytes(body))


def content_mode(headers: Mapping[str, str]) -> str:
    """'binary', 'structured', 'batch' or 'none' (not a CloudEvent at all)."""
    ctype = ""
    has_ce = False
    for name, value in headers.items():
        lower = name.lower()
        if lower == "content-type":
            ctype = value.split(";", 1)[0].strip().lower()
        elif lower == "ce-specversion":
            has_ce = True
    # http-protocol-binding.md 3.1; sdk-go protocol/http/message.go: by prefix, and a
    # structured Content-Type wins over any ce- headers
    if ctype.startswith("application/cloudevents-batch"):
        return "batch"
    if ctype.startswith("application/cloudevents"):
        return "structured"
    return "binary" if has_ce else "none"


def from_http(headers: Mapping[str, str], body: bytes) -> Event:
    """Parse one event from an HTTP message (binary or structured mode)."""
    mode = content_mode(headers)
    if mode == "structured":
        return from_structured(body)
    if mode == "binary":
        return from_binary(headers, body)
    if mode == "batch":
        raise EventError(
            "batched CloudEvents are not accepted here",
            hint="send events one at a time (Session.send_many does that concurrently)",
        )
    raise EventError(
        "request is not a CloudEvent: no ce-specversion header and Content-Type is not "
        f"{STRUCTURED}",
        hint="add ce-id, ce-source, ce-specversion and ce-type headers (binary mode)",
    )
