"""The responses DataFrame: every collected answer as a row, predictions as columns.

How predictions become columns: the writer flattens each Seldon answer at insert time
(`journal_ops.prediction_columns`): `names` (JSON list, each set also kept in `shapes`),
`nrows`, `row0` (the first row as JSON) and `request_key` (the request id the body names).
A single-row answer - the common case - is spread into columns inside SQLite with
`json_extract(row0, '$[k]')`, one column per name, and the rows come to pandas as Arrow
columns (`journal_arrow`), so a million responses need no Python object per cell. Answers
with several rows are parsed one by one (a list per cell, or one row per prediction row
with `explode=True`). `attributes` and `data` stay the JSON text received.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from seldon_jupyter import journal_arrow
from seldon_jupyter.journal import SENT
from seldon_jupyter.journal_reader import _ns, _since, _where, read_rows
from seldon_jupyter.payloads import answer_shape

RESPONSE_COLUMNS = ["seq", "id", "type", "source", "time", "sink", "received_at", "request_id",
                    "request_type", "latency_ms", "attributes", "data"]


# The request of a response: through the local broker's own chain (the reply's parent), or
# on a cluster by the `meta.puid` Seldon echoes from the request body (or the `id` an Open
# Inference Protocol server answers with, the request's id), matched to what the
# kit recorded when it sent it; the latency is then from the send time to the response's
# knativearrivaltime at the sink (collect stores that as received_at).
_SELECT = (
    "SELECT r.seq, r.id, r.type, r.source, r.time, r.sink, r.received_at,"
    " COALESCE(q.id, p.id), COALESCE(q.type, p.type),"
    " (r.received_at - COALESCE(q.received_at, p.received_at)) * 1000.0, r.attributes,"
    " CAST(r.data AS TEXT), r.names, r.nrows{values} FROM responses r"
    " LEFT JOIN events e ON e.seq = r.event_seq LEFT JOIN events q ON q.seq = e.parent_seq"
    " LEFT JOIN events p ON r.event_seq IS NULL AND p.seq = (SELECT max(s.seq) FROM events s"
    f" WHERE s.status = '{SENT}' AND s.id = COALESCE(r.request_key,"  # written since 2026-12
    " CASE WHEN json_valid(CAST(r.data AS TEXT)) THEN"  # older rows: read from the body
    " COALESCE(json_extract(CAST(r.data AS TEXT), '$.meta.puid'),"
    " json_extract(CAST(r.data AS TEXT), '$.id')) END))")  # the last send of that id


def _many_rows(data: str | None) -> tuple[list[str], list[list[Any]]] | None:
    try:
        return answer_shape(json.loads(data)) if data else None
    except ValueError:
        return None


_TEXT = ("id", "type", "source", "time", "sink", "request_id", "request_type", "attributes",
         "data", "_names")


def responses(path: Path, *, type: str | None = None, source: str | None = None,  # noqa: A002
              since: Any = None, sink: str | None = None, namespace: str | None = None,
              explode: bool = False) -> pd.DataFrame:
    """One row per response event (or per prediction row with explode=True).

    Columns: the event's id, type and source, where it was collected (`sink`, "ns/name"),
    the request that caused it and the end-to-end latency, one column per prediction name
    (t:0, t:1, ... for SKLEARN_SERVER; a list per cell when one answer holds several rows),
    and `attributes` / `data` as the JSON text received. `namespace` keeps what sinks in
    that namespace collected. Single-row answers are flattened inside SQLite, and the rows
    come to pandas as Arrow columns (journal_arrow).
    """
    where, params = _where([("r.type = ?", type), ("r.source = ?", source),
                            ("r.received_at >= ?", _since(since)), ("r.sink = ?", sink),
                            ("r.sink LIKE ?", _ns(namespace))])
    # a time bound reads a few rows through the received_at index, then sorts them
    order = " ORDER BY +r.seq" if since is not None else " ORDER BY r.seq"
    # every name set the journal has seen (a small table), so no scan precedes the read;
    # the sets these rows really have are taken from the rows themselves below
    known = {text: json.loads(text) for (text,) in read_rows(path, "SELECT names FROM shapes",
                                                             []) if text}
    width = max((len(n) for n in known.values()), default=0)
    values = "".join(f", json_extract(r.row0, '$[{k}]')" for k in range(width))
    slots = [f"_v{k}" for k in range(width)]
    names = [*RESPONSE_COLUMNS, "_names", "_nrows", *slots]
    frame = _frame(path, _SELECT.format(values=values), where, params, order, names)
    frame["received_at"] = _utc(frame["received_at"])
    names_col, nrows = frame.pop("_names"), frame.pop("_nrows")
    name_sets = {text: known[text] for text in names_col.dropna().unique() if text in known}
    taken = frame[slots]
    frame = frame.drop(columns=slots)
    # answers of several rows, and any whose names were not in `shapes`, are parsed
    many = ((nrows > 1) | (names_col.notna() & ~names_col.isin(list(known)))).to_numpy()
    if explode:
        return _exploded(frame, names_col, taken, many, name_sets)
    return _attach(frame, _prediction_columns(frame, names_col, taken, many, name_sets))


def _utc(seconds: pd.Series) -> pd.Series:
    """Epoch seconds as tz-aware UTC times (nanoseconds), without pandas' per-unit path."""
    scaled = seconds.to_numpy(dtype=float, copy=True)
    scaled *= 1e9  # in place: one temporary array, not three
    nanos = np.round(scaled, out=scaled).astype("int64")
    del scaled
    return pd.Series(pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC"),
                     index=seconds.index, name=seconds.name)


