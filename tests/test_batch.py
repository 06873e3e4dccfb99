"""The events of one send_many: built lazily for checked array rows, up front otherwise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seldon_jupyter import batch, tables
from seldon_jupyter.errors import EventError
from seldon_jupyter.events import Event


def _rows(n: int) -> list:
    frame = pd.DataFrame(np.arange(n * 2, dtype=float).reshape(n, 2), columns=["a", "b"])
    assert tables.checked_rows(frame, "ndarray", "seldon")
    return tables.split_rows(frame)


def test_lazy_rows_are_built_once_each_as_read_and_match_the_eager_build():
    items = _rows(5)
    lazy = batch.build(items, lazy=True, type="t.x", source="s")
    assert isinstance(lazy, batch.Rows) and len(lazy) == 5
    assert lazy._built[1:] == [None] * 4  # only the first (the template) so far
    third = lazy[2]
    assert lazy[2] is third and lazy._built[1] is None  # built once, and only when read
    eager = batch.build(items, type="t.x", source="s")
    assert isinstance(eager, list)
    for a, b in zip(lazy, eager, strict=True):
        body_a, body_b = json.loads(a.data), json.loads(b.data)
        assert body_a["meta"]["puid"] == a.id and body_b["meta"]["puid"] == b.id
        body_a.pop("meta"), body_b.pop("meta")
        assert body_a == body_b
        same = {k: v for k, v in a.attributes.items() if k not in ("id", "time")}
        assert same == {k: v for k, v in b.attributes.items() if k not in ("id", "time")}
    assert len({e.id for e in lazy}) == 5
    assert [e.id for e in lazy[1:3]] == [lazy[1].id, lazy[2].id]
    assert lazy[-1] is lazy[4]
    with pytest.raises(IndexError):
        lazy[5]


def test_the_first_event_is_validated_before_anything_is_sent():
    with pytest.raises(EventError):
        batch.build(_rows(3), lazy=True, type="", source="s")


def test_events_and_a_fixed_id_are_built_up_front():
    made = Event({"specversion": "1.0", "id": "x", "source": "s", "type": "t"}, b"")
    assert batch.build([(made, None)], lazy=True, type="t", source="s") == [made]
    fixed = batch.build(_rows(2), lazy=True, type="t", source="s", id="same")
    assert isinstance(fixed, list) and [e.id for e in fixed] == ["same", "same"]


def test_only_arrays_the_kit_checked_are_lazy():
    assert not tables.checked_rows([[1.0, 2.0]], "ndarray", "seldon")  # a list: built up front
    assert not tables.checked_rows(np.zeros((2, 2)), "ndarray", "v2")
    assert tables.checked_rows(np.zeros((2, 2)), "tensor", "seldon")
