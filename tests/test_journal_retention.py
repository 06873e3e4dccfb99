"""A bounded journal: prune by age and size, never what is still owed to a subscriber."""

from __future__ import annotations

import time

import pytest

from seldon_jupyter import cli, events, journal, journal_ops
from seldon_jupyter.journal_retention import (
    RetentionError,
    parse_age,
    parse_size,
    prune_file,
    used_bytes,
)

DAY = 86400.0


def fill(path, *, old: int, new: int, pending_old: int = 0, blob: int = 200) -> None:
    """`old` events and responses 40 days old (`pending_old` of the events with a delivery
    still pending), `new` ones from now, each with a body of `blob` bytes."""
    conn = journal.connect(path)
    now = time.time()
    conn.execute("BEGIN")
    for i in range(old + new):
        at = now - 40 * DAY if i < old else now
        event = events.new_event({"x": "y" * blob}, type="t", source="s", id=f"e{i}")
        seq = journal_ops.insert_event(event, namespace="ns", broker="b", ttl=255, at=at,
                                       triggers=["ns/t"])(conn)
        if i >= pending_old:
            journal_ops.finish_delivery(seq, "ns/t", state=journal.DELIVERED, attempts=1,
                                        code=202, error=None)(conn)
        journal_ops.insert_response(event, sink="ns/sink", event_seq=seq, received_at=at)(conn)
    conn.execute("COMMIT")
    conn.close()


def counts(path) -> tuple[int, int, int]:
    conn = journal.connect(path)
    try:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
                     for table in ("events", "responses", "deliveries"))
    finally:
        conn.close()


def test_prune_by_age_keeps_the_recent_and_what_is_still_owed(tmp_path):
    path = tmp_path / "j.sqlite"
    fill(path, old=300, new=50, pending_old=5)
    pruned = prune_file(path, max_age=30 * DAY, max_bytes=None)
    assert (pruned.events, pruned.responses) == (295, 300)
    assert counts(path) == (55, 50, 55)  # 5 old events still owe a delivery
    conn = journal.connect(path)
    owed = conn.execute("SELECT e.id FROM events e JOIN deliveries d ON d.event_seq = e.seq"
                        " WHERE d.state = 'pending' ORDER BY e.seq").fetchall()
    assert [row[0] for row in owed] == [f"e{i}" for i in range(5)]
    conn.close()
    assert prune_file(path, max_age=30 * DAY, max_bytes=None).events == 0  # idempotent


def test_prune_by_size_drops_the_oldest_until_the_rows_fit(tmp_path):
    path = tmp_path / "j.sqlite"
    fill(path, old=0, new=3000, blob=1000)
    conn = journal.connect(path)
    before = used_bytes(conn)
    conn.close()
    cap = before // 3
    pruned = prune_file(path, max_age=None, max_bytes=cap)
    assert pruned.bytes_before == before and pruned.bytes_after <= cap
    events_left, responses_left, _ = counts(path)
    assert 0 < events_left < 1500 and 0 < responses_left < 1500
    conn = journal.connect(path)
    oldest = conn.execute("SELECT MIN(seq) FROM events").fetchone()[0]
    conn.close()
    assert oldest > 3000 - events_left  # the newest are the ones kept
    size = path.stat().st_size
    prune_file(path, max_age=None, max_bytes=cap, compact=True)
    assert path.stat().st_size < size  # VACUUM gave the space back


def test_sizes_and_ages_parse_or_say_what_to_give():
    assert parse_size("500MB") == 500_000_000 and parse_size("2GiB") == 2 * 1024**3
    assert parse_size("10k") == 10_000 and parse_size(123) == 123
    assert parse_age("7d") == 7 * DAY and parse_age("12h") == 43200 and parse_age(5) == 5.0
    with pytest.raises(RetentionError, match="'lots' is not a size") as info:
        parse_size("lots")
    assert "500MB" in info.value.hint
    with pytest.raises(RetentionError, match="'soon' is not a duration"):
        parse_age("soon")


def test_session_prune_and_the_cli(fake, tmp_path, capsys, monkeypatch):
    path = fake.backend.journal_path()
    fill(path, old=20, new=10)
    assert fake.prune("30d").events == 20
    fill(path, old=7, new=0)
    monkeypatch.setenv("SELDON_JUPYTER_RETENTION_DAYS", "35")
    assert fake.prune().events == 7  # the retention setting, as the broker keeps it
    monkeypatch.setattr(cli.settings.Settings, "session",
                        lambda self, start=True: fake)
    assert cli.main(["journal", "prune", "--older-than", "0s"]) == 0
    assert "pruned 10 events and 10 responses" in capsys.readouterr().out
    assert cli.main(["journal", "prune", "--max-size", "huge"]) == 1
    assert "'huge' is not a size" in capsys.readouterr().err
