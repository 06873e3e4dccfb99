"""Payloads on the wire: reading answers (Seldon v1 SeldonMessages and Open Inference
Protocol responses), parsing SeldonMessage requests.

No pandas here and numpy only inside `message_array`, so the broker (which flattens
answers into the journal with `answer_shape`) and the model servers import it cheaply.
DataFrame and array conversion lives in `tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seldon_jupyter.errors import PayloadError

if TYPE_CHECKING:
    import numpy as np

KINDS = ("ndarray", "tensor", "json", "str", "bin")


def message_array(message: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Names and the 2-d array of a SeldonMessage's `data` (ndarray or tensor)."""
    import numpy as np

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



def _tensor_rows(tensor: Any) -> list[list[Any]] | None:
    """A 2-d tensor's values as rows, without numpy (None when it is not 2-d or ragged)."""
    if not isinstance(tensor, dict):
        return None
    shape, values = tensor.get("shape"), tensor.get("values")
    if not (isinstance(shape, list) and isinstance(values, list)) or len(shape) not in (1, 2):
        return None
    rows, width = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
    if not (isinstance(rows, int) and isinstance(width, int)) or rows * width != len(values):
        return None
    return [values[r * width:(r + 1) * width] for r in range(rows)]


def _flat(data: list[Any]) -> list[Any]:
    """V2 `data` may be nested row-major lists: their leaves in order."""
    out: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _v2_shape(outputs: list[Any]) -> tuple[list[str], list[list[Any]]] | None:
    """An inference response's outputs as columns: `<name>` for one value per row,
    `<name>:<i>` for several; every output must have the same number of rows."""
    names: list[str] = []
    parts: list[list[list[Any]]] = []
    count = None
    for out in outputs:
        shape, data = (out.get("shape"), out.get("data")) if isinstance(out, dict) else (
            None, None)
        if not (isinstance(shape, list) and shape and isinstance(data, list)
                and all(isinstance(d, int) and d >= 0 for d in shape)):
            return None
        values, rows, width = _flat(data), shape[0], 1
        for d in shape[1:]:
            width *= d
        if rows * width != len(values) or count not in (None, rows):
            return None
        count = rows
        name = str(out.get("name"))
        names += [name] if width == 1 else [f"{name}:{i}" for i in range(width)]
        parts.append([values[r * width:(r + 1) * width] for r in range(rows)])
    if not count:
        return None
    return names, [[v for part in parts for v in part[r]] for r in range(count)]


def answer_shape(message: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Column names and rows of an answer, or None: a SeldonMessage (ndarray or tensor)
    or an Open Inference Protocol response (`outputs`, see _v2_shape).

    ndarray rows keep their Python types (a class name beside a probability); names that
    do not fit the row width are replaced by SKLEARN_SERVER's t:0, t:1, ...
    """
    if isinstance(message, dict) and isinstance(message.get("outputs"), list):
        return _v2_shape(message["outputs"])
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return None
    rows = data.get("ndarray")
    if not (isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows)):
        rows = _tensor_rows(data.get("tensor")) if "tensor" in data else None
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        return None
    names = [str(n) for n in data.get("names") or []]
    if len(names) != len(rows[0]):
        names = [f"t:{i}" for i in range(len(rows[0]))]
    return names, rows
