"""Reading the journal back as pandas DataFrames.

`responses()` is what a notebook user asks for: one row per collected response event,
with the request that caused it, the end-to-end latency and the prediction spread into
columns. Frames are built column-wise from one query, never row by row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seldon_jupyter.journal import connect
from seldon_jupyter.payloads import answer_shape

RESPONSE_COLUMNS = ["seq", "id", "type", "source", "time", "sink", "received_at", "request_id",
                    "request_type", "latency_ms", "attributes", "data"]


def _since(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(datetime.now().astimezone().tzinfo)
    return stamp.timestamp()


def _where(filters: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for clause, value in filters:
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def read_rows(path: Path, sql: str, params: list[Any]) -> list[tuple]:
    if not Path(path).exists():
        return []
    conn = connect(path, readonly=True)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def _ns(namespace: str | None) -> str | None:
    return None if namespace is None else namespace.replace("%", "") + "/%"


def count_responses(path: Path, *, type: str | None = None,  # noqa: A002
                    since: Any = None, sink: str | None = None,
                    namespace: str | None = None) -> int:
    where, params = _where([("type = ?", type), ("received_at >= ?", _since(since)),
                            ("sink = ?", sink), ("sink LIKE ?", _ns(namespace))])
    rows = read_rows(path, "SELECT count(*) FROM responses" + where, params)
    return int(rows[0][0]) if rows else 0


_SELECT = (
    "SELECT r.seq, r.id, r.type, r.source, r.time, r.sink, r.received_at, q.id, q.type,"
    " (r.received_at - q.received_at) * 1000.0, r.attributes, CAST(r.data AS TEXT),"
    " r.names, r.nrows{values} FROM responses r LEFT JOIN events e ON e.seq = r.event_seq"
    " LEFT JOIN events q ON q.seq = e.parent_seq")


def _many_rows(data: str | None) -> tuple[list[str], list[list[Any]]] | None:
    try:
        return answer_shape(json.loads(data)) if data else None
    except ValueError:
        return None


def responses(path: Path, *, type: str | None = None, source: str | None = None,  # noqa: A002
              since: Any = None, sink: str | None = None, namespace: str | None = None,
              explode: bool = False) -> pd.DataFrame:
    """One row per response event (or per prediction row with explode=True).

    Columns: the event's id, type and source, where it was collected (`sink`, "ns/name"),
    the request that caused it and the end-to-end latency, one column per prediction name
    (t:0, t:1, ... for SKLEARN_SERVER; a list per cell when one answer holds several rows),
    and `attributes` / `data` as the JSON text received. `namespace` keeps what sinks in
    that namespace collected. Single-row answers are flattened inside SQLite.
    """
    where, params = _where([("r.type = ?", type), ("r.source = ?", source),
                            ("r.received_at >= ?", _since(since)), ("r.sink = ?", sink),
                            ("r.sink LIKE ?", _ns(namespace))])
    shapes = read_rows(path, "SELECT DISTINCT r.names FROM responses r" + where, params)
    name_sets = {text: json.loads(text) for (text,) in shapes if text}
    width = max((len(n) for n in name_sets.values()), default=0)
    values = "".join(f", json_extract(r.row0, '$[{k}]')" for k in range(width))
    rows = read_rows(path, _SELECT.format(values=values) + where + " ORDER BY r.seq", params)
    slots = [f"_v{k}" for k in range(width)]
    frame = pd.DataFrame.from_records(rows, columns=[*RESPONSE_COLUMNS, "_names", "_nrows",
                                                     *slots])
    frame["received_at"] = pd.to_datetime(frame["received_at"], unit="s", utc=True)
    frame["latency_ms"] = frame["latency_ms"].astype(float)
    names_col, nrows = frame.pop("_names"), frame.pop("_nrows")
    taken = frame[slots]
    frame = frame.drop(columns=slots)
    many = (nrows > 1).to_numpy()
    if explode:
        return _exploded(frame, names_col, taken, many, name_sets)
    columns: dict[str, pd.Series] = {}
    for text, names in name_sets.items():
        mask = ((names_col == text) & ~many).to_numpy()
        for k, name in enumerate(names):
            column = columns.setdefault(name, pd.Series(np.nan, index=frame.index, dtype=object))
            column[mask] = taken[f"_v{k}"].to_numpy()[mask]
    for i in np.flatnonzero(many):
        shape = _many_rows(frame["data"].iat[i])
        if shape is None:
            continue
        for k, name in enumerate(shape[0]):
            column = columns.setdefault(name, pd.Series(np.nan, index=frame.index, dtype=object))
            column.iat[i] = [r[k] for r in shape[1]]
    extra = pd.DataFrame(columns, index=frame.index).infer_objects()
    return _attach(frame, extra)


def _exploded(frame: pd.DataFrame, names_col: pd.Series, taken: pd.DataFrame, many: np.ndarray,
              name_sets: dict[str, list[str]]) -> pd.DataFrame:
    """One row per prediction row: answers with several rows are spread out."""
    shapes: list[tuple[list[str], list[list[Any]]] | None] = []
    for i, text in enumerate(names_col):
        if many[i]:
            shapes.append(_many_rows(frame["data"].iat[i]))
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


EVENT_COLUMNS = ["seq", "id", "type", "source", "namespace", "broker", "received_at", "ttl",
                 "parent_seq", "via_trigger", "status", "reason"]


def events(path: Path, *, namespace: str | None = None, broker: str | None = None,
           type: str | None = None, status: str | None = None) -> pd.DataFrame:  # noqa: A002
    """Every event a broker took in (or dropped), oldest first."""
    where, params = _where([("namespace = ?", namespace), ("broker = ?", broker),
                            ("type = ?", type), ("status = ?", status)])
    rows = read_rows(path, "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM events" + where
                  + " ORDER BY seq", params)
    frame = pd.DataFrame.from_records(rows, columns=EVENT_COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"], unit="s", utc=True)
    return frame


DELIVERY_COLUMNS = ["event_seq", "event_id", "event_type", "trigger", "state", "attempts", "code",
                    "error", "updated_at"]


def deliveries(path: Path, *, state: str | None = None, trigger: str | None = None
               ) -> pd.DataFrame:
    """Each (event, trigger) delivery with its final state: delivered, dead-lettered, failed."""
    where, params = _where([("d.state = ?", state), ("d.trigger = ?", trigger)])
    rows = read_rows(
        path, "SELECT d.event_seq, e.id, e.type, d.trigger, d.state, d.attempts, d.code,"
        " d.error, d.updated_at FROM deliveries d JOIN events e ON e.seq = d.event_seq"
        + where + " ORDER BY d.event_seq", params)
    frame = pd.DataFrame.from_records(rows, columns=DELIVERY_COLUMNS)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], unit="s", utc=True)
    return frame
