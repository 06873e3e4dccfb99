from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from seldon_jupyter import (
    events,
    journal,
    journal_collected,
    journal_ops,
    journal_reader,
    journal_responses,
)


def seldon_reply(i: int, rows: list[list[float]]) -> events.Event:
    return events.new_event({"data": {"names": ["t:0", "t:1"], "ndarray": rows}, "meta": {}},
                            type="seldon.m.ns.response", source="seldon.m", id=f"puid{i}",
                            specversion="0.3")


def fill(path, n: int, rows_per_reply: int = 1):
    j = journal.Journal(path)
    for i in range(n):
        request = events.new_event({"data": {"ndarray": [[i]]}}, type="seldon.m.ns.request",
                                   source="test", id=f"req{i}")
        seq = j.submit(journal_ops.insert_event(request, namespace="ns", broker="default", ttl=255,
                                                triggers=["ns/t"])).result()
        rows = [[i / 10, 1 - i / 10]] * rows_per_reply
        reply = seldon_reply(i, rows)
        j.submit(journal_ops.insert_event(reply, namespace="ns", broker="default", ttl=254,
                                          parent_seq=seq, via_trigger="ns/t")).result()
        j.submit(journal_ops.insert_response(reply, sink="ns/event-display",
                                             received_at=time.time() + 0.002)).result()
    j.close()


def test_responses_frame_correlates_requests_and_flattens_predictions(tmp_path):
    path = tmp_path / "j.sqlite"
    fill(path, 5)
    frame = journal_responses.responses(path)
    assert len(frame) == 5
    assert list(frame["request_id"]) == [f"req{i}" for i in range(5)]
    assert list(frame["id"]) == [f"puid{i}" for i in range(5)]
    np.testing.assert_allclose(frame["t:0"], [i / 10 for i in range(5)])
    np.testing.assert_allclose(frame["t:1"], [1 - i / 10 for i in range(5)])
    assert (frame["latency_ms"] >= 2).all()
    assert isinstance(frame["received_at"].dtype, pd.DatetimeTZDtype)
    assert json.loads(frame["data"][0])["meta"] == {}  # the body as received


def test_responses_filters_and_explode(tmp_path):
    path = tmp_path / "j.sqlite"
    fill(path, 3, rows_per_reply=2)
    assert journal_reader.count_responses(path, type="seldon.m.ns.response") == 3
    assert journal_responses.responses(path, type="other").empty
    assert len(journal_responses.responses(path, since=time.time() + 60)) == 0
    wide = journal_responses.responses(path)
    assert wide["t:0"][1] == [0.1, 0.1]  # multi-row replies keep one list per column
    long = journal_responses.responses(path, explode=True)
    assert len(long) == 6
    assert list(long["row"]) == [0, 1, 0, 1, 0, 1]


def test_empty_or_missing_journal_gives_empty_frames(tmp_path):
    frame = journal_responses.responses(tmp_path / "nothing.sqlite")
    assert frame.empty
    assert set(journal_responses.RESPONSE_COLUMNS) <= set(frame.columns)
    assert journal_reader.events(tmp_path / "nothing.sqlite").empty
    assert journal_reader.deliveries(tmp_path / "nothing.sqlite").empty


def test_a_cluster_response_names_its_request_by_the_echoed_puid_once(tmp_path):
    # on a cluster the response has a fresh id and no broker chain: the request is the
    # kit's own send record whose id Seldon echoed as meta.puid
    path = journal.ensure(tmp_path / "j.sqlite")
    request = events.new_event({"data": {"ndarray": [[1]]}, "meta": {"puid": "r-1"}},
                               id="r-1", type="req", source="kit")
    journal_collected.record_sent(path, [request], namespace="ns", broker="default", at=100.0)
    # the same request again
    journal_collected.record_sent(path, [request], namespace="ns", broker="default", at=105.0)
    answer = events.new_event({"data": {"names": ["t:0"], "ndarray": [[1.0]]},
                               "meta": {"puid": "r-1"}}, id="a-1", type="res", source="model")
    other = events.new_event("not json {", id="a-2", type="res", source="model")
    assert journal_collected.store_collected(path, "ns/sink", "o", 0, 2,
                                             [(answer, 105.25), (other, 106.0)]) == 2
    frame = journal_responses.responses(path)
    assert list(frame["id"]) == ["a-1", "a-2"]  # one row each, however often r-1 was sent
    assert frame["request_id"].iloc[0] == "r-1" and frame["request_type"].iloc[0] == "req"
    assert frame["latency_ms"].iloc[0] == 250.0  # from the last send of r-1
    assert pd.isna(frame["request_id"].iloc[1])


