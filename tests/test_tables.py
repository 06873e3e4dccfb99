from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seldon_jupyter import tables
from seldon_jupyter.errors import PayloadError
from seldon_jupyter.payloads import message_array
from seldon_jupyter.tables import from_seldon, to_seldon


def test_dataframe_becomes_ndarray_with_names_and_back():
    frame = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]],
                         columns=["sl", "sw", "pl", "pw"])
    message = to_seldon(frame)
    assert message == {"data": {"names": ["sl", "sw", "pl", "pw"],
                                "ndarray": frame.to_numpy().tolist()}}
    back = from_seldon(message)
    pd.testing.assert_frame_equal(back, frame)


def test_tensor_keeps_shape_and_values():
    array = np.arange(12, dtype=float).reshape(3, 4)
    message = to_seldon(array, kind="tensor")
    assert message["data"]["tensor"] == {"shape": [3, 4], "values": array.ravel().tolist()}
    names, back = message_array(message)
    assert names == []
    np.testing.assert_array_equal(back, array)


def test_one_dimensional_input_is_one_row():
    assert to_seldon([1, 2, 3, 4]) == {"data": {"ndarray": [[1, 2, 3, 4]]}}


@pytest.mark.parametrize(("value", "kind", "expected"), [
    ({"a": 1}, "json", {"jsonData": {"a": 1}}),
    ("hello", "str", {"strData": "hello"}),
    (b"\x00\x01", "bin", {"binData": "AAE="}),
])
def test_other_payload_kinds_round_trip(value, kind, expected):
    message = to_seldon(value, kind=kind)
    assert message == expected
    assert from_seldon(message) == value


@pytest.mark.parametrize(("call", "message"), [
    (lambda: to_seldon([[1, 2], [3]]), "ragged|nested|array"),
    (lambda: to_seldon([["a", "b"]], kind="tensor"), "numbers only"),
    (lambda: to_seldon([1], kind="xml"), "unknown payload kind"),
    (lambda: message_array({"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3]}}}),
     "do not fit its shape"),
    (lambda: message_array({"nodata": 1}), "no 'data' object"),
    (lambda: message_array({"data": {"names": []}}), "neither 'ndarray' nor 'tensor'"),
])
def test_bad_payloads_raise_payload_error(call, message):
    with pytest.raises(PayloadError, match=message):
        call()


def test_every_seldon_message_the_kit_sends_carries_its_event_id_as_meta_puid(tmp_path):
    from seldon_jupyter.session import Session
    from tests.fakes import FakeBackend

    backend = FakeBackend(tmp_path)
    session = Session(backend, namespace="p")
    try:
        rows = session.event([[1, 2, 3, 4]], type="t")
        assert rows.json()["meta"] == {"puid": rows.id}
        written = session.event({"data": {"ndarray": [[1]]}, "meta": {"tags": {"a": 1}}},
                                type="t")
        assert written.json()["meta"] == {"tags": {"a": 1}, "puid": written.id}
        own = session.event({"jsonData": {"x": 1}, "meta": {"puid": "mine"}}, type="t")
        assert own.json()["meta"] == {"puid": "mine"}  # the user's own puid is kept
        other = session.event({"hello": "world"}, type="t")
        assert other.json() == {"hello": "world"}  # not a SeldonMessage: untouched
    finally:
        session.close()
        backend.close()


@pytest.mark.parametrize("kind", ["ndarray", "tensor"])
@pytest.mark.parametrize("step", [None, 1, 3])
def test_split_rows_builds_from_one_conversion_what_a_slice_per_row_builds(kind, step):
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [0.5, 1.5, 2.5, 3.5, 4.5],
                          7: [True, False, True, False, True]})
    if kind == "tensor":  # numbers only (a bool column makes the rows objects)
        frame = frame.drop(columns=[7])
    array = np.arange(20, dtype=float).reshape(5, 4)
    for table in (frame, array, np.arange(5.0)):
        fast = tables.split_rows(table, kind, step)
        two_d = table if table.ndim == 2 else table.reshape(len(table), -1)
        width = step or 1
        slow = [tables.request_body(two_d.iloc[i:i + width] if isinstance(two_d, pd.DataFrame)
                                    else two_d[i:i + width], kind)
                for i in range(0, len(two_d), width)]
        assert [body for body, _ in fast] == [body for body, _ in slow]
        assert all(tag is tables.with_puid for _, tag in fast)


def test_split_rows_refuses_a_tensor_of_strings_as_to_seldon_does():
    with pytest.raises(PayloadError, match="tensor holds numbers only"):
        tables.split_rows(pd.DataFrame({"s": ["x", "y"]}), "tensor")
    assert tables.split_rows(pd.DataFrame({"s": ["x", "y"]}), "ndarray")[1][0] == {
        "data": {"names": ["s"], "ndarray": [["y"]]}}


def test_a_missing_value_is_refused_naming_its_row_and_column():
    """JSON has no NaN: sent as `NaN`, no JSON parser downstream accepts the body."""
    frame = pd.DataFrame([[5.1, 3.5], [4.9, np.nan], [np.inf, 3.0]], columns=["sl", "sw"],
                         index=["a", "b", "c"])
    with pytest.raises(PayloadError) as err:
        tables.split_rows(frame)
    assert "row 1 (index 'b'), column 'sw' is nan" in str(err.value)
    assert "2 value(s)" in str(err.value) and "dropna" in err.value.hint
    with pytest.raises(PayloadError, match="column 'sw'"):
        to_seldon(frame)
    mixed = pd.DataFrame({"name": ["x", "y"], "v": [1.0, None]}).astype(object)
    mixed.loc[1, "v"] = float("nan")
    with pytest.raises(PayloadError, match="row 1, column 1|column 'v'"):
        tables.split_rows(mixed)
    assert len(tables.split_rows(frame.head(1))) == 1  # the finite rows alone pass
    assert len(tables.split_rows(np.array([[1, 2], [3, 4]]))) == 2  # integers never are


def test_nan_in_a_payload_dict_is_an_event_error_not_invalid_json():
    from seldon_jupyter import events
    from seldon_jupyter.errors import EventError

    with pytest.raises(EventError, match="NaN or an infinity") as err:
        events.new_event({"data": {"ndarray": [[float("nan")]]}}, type="t", source="s")
    assert "fillna" in err.value.hint
    body = events.new_event({"data": {"ndarray": [[1.5]]}}, type="t", source="s").data
    assert body == b'{"data":{"ndarray":[[1.5]]}}'