def _frame(path: Path, select: str, where: str, params: list[Any], order: str,
           names: list[str]) -> pd.DataFrame:
    """The query's rows as a DataFrame: through Arrow, or through sqlite3 when a
    prediction slot mixes text and numbers (Arrow columns have one type)."""
    # the few distinct prediction-name lists: a dictionary column, not a string per row
    types = {name: pa.string() for name in _TEXT} | {
        "_names": pa.dictionary(pa.int32(), pa.string()),
        "seq": pa.int64(), "received_at": pa.float64(), "latency_ms": pa.float64(),
        "_nrows": pa.float64()}
    if Path(path).exists():
        try:
            table = journal_arrow.read(path, select, where, params, order, names, types)
            frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True,
                                                memory_pool=journal_arrow.MEMORY)
            return _writable(frame)
        except journal_arrow.MixedColumn:
            pass
    rows = read_rows(path, select + where + order, params)
    frame = pd.DataFrame.from_records(rows, columns=names)
    for name in ("received_at", "latency_ms", "_nrows"):
        frame[name] = frame[name].astype(float)
    return frame


def _writable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its numeric columns in memory pandas may write to. Arrow hands a
    numeric column without NULLs to pandas zero-copy and read-only, and pandas then fails a
    user's `frame.loc[i, "seq"] = ...` with "assignment destination is read-only". Each is
    copied, one at a time, so its Arrow buffer is freed before the next is copied."""
    for name in frame.columns:
        if frame[name].dtype.kind in "biuf":
            frame[name] = frame[name].to_numpy(copy=True)
    return frame


def _prediction_columns(frame: pd.DataFrame, names_col: pd.Series, taken: pd.DataFrame,
                        many: np.ndarray, name_sets: dict[str, list[str]]) -> pd.DataFrame:
    """One column per prediction name: a slot taken whole when every row has that name
    there (the common case: no copy), else filled where each row's names put it."""
    size = len(frame)
    columns: dict[str, Any] = {}
    for text, names in name_sets.items():
        mask = ((names_col == text).to_numpy(dtype=bool, na_value=False) & ~many)
        for k, name in enumerate(names):
            slot = taken[f"_v{k}"]
            if mask.all() and name not in columns:  # never written below: shared, not copied
                columns[name] = slot
                continue
            values = slot.to_numpy()
            column = columns.get(name)
            if column is None:
                numeric = values.dtype.kind in "fi"
                column = np.full(size, np.nan, dtype=float if numeric else object)
            elif column.dtype.kind in "fi" and values.dtype.kind not in "fi":
                column = column.astype(object)
            columns[name] = column
            column[mask] = values[mask]
    for i in np.flatnonzero(many):
        shape = _many_rows(str(frame["data"].iat[int(i)]))
        if shape is None:
            continue
        for k, name in enumerate(shape[0]):
            column = columns.get(name)
            if column is None or column.dtype.kind != "O":
                column = (np.full(size, np.nan, dtype=object) if column is None
                          else column.astype(object))
                columns[name] = column
            body = shape[1]
            column[int(i)] = [r[k] for r in body] if len(body) > 1 else body[0][k]
    return pd.DataFrame(columns, index=frame.index, copy=False).infer_objects()  # no copy


def _exploded(frame: pd.DataFrame, names_col: pd.Series, taken: pd.DataFrame, many: np.ndarray,
              name_sets: dict[str, list[str]]) -> pd.DataFrame:
    """One row per prediction row: answers with several rows are spread out."""
    shapes: list[tuple[list[str], list[list[Any]]] | None] = []
    for i, text in enumerate(names_col):
        if many[i]:
            shapes.append(_many_rows(str(frame["data"].iat[i])))
        elif text in name_sets:
            names = name_sets[text]
            shapes.append((names, [taken.iloc[i, :len(names)].tolist()]))
        else:
            shapes.append(None)
    counts = [len(s[1]) if s is not None else 1 for s in shapes]
    base = frame.loc[frame.index.repeat(counts)].reset_index(drop=True)
    records: list[dict[str, Any]] = []
    positions: list[int] = []
    for shape in shapes:
        if shape is None:
            records.append({})
            positions.append(0)
            continue
        names, body = shape
        records.extend(dict(zip(names, r, strict=True)) for r in body)
        positions.extend(range(len(body)))
    base.insert(1, "row", positions)
    return _attach(base, pd.DataFrame.from_records(records, index=base.index))


def _attach(frame: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    if extra.empty or not len(extra.columns):
        return frame
    keep = [c for c in extra.columns if c not in frame.columns]
    data = frame.pop("data")
    return pd.concat([frame, extra[keep], data], axis=1)
