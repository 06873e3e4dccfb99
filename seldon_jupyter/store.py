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

import pandas as pd

from seldon_jupyter.errors import PayloadError
from seldon_jupyter.journal import connect
from seldon_jupyter.payloads import message_array

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


def _query(path: Path, sql: str, params: list[Any]) -> list[tuple]:
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
    rows = _query(path, "SELECT count(*) FROM responses" + where, params)
    return int(rows[0][0]) if rows else 0


def _decode(data: bytes | None) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        try:
            return bytes(data).decode()
        except UnicodeDecodeError:
            return bytes(data)


def _prediction(message: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Names and rows of a SeldonMessage answer; ndarray rows keep their Python types."""
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return None
    rows = data.get("ndarray")
    if isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows):
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            return None
    else:
        try:
            _, array = message_array(message)
        except PayloadError:
            return None
        if array.ndim != 2:
            return None
        rows, width = array.tolist(), array.shape[1]
    names = [str(n) for n in data.get("names") or []]
    if len(names) != width:
        names = [f"t:{i}" for i in range(width)]
    return names, rows


def responses(path: Path, *, type: str | None = None, source: str | None = None,  # noqa: A002
              since: Any = None, sink: str | None = None, namespace: str | None = None,
              explode: bool = False) -> pd.DataFrame:
    """One row per response event (or per prediction row with explode=True).

    `namespace` keeps responses collected by sinks in that namespace; `sink` is "ns/name".
    """
    where, params = _where([("r.type = ?", type), ("r.source = ?", source),
                            ("r.received_at >= ?", _since(since)), ("r.sink = ?", sink),
                            ("r.sink LIKE ?", _ns(namespace))])
    rows = _query(
        path,
        "SELECT r.seq, r.id, r.type, r.source, r.time, r.sink, r.received_at, q.id, q.type,"
        " (r.received_at - q.received_at) * 1000.0, r.attributes, r.data"
        " FROM responses r LEFT JOIN events e ON e.seq = r.event_seq"
        " LEFT JOIN events q ON q.seq = e.parent_seq" + where + " ORDER BY r.seq", params)
    frame = pd.DataFrame.from_records(rows, columns=RESPONSE_COLUMNS)
    frame["data"] = [_decode(d) for d in frame["data"]]
    frame["attributes"] = [json.loads(a) for a in frame["attributes"]]
    frame["received_at"] = pd.to_datetime(frame["received_at"], unit="s", utc=True)
    frame["latency_ms"] = frame["latency_ms"].astype(float)
    predictions = [_prediction(d) for d in frame["data"]]
    if explode:
        return _exploded(frame, predictions)
    single = [(p[0], p[1][0]) if p is not None and len(p[1]) == 1 else
              (p[0], [list(col) for col in zip(*p[1], strict=True)]) if p is not None
              else ([], []) for p in predictions]
    extra = pd.DataFrame.from_records([dict(zip(n, v, strict=True)) for n, v in single],
                                      index=frame.index)
    return _attach(frame, extra)


def _exploded(frame: pd.DataFrame, predictions: list[tuple[list[str], list[list[Any]]] | None]
              ) -> pd.DataFrame:
    counts = [len(p[1]) if p is not None else 1 for p in predictions]
    base = frame.loc[frame.index.repeat(counts)].reset_index(drop=True)
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    for p in predictions:
        if p is None:
            records.append({})
            rows.append(0)
            continue
        names, values = p
        records.extend(dict(zip(names, r, strict=True)) for r in values)
        rows.extend(range(len(values)))
    base.insert(1, "row", rows)
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
    rows = _query(path, "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM events" + where
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
    rows = _query(path, "SELECT d.event_seq, e.id, e.type, d.trigger, d.state, d.attempts, d.code,"
                  " d.error, d.updated_at FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                  + where + " ORDER BY d.event_seq", params)
    frame = pd.DataFrame.from_records(rows, columns=DELIVERY_COLUMNS)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], unit="s", utc=True)
    return frame
