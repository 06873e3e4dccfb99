"""Parsing event-display pod logs back into events."""

from __future__ import annotations

import json

from seldon_jupyter.backends.kubernetes.eventlog import parse
from tests.kube.event_display import render

ATTRS = {"specversion": "0.3", "type": "seldon.iris.default.response", "source": "seldon.iris",
         "id": "a1", "datacontenttype": "application/json",
         "knativearrivaltime": "2026-11-25T10:00:00.123456789Z"}
DATA = {"data": {"names": ["t:0", "t:1"], "ndarray": [[0.25, 0.75]]}, "meta": {"puid": "a1"}}


def test_blocks_round_trip_with_extensions_and_pretty_json():
    log = "starting event_display\n" + render(ATTRS, json.dumps(DATA).encode()) + render(
        {**ATTRS, "id": "a2", "datacontenttype": "text/plain"}, b"hello\n  world")
    parsed = parse(log)
    assert len(parsed.blocks) == 2
    first, second = parsed.events
    assert dict(first.attributes) == ATTRS
    assert json.loads(first.data) == DATA
    assert first.data == json.dumps(DATA, separators=(",", ":")).encode()
    assert second.id == "a2" and second.data == b"hello\n  world"


def test_an_unfinished_last_block_waits_for_the_next_read():
    full = render(ATTRS, json.dumps(DATA).encode())
    cut = full[: full.index('"ndarray"')]
    assert parse(full + cut).blocks and len(parse(full + cut).blocks) == 1
    assert parse(full.rstrip("\n")).blocks == []  # no trailing newline yet
    assert len(parse(full + full).blocks) == 2


def test_a_block_without_required_attributes_is_counted_but_not_an_event():
    broken = "☁️  cloudevents.Event\nContext Attributes,\n  type: x\n"
    parsed = parse(broken + render(ATTRS, b""))
    assert parsed.blocks[0] is None and len(parsed.events) == 1
    assert parsed.events[0].data == b""


def test_foreign_lines_between_blocks_are_ignored():
    log = render(ATTRS, b"{}") + "2026/11/25 some warning: x\n" + render({**ATTRS, "id": "b"},
                                                                          b"[1]")
    assert [e.id for e in parse(log).events] == ["a1", "b"]
    assert parse(log).events[0].data == b"{}"
