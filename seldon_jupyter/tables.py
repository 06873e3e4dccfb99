"""Arrays and DataFrames to and from SeldonMessages, and what counts as "rows".

A notebook user has arrays and DataFrames; Seldon speaks `{"data": {"names", "ndarray" |
"tensor"}}`, `jsonData`, `strData` and `binData`. `is_rows` decides once, for `send`,
`send_many` and `%seldon_send` alike, whether a value is rows (one event each) or one
payload; `split_rows` turns rows into one SeldonMessage per row or batch, or into Open
Inference Protocol requests with `protocol="v2"` (built by v2_tables).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from seldon_jupyter import v2_tables
from seldon_jupyter.errors import PayloadError
from seldon_jupyter.events import Event
from seldon_jupyter.payloads import KINDS, message_array


def _as_2d(values: Any) -> tuple[np.ndarray, list[str] | None]:
    names: list[str] | None = None
    if isinstance(values, pd.DataFrame):
        names = [str(c) for c in values.columns]
        array = values.to_numpy()
    elif isinstance(values, pd.Series):
        names = [str(i) for i in values.index]
        array = values.to_numpy()[np.newaxis, :]
    else:
        try:
            array = np.asarray(values)
        except (ValueError, TypeError) as exc:
            raise PayloadError(f"cannot turn {type(values).__name__} into an array: {exc}") from exc
    if array.dtype == object and array.size and not all(
        isinstance(v, str | int | float | bool | None) for v in array.flat
    ):
        raise PayloadError(
            "array holds nested or ragged values",
            hint="every row must have the same number of plain numbers or strings",
        )
    _check_finite(values, array, names)
    return array, names


def _check_finite(values: Any, array: np.ndarray, names: list[str] | None) -> None:
    """JSON has no NaN or infinity: a missing value is refused here, naming where it is,
    rather than sent as a body no JSON parser (Seldon's, MLServer's) accepts."""
    if array.dtype.kind in "fc":
        bad = ~np.isfinite(array)
    elif array.dtype == object and array.size:
        bad = np.vectorize(lambda v: isinstance(v, float) and not np.isfinite(v),
                           otypes=[bool])(array)
    else:
        return
    if not bad.any():
        return
    where = np.argwhere(bad)[0]
    row = int(where[0]) if array.ndim > 1 else 0
    col = int(where[-1])
    label = f" (index {values.index[row]!r})" if isinstance(values, pd.DataFrame) else ""
    column = repr(names[col]) if names else str(col)
    raise PayloadError(
        f"row {row}{label}, column {column} is {float(array[tuple(where)])}, and "
        f"{int(bad.sum())} value(s) in all are NaN or infinite: JSON cannot carry them",
        hint="drop or fill the missing values first, e.g. frame.dropna() or frame.fillna(0)")


def to_seldon(values: Any, *, kind: str = "ndarray",
              names: Sequence[str] | None = None) -> dict[str, Any]:
    """Build a SeldonMessage request body from Python data."""
    if kind not in KINDS:
        raise PayloadError(f"unknown payload kind {kind!r}", hint=f"choose one of {KINDS}")
    if kind == "json":
        return {"jsonData": values}
    if kind == "str":
        if not isinstance(values, str):
            raise PayloadError("strData needs a str")
        return {"strData": values}
    if kind == "bin":
        if not isinstance(values, bytes | bytearray):
            raise PayloadError("binData needs bytes")
        return {"binData": base64.b64encode(values).decode()}
    array, found = _as_2d(values)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    data: dict[str, Any] = {}
    chosen = list(names) if names is not None else found
    if chosen is not None:
        data["names"] = chosen
    if kind == "tensor":
        if array.dtype.kind not in "biuf":
            raise PayloadError("a tensor holds numbers only", hint="use kind='ndarray' for strings")
        data["tensor"] = {"shape": list(array.shape), "values": array.ravel().tolist()}
    else:
        data["ndarray"] = array.tolist()
    return {"data": data}


def from_seldon(message: dict[str, Any]) -> Any:
    """Turn a SeldonMessage back into a DataFrame (named columns), array, dict, str or bytes."""
    if not isinstance(message, dict):
        raise PayloadError(f"a SeldonMessage is a JSON object, got {type(message).__name__}")
    if "jsonData" in message:
        return message["jsonData"]
    if "strData" in message:
        return message["strData"]
    if "binData" in message:
        return base64.b64decode(message["binData"])
    names, array = message_array(message)
    if names and array.ndim == 2 and len(names) == array.shape[1]:
        return pd.DataFrame(array, columns=names)
    return array



def _numbers(payload: Any) -> bool:
    return isinstance(payload, list | tuple) and bool(payload) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in payload)


def is_rows(payload: Any) -> bool:
    """True for a DataFrame, an array or a non-empty list of rows: one event per row."""
    if isinstance(payload, np.ndarray | pd.DataFrame | pd.Series):
        return True
    return isinstance(payload, list | tuple) and bool(payload) and all(
        isinstance(x, list | tuple) for x in payload)


SELDON_DATA = ("data", "jsonData", "strData", "binData")


def built(payload: Any) -> bool:
    """Whether the kit builds the SeldonMessage for this payload (rows, or one flat row)."""
    return is_rows(payload) or _numbers(payload)


def takes_puid(payload: Any) -> bool:
    """Whether the body will be a SeldonMessage: one the kit builds, or one the user wrote
    (a dict with data/jsonData/strData/binData). Both get `meta.puid` = the event id."""
    return built(payload) or (isinstance(payload, Mapping) and any(
        k in payload for k in SELDON_DATA))


def as_payload(payload: Any, kind: str = "ndarray") -> Any:
    """One event's body: rows (or one flat row of numbers) become a SeldonMessage,
    anything else (a dict, text, bytes) is sent as it is."""
    return to_seldon(payload, kind=kind) if built(payload) else payload


def with_puid(message: dict[str, Any], puid: str) -> dict[str, Any]:
    """The message with `meta.puid` set (unless it has one): Seldon echoes it in the answer
    (construct_response_json), which ties a response to its request on a cluster."""
    raw = message.get("meta")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if "puid" in meta:
        return message
    return {**message, "meta": {**meta, "puid": puid}}


Tag = Callable[[dict[str, Any], str], dict[str, Any]]  # stamps the event id into a body
PROTOCOLS = ("seldon", "v2")


def request_body(payload: Any, kind: str = "ndarray", protocol: str = "seldon"
                 ) -> tuple[Any, Tag | None]:
    """One event's body, and how its event id is stamped into it: `meta.puid` of a
    SeldonMessage (Seldon echoes it), the `id` of a V2 inference request (the server
    answers with it). Rows become the protocol's request; anything else is sent as it is."""
    if protocol == "v2":
        if built(payload):
            return v2_tables.to_v2(payload, kind=_v2_kind(kind)), v2_tables.with_id
        return payload, v2_tables.with_id if v2_tables.is_v2_request(payload) else None
    if protocol != "seldon":
        raise PayloadError(f"unknown protocol {protocol!r}", hint=f"one of {PROTOCOLS}")
    return as_payload(payload, kind), with_puid if takes_puid(payload) else None


