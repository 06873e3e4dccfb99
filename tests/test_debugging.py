"""Trace, explain, dead letters, failures and replay on the real local broker (and explain
on the kubernetes double): each case of "why did my Trigger (not) fire?"."""

from __future__ import annotations

import base64

import pytest

from seldon_jupyter import resources
from seldon_jupyter.errors import NotFoundError
from seldon_jupyter.naming import request_type, response_type
from tests.helpers import python_sdep, wait_for


def walkthrough(session):
    ns = session.namespace
    session.deploy("iris")
    session.apply([resources.trigger("to-iris", namespace=ns, deployment="iris",
                                     filter={"type": request_type("iris", ns)}),
                   *resources.collector_manifests("display", namespace=ns, filter={
                       "type": response_type("iris", ns)})], wait=True)


def test_trace_of_the_walkthrough_request(session):
    walkthrough(session)
    sent = session.send([[1, 2, 3, 4]], type=request_type("iris", session.namespace))
    session.responses(wait=20, count=1)
    t = wait_for(lambda: (x := session.trace(sent.id)).replies and x.replies[0].collected
                 and x, timeout=20)
    (to_iris,) = [r for r in t.routes if r.trigger.endswith("/to-iris")]
    assert to_iris.taken and to_iris.state == "delivered" and to_iris.attempts[0].code == 200
    (display,) = [r for r in t.routes if r.trigger.endswith("/display")]
    assert not display.taken and "type differs" in display.why
    (reply,) = t.replies
    assert reply.type == response_type("iris", session.namespace)
    assert reply.collected == (f"{session.namespace}/display",)
    assert session.trace("last").id == sent.id
    text = str(t)
    assert "-> " in text and "reply event" in text and "collected by" in text
    assert "sj-trace" in t._repr_html_()
    frame = t.to_frame()
    assert list(frame["code"]) == [200] and list(frame["depth"]) == [0]


@pytest.mark.parametrize(("filters", "why"), [
    ({"filter": {"attributes": {"type": "other"}}}, "type differs (attributes): expected "
                                                    "'other', you have 'probe'"),
    ({"filters": [{"exact": {"source": "nope"}}]}, "source differs (exact)"),
    ({"filters": [{"prefix": {"type": "seldon."}}]}, "expected prefix 'seldon.'"),
    ({"filters": [{"suffix": {"type": ".response"}}]}, "expected suffix '.response'"),
    ({"filters": [{"all": [{"exact": {"type": "probe"}}, {"exact": {"tenant": "a"}}]}]},
     "tenant differs (exact): expected 'a', the event has no such attribute"),
    ({"filters": [{"any": [{"exact": {"type": "x"}}, {"exact": {"type": "y"}}]}]},
     "any: none of its filters passed"),
    ({"filters": [{"not": {"exact": {"type": "probe"}}}]}, "not: the inner filter passed"),
    ({"filters": [{"cesql": "type = 'probe' AND INT(n) > 5"}]}, "'INT(n) > 5' is false"),
])
def test_each_dialects_miss_is_named(session, filters, why):
    spec = resources.trigger("t", namespace=session.namespace, uri="http://127.0.0.1:9/")
    spec["spec"].pop("filter", None)
    spec["spec"].update(filters)
    session.apply(spec, wait=True)
    sent = session.send({"x": 1}, type="probe", extensions={"n": "3"})
    (route,) = session.trace(sent.id).routes
    assert not route.taken and why in route.why
    failures = session.failures()
    assert list(failures["what"]) == ["unrouted"] and why in failures["reason"][0]


