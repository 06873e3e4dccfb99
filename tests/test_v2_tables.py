"""Open Inference Protocol (V2) requests from rows, and V2 answers as DataFrame columns."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from seldon_jupyter import (
    events,
    journal,
    journal_collected,
    journal_ops,
    journal_responses,
    tables,
)
from seldon_jupyter.errors import PayloadError
from seldon_jupyter.payloads import answer_shape
from seldon_jupyter.v2_tables import to_v2, with_id


def test_a_dataframe_as_one_tensor_or_one_input_per_column():
    frame = pd.DataFrame({"sepal": [5.1, 4.9], "count": np.array([3, 4], dtype="int32"),
                          "kind": ["a", "b"], "ok": [True, False]})
    tensor = to_v2(frame[["sepal", "count"]], request_id="r1")
    assert tensor == {"id": "r1", "inputs": [{"name": "predict", "shape": [2, 2],
                                              "datatype": "FP64",
                                              "data": [5.1, 3.0, 4.9, 4.0]}]}
    columns = to_v2(frame, kind="columns")
    assert columns["parameters"] == {"content_type": "pd"}  # MLServer rebuilds the frame
    assert [(i["name"], i["shape"], i["datatype"], i["data"]) for i in columns["inputs"]] == [
        ("sepal", [2], "FP64", [5.1, 4.9]), ("count", [2], "INT32", [3, 4]),
        ("kind", [2], "BYTES", ["a", "b"]), ("ok", [2], "BOOL", [True, False])]
    assert to_v2([1, 2, 3, 4])["inputs"][0]["shape"] == [1, 4]  # one flat row
    with pytest.raises(PayloadError, match="unknown V2 payload kind"):
        to_v2([[1]], kind="ndarray")


def test_every_v2_request_the_kit_sends_carries_its_event_id(fake):
    event = fake.event([[1, 2, 3, 4]], type="t", protocol="v2")
    assert json.loads(event.data)["id"] == event.id
    own = fake.event({"id": "mine", "inputs": []}, type="t", protocol="v2")
    assert json.loads(own.data)["id"] == "mine"  # a user's id is kept
    rows = tables.split_rows(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), protocol="v2")
    assert [body["inputs"][0]["data"] for body, _ in rows] == [[1, 3], [2, 4]]
    assert with_id(rows[0][0], "e1")["id"] == "e1"
    with pytest.raises(PayloadError, match="unknown protocol 'v3'"):
        tables.request_body([[1]], protocol="v3")


def test_v2_outputs_become_columns():
    answer = {"id": "r", "outputs": [
        {"name": "predict", "shape": [2, 1], "datatype": "INT64", "data": [2, 0]},
        {"name": "predict_proba", "shape": [2, 3], "datatype": "FP64",
         "data": [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]}]}
    assert answer_shape(answer) == (["predict", "predict_proba:0", "predict_proba:1",
                                     "predict_proba:2"],
                                    [[2, 0.1, 0.2, 0.7], [0, 0.8, 0.1, 0.1]])
    assert answer_shape({"outputs": [{"name": "y", "shape": [3], "data": [1, 2, 3]}]}) == (
        ["y"], [[1], [2], [3]])
    ragged = {"outputs": [{"name": "a", "shape": [2], "data": [1, 2]},
                          {"name": "b", "shape": [3], "data": [1, 2, 3]}]}
    assert answer_shape(ragged) is None
    assert answer_shape({"outputs": [{"name": "a", "shape": [2, 2], "data": [1]}]}) is None


def test_a_cluster_v2_response_names_its_request_by_the_id_the_server_echoes(tmp_path):
    path = tmp_path / "j.sqlite"
    request = events.new_event({"id": "ev-1", "inputs": []}, type="iris.request", id="ev-1",
                               source="kit")
    journal_collected.record_sent(path, [request], namespace="ns", broker="default", at=time.time())
    answer = events.new_event({"id": "ev-1", "model_name": "classifier", "outputs": [
        {"name": "predict", "shape": [1, 1], "datatype": "INT64", "data": [2]}]},
        type="io.seldon.serving.inference.response", id="ev-1",
        source="io.seldon.serving.deployment.mlserver.ns", specversion="0.3")
    j = journal.Journal(path)
    j.submit(journal_ops.insert_response(answer, sink="ns/collector")).result()
    j.close()
    frame = journal_responses.responses(path)
    assert frame["request_id"].tolist() == ["ev-1"] and frame["predict"].tolist() == [2]
    assert frame["request_type"].tolist() == ["iris.request"]
