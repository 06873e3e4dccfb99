"""Columnar reads of the journal: SQLite -> Arrow -> pandas, no Python object per cell.

A million responses read through `sqlite3` become a million tuples of Python strings and
floats before pandas sees them, which costs more than pandas' own constructor. The ADBC
SQLite driver fills Arrow arrays straight from SQLite, and pandas takes those arrays (its
strings stay Arrow-backed). Large reads are split into `seq` ranges read on separate
connections in parallel threads (the driver releases the GIL), then joined without copying.

The driver infers a column's type from the rows it reads. Each range is read as one batch,
so a column that is NULL in its first rows and text later is text, and every range is cast
to the caller's types before they are joined.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc

BATCH_ROWS = "adbc.sqlite.query.batch_rows"
SPLIT_ABOVE = 50_000  # rows; smaller reads run as one query
MAX_WORKERS = 4
BUSY_TIMEOUT_MS = 30_000
# the C heap the ADBC driver fills and frees, so what it frees is reused here
MEMORY = pa.system_memory_pool()


class MixedColumn(Exception):
    """A column meant to be numeric holds text in some rows."""


def _read(path: Path, sql: str, params: list[Any]) -> pa.Table:
    conn = adbc.connect(f"file:{path}?mode=ro")
    try:
        cur = conn.cursor()
        # wait for the writer (or a reader recovering the WAL index) as sqlite3's reads do,
        # instead of failing at once with "database is locked"
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.fetchall()
        cur.adbc_statement.set_options(**{BATCH_ROWS: str(2**24)})
        cur.execute(sql, params)
        table = cur.fetch_arrow_table()
        cur.close()
        return table
    finally:
        conn.close()


def _typed(table: pa.Table, names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    table = table.rename_columns(names)
    columns = []
    for name, column in zip(names, table.columns, strict=True):
        want = types.get(name)
        if want is None:  # numeric of unknown kind: integer or float, never text
            if pa.types.is_string(column.type) or pa.types.is_binary(column.type):
                raise MixedColumn(name)
            want = pa.float64() if pa.types.is_floating(column.type) else column.type
        elif pa.types.is_dictionary(want) and column.type not in (want, want.value_type):
            # an empty or all-NULL read comes typed int64 or null: text first
            column = pc.cast(column, want.value_type, memory_pool=MEMORY)
        columns.append(column if column.type == want
                       else pc.cast(column, want, memory_pool=MEMORY))
    return pa.table(columns, names=names)


def read(path: Path, select: str, where: str, params: list[Any], order: str,
         names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    """`select + where + order` as one Arrow table with columns `names`, cast to `types`
    (names not in `types` must be numeric: MixedColumn if any row holds text). `select`
    reads the `responses` table as `r`."""
    # `where` is built of fixed clauses with ? parameters (journal_reader._where)
    bounds = _read(path, "SELECT count(*), min(r.seq), max(r.seq) FROM responses r"
                   + where,
                   params).to_pylist()[0]
    total, low, high = (int(v or 0) for v in bounds.values())
    workers = min(MAX_WORKERS, os.cpu_count() or 1, max(1, total // SPLIT_ABOVE))
    if workers == 1:
        return _typed(_read(path, select + where + order, params), names, types)
    step = (high - low) // workers + 1
    joiner = " AND " if where else " WHERE "
    ranges = [(low + i * step, low + (i + 1) * step) for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:  # each range cast as soon as it is read, so
        # its uncast columns are freed before the others finish (a lower peak)
        typed = list(pool.map(
            lambda r: _typed(_read(path, f"{select}{where}{joiner}r.seq >= ? AND r.seq < ?"
                                   f"{order}", [*params, *r]), names, types), ranges))
    widest = {name: typed[0].schema.field(name).type for name in names}
    for part in typed[1:]:  # an integer column in one range and float in another: float
        for name in names:
            if part.schema.field(name).type != widest[name]:
                widest[name] = pa.float64()
    schema = pa.schema([(n, widest[n]) for n in names])
    return pa.concat_tables([p if p.schema == schema else p.cast(schema) for p in typed])
