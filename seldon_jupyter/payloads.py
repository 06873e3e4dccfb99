"""Seldon v1 payloads (SeldonMessage) to and from numpy, pandas and plain Python.

A notebook user has arrays and DataFrames; Seldon speaks `{"data": {"names", "ndarray" |
"tensor"}}`, `jsonData`, `strData` and `binData`. Both the predictor and the DataFrame
builder go through these helpers so that the two sides agree on the shapes.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from seldon_jupyter.errors import PayloadError

KINDS = ("ndarray", "tensor", "json", "str", "bin")


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
    return array, names


def to_seldon(values: Any, *, kind: str = "ndarray", names: Sequence[str] | None = None) -> dict:
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


def message_array(message: dict) -> tuple[list[str], np.ndarray]:
    """Names and the 2-d array of a SeldonMessage's `data` (ndarray or tensor)."""
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        raise PayloadError(
            "message has no 'data' object", hint="a SeldonMessage looks like "
            '{"data": {"ndarray": [[1, 2, 3, 4]]}}'
        )
    if "tensor" in data:
        tensor = data["tensor"]
        if not isinstance(tensor, dict) or "values" not in tensor or "shape" not in tensor:
            raise PayloadError("data.tensor needs 'shape' and 'values'")
        try:
            array = np.asarray(tensor["values"], dtype=float).reshape(tensor["shape"])
        except (ValueError, TypeError) as exc:
            raise PayloadError(f"data.tensor values do not fit its shape: {exc}") from exc
    elif "ndarray" in data:
        try:
            array = np.asarray(data["ndarray"])
        except (ValueError, TypeError) as exc:
            raise PayloadError(f"data.ndarray is ragged or invalid: {exc}") from exc
        if array.dtype == object:
            raise PayloadError("data.ndarray rows must all have the same length")
    else:
        raise PayloadError(
            "data has neither 'ndarray' nor 'tensor'",
            hint="jsonData, strData and binData messages are read with from_seldon()",
        )
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array[np.newaxis, :]
    names = data.get("names") or []
    if not isinstance(names, list):
        raise PayloadError("data.names must be a list of strings")
    return [str(n) for n in names], array


def from_seldon(message: dict) -> Any:
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


def answer_shape(message: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Column names and rows of a SeldonMessage answer (ndarray or tensor), or None.

    ndarray rows keep their Python types (a class name beside a probability); names that
    do not fit the row width are replaced by SKLEARN_SERVER's t:0, t:1, ...
    """
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return None
    rows = data.get("ndarray")
    if not (isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows)):
        try:
            _, array = message_array(message)
        except PayloadError:
            return None
        rows = array.tolist() if array.ndim == 2 else None
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        return None
    names = [str(n) for n in data.get("names") or []]
    if len(names) != len(rows[0]):
        names = [f"t:{i}" for i in range(len(rows[0]))]
    return names, rows