def test_retried_then_dead_lettered(session):
    ns = session.namespace
    session.apply(resources.collector_manifests("dlq", namespace=ns,
                                                filter={"type": "never"}), wait=True)
    session.apply(resources.trigger("doomed", namespace=ns, uri="http://127.0.0.1:9/",
                                    filter={"type": "job"}, delivery={
                                        "retry": 2, "backoffPolicy": "linear",
                                        "backoffDelay": "PT0.1S",
                                        "deadLetterSink": {"ref": {"apiVersion": "v1",
                                                                   "kind": "Service",
                                                                   "name": "dlq"}}}),
                  wait=True)
    sent = session.send({"x": 1}, type="job")
    def doomed():
        return next(r for r in session.trace(sent.id).routes if r.trigger.endswith("/doomed"))

    route = wait_for(lambda: (r := doomed()).state == "dead-lettered" and r, timeout=20)
    attempts = route.attempts
    assert [(a.target, a.number) for a in attempts] == [
        ("subscriber", 1), ("subscriber", 2), ("subscriber", 3), ("dead-letter", 1)]
    assert [a.waited_s for a in attempts[:3]] == [0.0, 0.0, pytest.approx(0.1)]
    assert attempts[0].code is None and attempts[0].answer.startswith("dispatch error")
    letters = session.dead_letters()
    assert list(letters["event_id"]) == [sent.id]
    row = letters.iloc[0]
    assert row["knativeerrorcode"] == "500" and row["attempts"] == 3
    assert row["knativeerrordata"].startswith("dispatch error")
    assert row["destination"] == "http://127.0.0.1:9/"
    assert "dead-lettered" in set(session.failures()["what"])
    collected = session.responses(sink=f"{ns}/dlq", wait=10, count=1)  # the letter itself
    assert base64.b64decode(__import__("json").loads(collected["attributes"][0])[
        "knativeerrordata"]).startswith(b"dispatch error")


def test_a_reply_chain_of_depth_three_reads_as_one_tree(session, python_models):
    ns = session.namespace
    walkthrough(session)
    session.apply(python_sdep("echo", "Echo", python_models, ns), wait=True, timeout=90)
    session.apply(resources.trigger("to-echo", namespace=ns, deployment="echo",
                                    filter={"type": response_type("iris", ns)}), wait=True)
    session.apply(resources.collector_manifests("end", namespace=ns, filter={
        "type": response_type("echo", ns)}), wait=True)
    sent = session.send([[1, 2, 3, 4]], type=request_type("iris", ns))
    t = wait_for(lambda: (x := session.trace(sent.id)).replies and x.replies[0].replies
                 and x.replies[0].replies[0].collected and x, timeout=30)
    chain = [(depth, node.type) for depth, node in t.walk()]
    assert chain == [(0, request_type("iris", ns)), (1, response_type("iris", ns)),
                     (2, response_type("echo", ns))]
    assert t.replies[0].replies[0].collected == (f"{ns}/end",)
    assert "        reply event" in str(t)


def test_replay_links_the_new_event_to_its_original(session):
    walkthrough(session)
    first = session.send([[1, 2, 3, 4]], type=request_type("iris", session.namespace))
    session.responses(wait=20, count=1)
    again = session.replay([first.id])
    assert again.sent == 1 and again.ids[0] != first.id
    t = session.trace(again.ids[0])
    assert t.replay_of == first.id and "knativearrivaltime" in t.attributes
    assert f"replay of {first.id}" in str(t)
    frame = session.responses(wait=20, count=2)
    assert set(frame["request_id"]) == {first.id, again.ids[0]}
    with pytest.raises(NotFoundError, match="no event 'nope'"):
        session.replay(["nope"])


def test_explain_ranks_the_nearest_miss_first(session):
    walkthrough(session)
    ns = session.namespace
    wrong = session.explain(type=f"seldon.iri.{ns}.request")
    assert not wrong.takers
    first = wrong.verdicts[0]
    assert first.trigger.endswith("/to-iris")
    assert first.why == (f"type differs (attributes): expected 'seldon.iris.{ns}.request', "
                         f"you have 'seldon.iri.{ns}.request'")
    assert "accepted, and dropped: no Trigger matches" in str(wrong)
    right = session.explain(type=request_type("iris", ns))
    assert [v.trigger for v in right.takers] == [f"{ns}/to-iris"]
    assert not right.client_side


def test_trace_of_an_unknown_event_says_where_to_look(session):
    with pytest.raises(NotFoundError, match="no event 'missing'"):
        session.trace("missing")