def _raw_rows(path, rows):
    """Responses written as the collector writes them, with chosen columns."""
    conn = journal.connect(path)
    conn.execute("BEGIN")
    for seq, time_text, names, row0, key in rows:
        conn.execute("INSERT OR IGNORE INTO shapes (names) VALUES (?)", (names,))
        conn.execute(
            "INSERT INTO responses (seq, sink, id, type, source, time, attributes, data,"
            " received_at, names, nrows, row0, request_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (seq, "ns/s", f"id{seq}", "t", "s", time_text, "{}", b"{}", 1.7e9 + seq, names,
             1 if names else None, row0, key))
    conn.execute("COMMIT")
    conn.close()


def test_a_large_read_is_split_and_typed_the_same_across_its_ranges(tmp_path):
    # 120k rows are read as parallel seq ranges: `time` is NULL in the first range and
    # text in the last, and one prediction is an integer in the first and a float later
    path = tmp_path / "j.sqlite"
    n = 120_000
    _raw_rows(path, [(i, None if i < 100_000 else "2024-01-01T00:00:00Z", '["a", "b"]',
                      "[1, 2]" if i < 60_000 else "[1.5, 2]", "") for i in range(1, n + 1)])
    frame = journal_responses.responses(path)
    assert len(frame) == n and list(frame["seq"]) == list(range(1, n + 1))
    assert frame["a"].dtype == np.float64 and frame["a"].iloc[0] == 1.0
    assert frame["a"].iloc[-1] == 1.5
    assert frame["time"].isna().sum() == 99_999 and frame["time"].iloc[-1].startswith("2024")
    assert str(frame["received_at"].dt.tz) == "UTC"
    assert frame["received_at"].iloc[0] == pd.Timestamp(1.7e9 + 1, unit="s", tz="UTC")
    assert pd.api.types.is_string_dtype(frame["id"]) and frame["id"].iloc[5] == "id6"


def test_a_slot_mixing_text_and_numbers_keeps_each_value_as_it_was(tmp_path):
    path = tmp_path / "j.sqlite"
    _raw_rows(path, [(1, None, '["label"]', '["setosa"]', ""),
                     (2, None, '["label"]', "[3]", ""), (3, None, None, None, "")])
    frame = journal_responses.responses(path)
    assert list(frame["label"].iloc[:2]) == ["setosa", 3]
    assert pd.isna(frame["label"].iloc[2])


def test_a_since_query_reads_the_newest_rows_through_the_time_index(tmp_path):
    path = tmp_path / "j.sqlite"
    _raw_rows(path, [(i, None, '["a"]', f"[{i}]", "") for i in range(1, 5001)])
    frame = journal_responses.responses(path, since=1.7e9 + 4901)
    assert list(frame["a"]) == [float(i) for i in range(4901, 5001)]
    conn = journal.connect(path, readonly=True)
    plan = " ".join(str(r) for r in conn.execute(
        "EXPLAIN QUERY PLAN " + journal_responses._SELECT.format(values="")
        + " WHERE r.received_at >= ? ORDER BY +r.seq", [1.7e9]))
    assert "responses_received" in plan  # not a scan of every row


def test_responses_journaled_before_request_key_still_find_their_request(tmp_path):
    path = journal.ensure(tmp_path / "j.sqlite")
    request = events.new_event({"data": {"ndarray": [[1]]}}, id="r-9", type="req",
                               source="kit")
    journal_collected.record_sent(path, [request], namespace="ns", broker="default", at=100.0)
    answer = events.new_event({"data": {"names": ["t:0"], "ndarray": [[1.0]]},
                               "meta": {"puid": "r-9"}}, id="a-9", type="res", source="m")
    journal_collected.store_collected(path, "ns/sink", "o", 0, 1, [(answer, 100.5)])
    conn = journal.connect(path)
    conn.execute("UPDATE responses SET request_key = NULL")  # as an older kit wrote it
    conn.close()
    frame = journal_responses.responses(path)
    assert frame["request_id"].iloc[0] == "r-9" and frame["latency_ms"].iloc[0] == 500.0


def test_the_frame_can_be_edited_like_any_dataframe(tmp_path):
    """Arrow hands numeric columns to pandas read-only; a user editing the frame used to get
    "assignment destination is read-only" for `seq` (and the prediction columns)."""
    path = tmp_path / "j.sqlite"
    fill(path, 4)
    frame = journal_responses.responses(path)
    for column in frame.columns:
        frame.loc[0, column] = frame[column].iloc[1]
    frame["t:1"] *= 2
    assert frame["seq"].iloc[0] == frame["seq"].iloc[1]
    np.testing.assert_allclose(frame["t:1"], [1.8, 1.8, 1.6, 1.4])
    again = journal_responses.responses(path)  # the journal itself is untouched
    np.testing.assert_allclose(again["t:1"], [1.0, 0.9, 0.8, 0.7])
