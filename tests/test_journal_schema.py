"""The journal's layout as `journal.connect` applies it, to new journals and old ones."""

from __future__ import annotations

import sqlite3

from seldon_jupyter import journal
from seldon_jupyter.journal_schema import MIGRATIONS


def test_a_journal_from_before_shapes_learns_its_name_sets_once(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = journal.connect(path)
    conn.execute("INSERT INTO responses (sink, id, type, source, attributes, received_at,"
                 " names) VALUES ('s', 'i', 't', 's', '{}', 1.0, '[\"t:0\"]')")
    conn.execute("DROP TABLE shapes")  # as a kit from before 2026-12 left it
    conn.close()
    conn = journal.connect(path)
    assert conn.execute("SELECT names FROM shapes").fetchall() == [('["t:0"]',)]
    conn.execute("DELETE FROM shapes")
    conn.close()
    conn = journal.connect(path)  # not again on every connect: the table exists now
    assert conn.execute("SELECT count(*) FROM shapes").fetchone()[0] == 0
    conn.close()


def test_a_journal_from_before_new_columns_gains_them_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = journal.connect(path)
    conn.execute("INSERT INTO events (id, type, source, namespace, broker, attributes,"
                 " received_at, status) VALUES ('e', 't', 's', 'n', 'b', '{}', 1.0, 'ok')")
    for table, column, _ in MIGRATIONS:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # as an older kit left it
    conn.close()
    conn = journal.connect(path)
    for table, column, _ in MIGRATIONS:
        assert column in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    assert conn.execute("SELECT id, headers FROM events").fetchall() == [("e", None)]
    conn.close()
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()
