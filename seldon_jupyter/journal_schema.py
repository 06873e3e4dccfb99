"""The journal's tables and indexes, and the columns added to journals written by an
older kit: the one place the on-disk layout is declared (`journal.connect` applies it).
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,
    namespace TEXT NOT NULL, broker TEXT NOT NULL, attributes TEXT NOT NULL, data BLOB,
    received_at REAL NOT NULL, ttl INTEGER, parent_seq INTEGER, via_trigger TEXT,
    status TEXT NOT NULL, reason TEXT, headers TEXT);
CREATE INDEX IF NOT EXISTS events_id ON events (id, source);
CREATE TABLE IF NOT EXISTS deliveries (
    event_seq INTEGER NOT NULL, trigger TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, code INTEGER, error TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (event_seq, trigger));
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state);
CREATE TABLE IF NOT EXISTS responses (
    seq INTEGER PRIMARY KEY, sink TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    source TEXT NOT NULL, time TEXT, attributes TEXT NOT NULL, data BLOB,
    received_at REAL NOT NULL, event_seq INTEGER,
    names TEXT, nrows INTEGER, row0 TEXT);
CREATE INDEX IF NOT EXISTS responses_type ON responses (type);
CREATE INDEX IF NOT EXISTS responses_event ON responses (source, id);
CREATE TABLE IF NOT EXISTS attempts (
    event_seq INTEGER NOT NULL, trigger TEXT NOT NULL, target TEXT NOT NULL,
    number INTEGER NOT NULL, url TEXT NOT NULL, started_at REAL NOT NULL,
    duration_ms REAL NOT NULL, waited_s REAL NOT NULL, code INTEGER, error TEXT, answer BLOB);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_seq);
CREATE INDEX IF NOT EXISTS events_parent ON events (parent_seq);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS responses_received ON responses (received_at);
CREATE TABLE IF NOT EXISTS shapes (names TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS cursors (
    sink TEXT NOT NULL, origin TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (sink, origin));
"""


# Columns added after a journal may already exist on disk: (table, column, declaration).
MIGRATIONS = [("events", "headers", "TEXT"), ("responses", "request_key", "TEXT")]


def migrate(conn: sqlite3.Connection, *, new_shapes: bool) -> None:
    for table, column, declaration in MIGRATIONS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    if new_shapes:  # once, when `shapes` was just created: learn the name sets the
        # responses of a journal from before it already have
        conn.execute("INSERT OR IGNORE INTO shapes SELECT DISTINCT names FROM responses"
                     " WHERE names IS NOT NULL")
