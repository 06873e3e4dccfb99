"""Back-pressure, not collapse: a slow model keeps its throughput, a backlog has a bound."""

from __future__ import annotations

import textwrap
import time

import pytest
import requests

from seldon_jupyter import resources
from seldon_jupyter.session import Session
from tests.helpers import python_sdep, wait_for

pytestmark = pytest.mark.slow
SECONDS = 0.2  # one model call
WORKERS = 4  # the predictor's default: 4 calls at once, so 20 answers a second at most


@pytest.fixture
def tally(tmp_path):
    """A slow model that counts every call it computes (in a file, one line each)."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "Tally.py").write_text(textwrap.dedent("""
        import time

        class Tally:
            def __init__(self, out, seconds=0.2):
                self.out, self.seconds = out, seconds

            def predict(self, X, features_names):
                time.sleep(self.seconds)
                with open(self.out, "a") as tally:
                    tally.write("x\\n")
                return X
    """))
    return folder, tmp_path / "calls.txt"


def settled(session, trigger, count):
    def check():
        frame = session.deliveries(trigger=trigger)
        return [frame] if len(frame) == count and (frame["state"] != "pending").all() else None
    return wait_for(check, timeout=90, interval=0.2)[0]


def test_a_slow_model_under_overload_keeps_its_throughput_and_computes_no_lost_cause(
        session, tally):
    """40 events/s for 5 s to a model that answers 20/s, each attempt timing out after 1 s:
    the model used to compute every request in arrival order long after the broker had
    given up on it, so almost nothing arrived in time (180 in 60 s, then nothing)."""
    ns = session.namespace
    folder, calls = tally
    session.apply(python_sdep("slow", "Tally", folder, ns, out=str(calls), seconds=SECONDS),
                  wait=True, timeout=90)
    session.apply([resources.trigger("to-slow", namespace=ns, filter={"type": "load"},
                                     deployment="slow",
                                     delivery={"retry": 0, "timeout": "PT1S"})], wait=True)
    sent = 0
    started = time.monotonic()
    for _ in range(25):  # 8 events every 0.2 s
        sent += len(session.send_many([[i] for i in range(8)], type="load").ids)
        time.sleep(max(0.0, started + 0.2 * (_ + 1) - time.monotonic()))
    outcome = settled(session, f"{ns}/to-slow", sent)
    time.sleep(1.0)  # a call still running when its attempt gave up ends by now
    delivered = int((outcome["state"] == "delivered").sum())
    computed = len(calls.read_text().splitlines())
    capacity = WORKERS / SECONDS * 5  # answers the model can give while the load lasts
    print(f"sent {sent}, delivered {delivered}, computed {computed}, capacity {capacity:g}")
    assert delivered >= 0.5 * capacity, (delivered, computed, sent)
    assert computed - delivered <= 2 * WORKERS, (
        f"the model computed {computed} answers but only {delivered} were wanted in time")


@pytest.mark.slow
def test_a_full_backlog_is_a_429_with_retry_after_and_the_kits_sender_waits(
        tmp_path, monkeypatch, tally):
    monkeypatch.setenv("SELDON_JUPYTER_MAX_PENDING", "6")
    folder, calls = tally
    session = Session(home=tmp_path / "home", namespace="busy")
    try:
        session.ensure_broker()
        session.apply(python_sdep("slow", "Tally", folder, "busy", out=str(calls),
                                  seconds=0.5), wait=True, timeout=90)
        session.apply([resources.trigger("to-slow", namespace="busy", filter={"type": "job"},
                                         deployment="slow")], wait=True)
        url = session.broker_url()
        headers = {"ce-specversion": "1.0", "ce-source": "probe", "ce-type": "job",
                   "Content-Type": "application/json"}
        answers = [requests.post(url, data=b'{"data": {"ndarray": [[1]]}}', timeout=30,
                                 headers={**headers, "ce-id": f"raw-{i}"}) for i in range(12)]
        codes = [a.status_code for a in answers]
        assert codes[:6] == [202] * 6 and set(codes[6:]) <= {202, 429} and 429 in codes
        busy = answers[codes.index(429)]
        assert busy.headers["Retry-After"] == "1"
        assert "deliveries still pending (the limit is 6" in busy.text
        assert len(session.deliveries(state="pending")) <= 6
        # the kit's sender honours Retry-After: every event it sends is taken, none lost
        result = session.send_many([[i] for i in range(10)], type="job")
        assert len(result.ids) == 10
        accepted = codes.count(202) + 10
        outcome = settled(session, "busy/to-slow", accepted)
        assert set(outcome["state"]) == {"delivered"}
    finally:
        session.backend.down()
        session.close()
