"""Session's reading half (session_results.Results) over the in-memory FakeBackend:
responses tied to requests, waiting, the sidebar's feed and heads, events and deliveries
scoped to the namespace, and pruning."""

from __future__ import annotations

import time

from seldon_jupyter import resources
from seldon_jupyter.naming import request_type, response_type


def _walkthrough(fake):
    fake.ensure_broker()
    fake.deploy("iris")
    fake.apply(resources.trigger("to-iris", namespace="fast", deployment="iris",
                                 filter={"type": request_type("iris", "fast")}))
    fake.apply(resources.collector_manifests("display", namespace="fast",
                                             filter={"type": response_type("iris", "fast")}))


def test_fake_walkthrough_gives_responses_tied_to_requests(fake):
    _walkthrough(fake)
    sent = fake.send_many([[1, 2, 3, 4], [5, 6, 7, 8]], type=request_type("iris", "fast"))
    frame = fake.responses(wait=5, count=2)
    assert sorted(frame["t:0"]) == [10.0, 26.0]
    assert set(frame["request_id"]) == set(sent.ids)
    assert (frame["latency_ms"] >= 0).all()


def test_waiting_for_more_than_arrives_returns_what_came_after_the_wait(fake):
    _walkthrough(fake)
    fake.send([1, 1, 1, 1], type=request_type("iris", "fast"))
    began = time.monotonic()
    frame = fake.responses(wait=0.3, count=5)
    assert 0.3 <= time.monotonic() - began < 5
    assert list(frame["t:0"]) == [4.0]


def test_feed_cursors_never_repeat_an_item_and_heads_move_with_them(fake):
    fake.ensure_broker()
    fake.apply(resources.trigger("all", namespace="fast", service="sink"))
    before = fake.heads()
    fake.send({"x": 1}, type="t")
    first = fake.feed()
    assert [i["type"] for i in first["items"]] == ["t"]
    assert fake.heads() != before
    assert fake.heads()[0] == first["after_event"]
    again = fake.feed(first["after_event"], first["after_response"])
    assert again["items"] == []


def test_events_and_deliveries_default_to_this_namespace(fake):
    _walkthrough(fake)
    fake.send([1, 2, 3, 4], type=request_type("iris", "fast"))
    fake.responses(wait=5)
    taken = fake.events()
    assert set(taken["type"]) == {request_type("iris", "fast"), response_type("iris", "fast")}
    assert fake.events(namespace="elsewhere").empty
    assert set(fake.deliveries()["trigger"]) == {"fast/to-iris", "fast/display"}
    assert fake.deliveries(namespace="elsewhere").empty


def test_prune_by_age_drops_what_is_older(fake):
    _walkthrough(fake)
    fake.send([1, 2, 3, 4], type=request_type("iris", "fast"))
    fake.responses(wait=5)
    kept = fake.prune(older_than="1d")
    assert len(fake.responses()) == 1, kept
    time.sleep(0.05)
    gone = fake.prune(older_than=0.01)
    assert fake.responses().empty, gone