def _v2_kind(kind: str) -> str:
    return "tensor" if kind == "ndarray" else kind  # the Seldon default means one tensor


def split_rows(data: Any, kind: str = "ndarray", batch_size: int | None = None,
               protocol: str = "seldon") -> list[tuple[Any, Tag | None]]:
    """(payload, tag) per event: one request per row (or per `batch_size` rows), built by
    the kit in the protocol's form; dicts and events pass through as they are."""
    step = batch_size or 1
    if isinstance(data, pd.DataFrame | np.ndarray):
        table = data if isinstance(data, pd.DataFrame) or data.ndim == 2 else data.reshape(
            len(data), -1)
        if protocol == "seldon" and kind in ("ndarray", "tensor"):
            return _seldon_rows(table, kind, step)
        return [request_body(table.iloc[i:i + step] if isinstance(table, pd.DataFrame)
                             else table[i:i + step], kind, protocol)
                for i in range(0, len(table), step)]
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        out: list[tuple[Any, Tag | None]] = []
        for item in data:
            if isinstance(item, list | tuple | np.ndarray):
                out.append(request_body([list(item)], kind, protocol))
            elif isinstance(item, Event):
                out.append((item, None))
            elif isinstance(item, Mapping):
                out.append(request_body(item, kind, protocol))
            else:
                raise PayloadError(f"send_many got a {type(item).__name__} item",
                                   hint="items are rows (lists), payload dicts or Events")
        return out
    raise PayloadError(f"send_many cannot iterate {type(data).__name__}",
                       hint="pass a DataFrame, a 2-d array, or a list of payloads/events")


def checked_rows(data: Any, kind: str, protocol: str) -> bool:
    """Whether `split_rows` builds every row from one array it checked (plain numbers or
    strings, nothing NaN or infinite): such bodies always encode as JSON."""
    return (isinstance(data, pd.DataFrame | np.ndarray) and protocol == "seldon"
            and kind in ("ndarray", "tensor"))


def _seldon_rows(table: pd.DataFrame | np.ndarray, kind: str, step: int
                 ) -> list[tuple[Any, Tag | None]]:
    """What `to_seldon` builds for each slice of `step` rows, from one conversion of the
    whole table (checked once) instead of one DataFrame slice per row."""
    array, names = _as_2d(table)
    if kind == "tensor" and array.dtype.kind not in "biuf":
        raise PayloadError("a tensor holds numbers only", hint="use kind='ndarray' for strings")
    rows = array.tolist()
    width = array.shape[1] if array.ndim == 2 else 0
    out: list[tuple[Any, Tag | None]] = []
    for i in range(0, len(rows), step):
        chunk = rows[i:i + step]
        body: dict[str, Any] = {} if names is None else {"names": names}
        if kind == "tensor":
            body["tensor"] = {"shape": [len(chunk), width],
                              "values": [v for row in chunk for v in row]}
        else:
            body["ndarray"] = chunk
        out.append(({"data": body}, with_puid))
    return out
