from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
