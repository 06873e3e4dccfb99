from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from seldon_jupyter import events, journal, journal_reader


def seldon_reply(i: int, rows: list[list[float]]) -> events.Event:
    return events.new_event({"data": {"names": ["t:0", "t:1"], "ndarray": rows}, "meta": {}},
                            type="seldon.m.ns.response", source="seldon.m", id=f"puid{i}",
                            specversion="0.3")


def fill(path, n: int, rows_per_reply: int = 1):
    j = journal.Journal(path)
    for i in range(n):
        request = events.new_event({"data": {"ndarray": [[i]]}}, type="seldon.m.ns.request",
                                   source="test", id=f"req{i}")
        seq = j.submit(journal.insert_event(request, namespace="ns", broker="default", ttl=255,
                                            triggers=["ns/t"])).result()
        rows = [[i / 10, 1 - i / 10]] * rows_per_reply
        reply = seldon_reply(i, rows)
        j.submit(journal.insert_event(reply, namespace="ns", broker="default", ttl=254,
                                      parent_seq=seq, via_trigger="ns/t")).result()
        j.submit(journal.insert_response(reply, sink="ns/event-display",
                                         received_at=time.time() + 0.002)).result()
    j.close()


def test_responses_frame_correlates_requests_and_flattens_predictions(tmp_path):
    path = tmp_path / "j.sqlite"
    fill(path, 5)
    frame = journal_reader.responses(path)
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
    assert journal_reader.responses(path, type="other").empty
    assert len(journal_reader.responses(path, since=time.time() + 60)) == 0
    wide = journal_reader.responses(path)
    assert wide["t:0"][1] == [0.1, 0.1]  # multi-row replies keep one list per column
    long = journal_reader.responses(path, explode=True)
    assert len(long) == 6
    assert list(long["row"]) == [0, 1, 0, 1, 0, 1]


def test_empty_or_missing_journal_gives_empty_frames(tmp_path):
    frame = journal_reader.responses(tmp_path / "nothing.sqlite")
    assert frame.empty
    assert set(journal_reader.RESPONSE_COLUMNS) <= set(frame.columns)
    assert journal_reader.events(tmp_path / "nothing.sqlite").empty
    assert journal_reader.deliveries(tmp_path / "nothing.sqlite").empty
