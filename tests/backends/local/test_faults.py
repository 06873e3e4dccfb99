"""kill -9 of each local process in the middle of a stream: every acknowledged event is in
the journal once, and every delivery ends in a terminal state, none pending."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from seldon_jupyter import resources
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session
from tests.helpers import pid_listening_on, wait_for

pytestmark = pytest.mark.slow
EVENTS, RATE = 400, 200.0  # two seconds of stream; the kill comes after the first


def victim_pid(session: Session, victim: str) -> int:
    state = session.backend.running()
    if victim == "supervisor":
        return state.pid
    if victim == "broker":
        return pid_listening_on(state.broker_port)
    port = int(session.get("sdep", "iris").address.split(":")[2].split("/")[0])
    return pid_listening_on(port)


@pytest.mark.parametrize("victim", ["broker", "predictor", "supervisor"])
def test_kill_mid_stream_loses_and_duplicates_nothing_acknowledged(tmp_path, victim):
    ns = "faults"
    session = Session(home=tmp_path, namespace=ns)
    try:
        session.ensure_broker()
        session.deploy("iris", timeout=120)
        session.apply([resources.trigger("to-iris", namespace=ns, deployment="iris",
                                         filter={"type": request_type("iris", ns)},
                                         delivery={"retry": 8, "backoffPolicy": "linear",
                                                   "backoffDelay": "PT0.5S"}),
                       *resources.event_display("out", namespace=ns),
                       resources.trigger("out", namespace=ns, service="out",
                                         filter={"type": response_type("iris", ns)})],
                      wait=True)
        pid = victim_pid(session, victim)
        killer = threading.Timer(1.0, os.kill, (pid, signal.SIGKILL))
        killer.start()
        sent = session.send_many([[5.1, 3.5, 1.4, 0.2]] * EVENTS, type=request_type("iris", ns),
                                 rate=RATE)
        killer.join()
        acknowledged = set(sent.ids)
        if victim == "supervisor":  # its servers follow it; a kernel's next call restarts all
            time.sleep(1.0)
            session.status()
        journal = session.events(type=request_type("iris", ns))
        copies = journal.groupby("id").size()

        def settled():
            frame = session.deliveries(trigger=f"{ns}/to-iris")
            return [frame] if len(frame) and (frame["state"] != "pending").all() else None

        deliveries = wait_for(settled, timeout=120, interval=0.5)[0]
        answered = session.responses(sink=f"{ns}/out", wait=30,
                                     count=int((deliveries.state == "delivered").sum()))
        lost = acknowledged - set(journal["id"])
        duplicated = int((copies > 1).sum())
        print(f"{victim}: sent {EVENTS}, acknowledged {len(acknowledged)}, journaled "
              f"{len(copies)}, terminal {len(deliveries)} "
              f"({deliveries.state.value_counts().to_dict()}), lost {len(lost)}, duplicated "
              f"{duplicated}, responses {len(answered)} for "
              f"{answered['request_id'].nunique()} requests")
        assert len(acknowledged) >= EVENTS // 4, "the kill came too early to measure anything"
        assert not lost and not duplicated
        assert len(deliveries) == len(copies)  # every journaled event has its terminal state
        assert set(deliveries["state"]) <= {"delivered", "failed", "dead-lettered"}
        assert set(deliveries[deliveries.state == "delivered"]["event_id"]) <= set(
            answered["request_id"])
    finally:
        session.backend.down()
        session.close()
