"""Arrays and DataFrames to and from Open Inference Protocol (V2) inference requests.

MLServer, Seldon's V2 servers and KServe take `{"id", "inputs": [{"name", "shape",
"datatype", "data"}], "parameters"}`. A DataFrame goes either as one tensor (`kind=
"tensor"`, the default: every column one feature, the row-major data of one input) or
as one input per column (`kind="columns"`, names and dtypes kept, with MLServer's pandas
content type so the runtime rebuilds the DataFrame). The request `id` is the event id:
MLServer answers with the same id (and Ce-Id), which ties a response to its request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seldon_jupyter.errors import PayloadError

V2_KINDS = ("tensor", "columns")
INPUT_NAME = "predict"  # what Seldon's V2 examples call the one input
_DATATYPES = {"b": "BOOL", "i": "INT", "u": "UINT", "f": "FP"}


def datatype(dtype: np.dtype[Any]) -> str:
    """The V2 datatype of a numpy dtype (BYTES for strings and objects)."""
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iuf":
        return f"{_DATATYPES[dtype.kind]}{dtype.itemsize * 8}"
    if dtype.kind in "OUS":
        return "BYTES"
    raise PayloadError(f"a V2 input cannot hold {dtype} values",
                       hint="send numbers, booleans or strings")


def _plain(array: np.ndarray) -> list[Any]:
    if array.dtype.kind in "OUS":
        return [str(v) for v in array.ravel()]
    return list(array.ravel().tolist())


def _frame(values: Any) -> pd.DataFrame | np.ndarray:
    if isinstance(values, pd.DataFrame):
        return values
    if isinstance(values, pd.Series):
        return values.to_frame().T
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"cannot turn {type(values).__name__} into a V2 input: {exc}"
                           ) from exc
    if array.dtype == object and array.size and not all(
            isinstance(v, str | int | float | bool) for v in array.flat):
        raise PayloadError("a V2 input holds plain numbers or strings, in rows of one width")
    return array.reshape(1, -1) if array.ndim == 1 else array


def to_v2(values: Any, *, kind: str = "tensor", request_id: str | None = None,
          name: str = INPUT_NAME) -> dict[str, Any]:
    """One inference request from rows (a DataFrame, an array, a list of rows, one flat
    row of numbers)."""
    if kind not in V2_KINDS:
        raise PayloadError(f"unknown V2 payload kind {kind!r}", hint=f"choose one of {V2_KINDS}")
    table = _frame(values)
    body: dict[str, Any] = {"id": request_id} if request_id else {}
    if kind == "columns":
        frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(
            table, columns=[f"{name}-{i}" for i in range(table.shape[1])])
        body["parameters"] = {"content_type": "pd"}
        body["inputs"] = [{"name": str(col), "shape": [len(frame)],
                           "datatype": datatype(frame[col].to_numpy().dtype),
                           "data": _plain(frame[col].to_numpy())} for col in frame.columns]
        return body
    array = table.to_numpy() if isinstance(table, pd.DataFrame) else table
    if array.dtype == object:
        array = array.astype(str)
    body["inputs"] = [{"name": name, "shape": list(array.shape),
                       "datatype": datatype(array.dtype), "data": _plain(array)}]
    return body


def is_v2_request(payload: Any) -> bool:
    return isinstance(payload, dict) and isinstance(payload.get("inputs"), list)


def with_id(request: dict[str, Any], request_id: str) -> dict[str, Any]:
    """The request with `id` set to the event id (unless it has one)."""
    return request if request.get("id") else {**request, "id": request_id}
