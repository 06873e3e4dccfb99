"""The kit's sends are taken once: a retried send is not a second event (Knative's own
clients, without an Idempotency-Key, still get Knative's behaviour: every POST counts)."""

from __future__ import annotations

import requests

from seldon_jupyter import resources

HEADERS = {"ce-specversion": "1.0", "ce-source": "retrying-client", "ce-type": "once",
           "Content-Type": "application/json"}


def test_a_retried_idempotent_send_is_taken_once_others_as_knative_does(session, ns):
    session.apply([*resources.event_display("sink", namespace=ns),
                   resources.trigger("all", namespace=ns, service="sink")], wait=True)
    url = session.broker_url()
    keyed = {**HEADERS, "ce-id": "same", "Idempotency-Key": "same"}
    first = requests.post(url, data=b"{}", headers=keyed, timeout=30)
    again = requests.post(url, data=b"{}", headers=keyed, timeout=30)
    assert first.status_code == again.status_code == 202
    assert first.headers["X-Seldon-Jupyter-Seq"] == again.headers["X-Seldon-Jupyter-Seq"]
    plain = {**HEADERS, "ce-id": "twice"}
    for _ in range(2):
        assert requests.post(url, data=b"{}", headers=plain, timeout=30).status_code == 202
    other_source = {**keyed, "ce-source": "another-client"}  # (source, id) names an event
    assert requests.post(url, data=b"{}", headers=other_source, timeout=30).status_code == 202
    event = session.event([[1, 2]], type="once")
    for _ in range(3):  # the kit's sender sets the key itself
        assert session.send(event).status == 202
    taken = session.events(type="once")
    assert sorted(taken.groupby(["source", "id"]).size().items()) == [
        (("another-client", "same"), 1), (("retrying-client", "same"), 1),
        (("retrying-client", "twice"), 2), ((event.source, event.id), 1)]
    assert len(session.deliveries(trigger=f"{ns}/all")) == 5  # journaled as they were taken
    assert len(session.responses(sink=f"{ns}/sink", wait=10, count=5)) == 5
