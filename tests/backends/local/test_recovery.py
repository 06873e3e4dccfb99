"""kill -9 the broker while deliveries are in flight: the journal makes it whole again."""

from __future__ import annotations

import os
import signal

from seldon_jupyter import resources
from seldon_jupyter.backends.local.state import read_state
from tests.helpers import pid_listening_on, python_sdep, wait_for


def test_broker_killed_mid_stream_redelivers_every_accepted_event(session, python_models,
                                                                  local_home):
    ns = session.namespace
    session.apply(python_sdep("slow", "Slow", python_models, ns, seconds=0.4), wait=True,
                  timeout=90)
    session.apply([resources.trigger("to-slow", namespace=ns, filter={"type": "work"},
                                     deployment="slow",
                                     delivery={"retry": 5, "backoffDelay": "PT0.05S"}),
                   *resources.event_display("out", namespace=ns),
                   resources.trigger("out", namespace=ns, filter={"source": "seldon.slow"},
                                     service="out")], wait=True)
    broker_port = read_state(local_home).broker_port
    old_pid = pid_listening_on(broker_port)
    sent = session.send_many([[i] for i in range(8)], type="work")
    assert sent.sent == 8
    # the slow model (0.4 s a call) still holds deliveries: some are pending in the journal
    pending = wait_for(lambda: len(session.deliveries(trigger=f"{ns}/to-slow",
                                                      state="pending")), timeout=10)
    assert pending > 0
    os.kill(old_pid, signal.SIGKILL)
    new_pid = wait_for(lambda: pid_listening_on(broker_port) not in (None, old_pid) and
                       pid_listening_on(broker_port), timeout=60)
    assert new_pid != old_pid
    frame = session.responses(wait=60, count=8)
    assert set(sent.ids) <= set(frame["request_id"])  # at least once, none lost

    def settled():
        frame = session.deliveries(trigger=f"{ns}/to-slow")
        return list(frame["state"]) if (frame["state"] != "pending").all() else None

    assert wait_for(settled, timeout=30) == ["delivered"] * 8
