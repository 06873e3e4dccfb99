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


def test_a_cluster_response_names_its_request_by_the_echoed_puid_once(tmp_path):
    # on a cluster the response has a fresh id and no broker chain: the request is the
    # kit's own send record whose id Seldon echoed as meta.puid
    path = journal.ensure(tmp_path / "j.sqlite")
    request = events.new_event({"data": {"ndarray": [[1]]}, "meta": {"puid": "r-1"}},
                               id="r-1", type="req", source="kit")
    journal.record_sent(path, [request], namespace="ns", broker="default", at=100.0)
    journal.record_sent(path, [request], namespace="ns", broker="default", at=105.0)  # again
    answer = events.new_event({"data": {"names": ["t:0"], "ndarray": [[1.0]]},
                               "meta": {"puid": "r-1"}}, id="a-1", type="res", source="model")
    other = events.new_event("not json {", id="a-2", type="res", source="model")
    assert journal.store_collected(path, "ns/sink", "o", 0, 2,
                                   [(answer, 105.25), (other, 106.0)]) == 2
    frame = journal_reader.responses(path)
    assert list(frame["id"]) == ["a-1", "a-2"]  # one row each, however often r-1 was sent
    assert frame["request_id"].iloc[0] == "r-1" and frame["request_type"].iloc[0] == "req"
    assert frame["latency_ms"].iloc[0] == 250.0  # from the last send of r-1
    assert pd.isna(frame["request_id"].iloc[1])
