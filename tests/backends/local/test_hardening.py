"""Bad input never crashes a local server; faults never lose an accepted event."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seldon_jupyter import resources
from seldon_jupyter.errors import SendError
from seldon_jupyter.session import Session
from tests.helpers import pid_listening_on, python_sdep, wait_for

TOKEN = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
# header values as raw bytes: 0x80-0xFF go out as latin-1, i.e. bytes that are not UTF-8
RAW_TOKEN = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF,
                                           blacklist_characters="\x7f"), max_size=40)
TTLS = st.sampled_from(["0", "1", "2", "-1", "255", "256", str(2**31), str(2**63), "abc",
                        "1e3", " 7"])
DEEP = st.integers(min_value=500, max_value=3000).map(
    lambda depth: b"[" * depth + b"]" * depth)
HEADER_NAMES = st.sampled_from(["ce-id", "ce-source", "ce-type", "ce-specversion", "ce-time",
                                "ce-subject", "ce-dataschema", "ce-Ext1", "ce-knativebrokerttl",
                                "ce-averyveryveryverylongname", "content-type", "ce-", "x-other"])
CONTENT_TYPES = st.sampled_from(["application/json", "application/cloudevents+json",
                                 "application/cloudevents-batch+json", "text/plain",
                                 "application/octet-stream", "application/x-www-form-urlencoded"])
SPECVERSIONS = st.sampled_from(["1.0", "0.3", "", "2.0", "1", "1.0 "])


@st.composite
def requests_(draw):
    headers = draw(st.dictionaries(HEADER_NAMES, RAW_TOKEN | TOKEN, max_size=8))
    if draw(st.booleans()):
        headers.update({"ce-id": draw(TOKEN) or "id", "ce-source": "s", "ce-type": "t",
                        "ce-specversion": draw(SPECVERSIONS)})
    if draw(st.booleans()):
        headers["ce-knativebrokerttl"] = draw(TTLS)
    headers["content-type"] = draw(CONTENT_TYPES)
    kind = draw(st.sampled_from(["bytes", "json", "structured", "deep"]))
    if kind == "deep":
        body = draw(DEEP)
    elif kind == "bytes":
        body = draw(st.binary(max_size=2048))
    elif kind == "json":
        body = json.dumps(draw(st.recursive(
            st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                st.text(max_size=8), inner, max_size=4), max_leaves=12))).encode()
    else:
        body = json.dumps({k: draw(TOKEN) for k in draw(st.lists(st.sampled_from(
            ["id", "source", "type", "specversion", "time", "data", "data_base64",
             "datacontentencoding"]), max_size=8))}).encode()
    return headers, body


ROWS = st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32)
                         | st.integers(-10, 10), min_size=0, max_size=5), max_size=3)


@st.composite
def seldon_messages(draw):
    """SeldonMessages as a fuzzer writes them: empty, 0-row or ragged data, wrong shapes,
    odd names and meta, deep nesting."""
    kind = draw(st.sampled_from(["ndarray", "tensor", "deep", "other"]))
    if kind == "deep":
        return b'{"data": {"ndarray": ' + draw(DEEP) + b"}}"
    if kind == "ndarray":
        message = {"data": {"ndarray": draw(ROWS)}}
    elif kind == "tensor":
        shape = draw(st.lists(st.integers(-2, 5), max_size=3))
        values = draw(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32),
                               max_size=20))
        message = {"data": {"tensor": {"shape": shape, "values": values}}}
    else:
        message = draw(st.dictionaries(st.sampled_from(
            ["data", "jsonData", "strData", "binData", "meta"]), st.none() | st.integers()
            | st.text(max_size=5) | st.lists(st.integers(), max_size=3), max_size=3))
    if draw(st.booleans()) and isinstance(message.get("data"), dict):
        message["data"]["names"] = draw(st.none() | st.lists(st.text(max_size=4), max_size=5)
                                        | st.integers())
    if draw(st.booleans()):
        message["meta"] = draw(st.none() | st.integers() | st.dictionaries(
            st.sampled_from(["puid", "tags", "routing"]), st.text(max_size=5), max_size=3))
    return json.dumps(message).encode()


@pytest.fixture(scope="module")
def targets(backend):
    s = Session(backend, namespace="fuzz")
    s.ensure_broker()
    sdep = s.deploy("iris")
    yield s.broker_url(), sdep.address, backend.running().token
    s.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests_())
def test_broker_ingress_answers_4xx_with_a_reason_or_202(targets, request):
    headers, body = request
    status, text = _raw_post(targets[0], headers, body)
    assert status in (202, 400, 413), (status, text)
    if status == 400:
        assert text.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests_())
def test_predictor_answers_4xx_with_a_seldon_reason_or_200(targets, request):
    headers, body = request
    owner = {**headers, "Authorization": f"Bearer {targets[2]}"}  # the cluster's own broker
    code, text = _raw_post(targets[1], owner, body)
    assert code in (200, 400, 413), (code, text)
    if code == 400:
        status = json.loads(text)["status"]
        assert status["status"] == 1 and status["code"] == -1 and status["info"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=seldon_messages())
def test_predictor_answers_any_seldon_message_with_200_or_a_seldon_400(targets, body):
    owner = {"Authorization": f"Bearer {targets[2]}", "Content-Type": "application/json"}
    resp = requests.post(targets[1], data=body, headers=owner, timeout=30)
    assert resp.status_code in (200, 400), (resp.status_code, resp.text, body[:200])
    if resp.status_code == 400:
        status = resp.json()["status"]
        assert status["reason"] == "MICROSERVICE_BAD_DATA" and status["info"]


def test_the_predictor_and_the_sinks_take_writes_only_with_the_token(targets, backend):
    """Another local user can reach 127.0.0.1 too: without the token a model cannot be
    driven and no response can be forged into the owner's journal (Knative's ingress itself
    stays open, as on a cluster)."""
    broker, predictor, token = targets
    body = {"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}
    assert requests.post(predictor, json=body, timeout=30).status_code == 401
    assert requests.post(predictor, json=body, timeout=30,
                         headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert requests.post(predictor, json=body, timeout=30,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert requests.get(predictor.split("/api/")[0] + "/api/v1.0/metadata",
                        timeout=30).status_code == 200  # reading stays open
    sink = broker.rsplit("/", 2)[0] + "/sinks/fuzz/anything"
    forged = {"ce-id": "forged", "ce-source": "mallory", "ce-type": "x.response",
              "ce-specversion": "1.0", "Content-Type": "application/json"}
    assert requests.post(sink, data=b"{}", headers=forged, timeout=30).status_code == 401
    assert requests.post(broker, data=b"{}", headers=forged, timeout=30).status_code == 202


@pytest.mark.slow
def test_oversized_events_get_413_under_a_configurable_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SELDON_JUPYTER_MAX_BODY", "65536")
    session = Session(home=tmp_path)
    try:
        session.ensure_broker()
        assert session.send({"blob": "x" * 60_000}, type="big").status == 202
        with pytest.raises(SendError, match="too large") as info:
            session.send({"blob": "x" * 70_000}, type="big")
        assert info.value.status == 413
    finally:
        session.backend.down()
        session.close()


def test_killed_predictor_retries_then_dead_letters_nothing_dropped(session, python_models):
    ns = session.namespace
    session.apply(python_sdep("victim", "Slow", python_models, ns, seconds=0.3), wait=True,
                  timeout=90)
    session.apply([*resources.event_display("dlq", namespace=ns),
                   *resources.event_display("ok", namespace=ns),
                   resources.trigger("ok", namespace=ns, filter={"source": "seldon.victim"},
                                     service="ok"),
                   resources.trigger("to-victim", namespace=ns, filter={"type": "job"},
                                     deployment="victim",
                                     delivery={"retry": 1, "backoffDelay": "PT0.01S",
                                               "deadLetterSink": {"uri": f"http://dlq.{ns}.svc."
                                                                  "cluster.local/"}})],
                  wait=True)
    port = int(session.get("sdep", "victim").address.split(":")[2].split("/")[0])
    sent = session.send_many([[i] for i in range(6)], type="job")
    # the 6 deliveries are journaled and started when send_many returns, and the model needs
    # 0.3 s for each: killing it now costs them their first attempt (in flight or refused)
    os.kill(pid_listening_on(port), signal.SIGKILL)

    def settled():
        frame = session.deliveries(trigger=f"{ns}/to-victim")
        return [frame] if len(frame) == 6 and (frame["state"] != "pending").all() else None

    outcome = wait_for(settled, timeout=60)[0]
    assert set(outcome["state"]) <= {"delivered", "dead-lettered"}
    dead = set(outcome[outcome.state == "dead-lettered"]["event_id"])
    assert dead, "the kill should have cost at least one delivery"
    assert (outcome[outcome.state == "dead-lettered"]["attempts"] == 2).all()
    dlq = session.responses(sink=f"{ns}/dlq", wait=10, count=len(dead))
    assert set(dlq["id"]) == dead
    done = set(outcome[outcome.state == "delivered"]["event_id"])
    if done:  # events that the restarted predictor answered have their response
        answered = session.responses(sink=f"{ns}/ok", wait=10, count=len(done))
        assert set(answered["request_id"]) == done
    assert dead | done == set(sent.ids)


def test_a_slow_subscriber_does_not_stall_other_triggers(session, python_models):
    ns = session.namespace
    session.apply(python_sdep("sloth", "Slow", python_models, ns, seconds=3.0), wait=True,
                  timeout=90)
    session.apply([resources.trigger("to-sloth", namespace=ns, filter={"type": "work"},
                                     deployment="sloth"),
                   *resources.event_display("fast", namespace=ns),
                   resources.trigger("fast", namespace=ns, filter={"type": "work"},
                                     service="fast")], wait=True)
    started = time.monotonic()
    session.send_many([[i] for i in range(10)], type="work")
    fast = session.responses(sink=f"{ns}/fast", wait=10, count=10)
    elapsed = time.monotonic() - started
    assert len(fast) == 10
    assert elapsed < 2.0, f"fast trigger waited {elapsed:.1f}s behind the slow one"
    pending = session.deliveries(trigger=f"{ns}/to-sloth", state="pending")
    assert len(pending) == 10  # the slow deliveries are still running meanwhile


def _raw_post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST with header values sent as the bytes given (latin-1), as a fuzzer sends them."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", parts.path)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(key, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        conn.close()


def test_the_probes_poison_events_get_a_4xx_or_reach_a_terminal_state(session, ns):
    session.apply(resources.trigger("all", namespace=ns, service="sink"))
    session.apply(resources.event_display("sink", namespace=ns), wait=True, timeout=60)
    url = session.broker_url()
    base = {"ce-specversion": "1.0", "ce-source": "fuzz", "ce-type": "poison",
            "Content-Type": "application/json"}
    raw = b"\xff\xfe".decode("latin-1")  # bytes that are not UTF-8
    for name in ("ce-id", "ce-type", "ce-source", "ce-myext"):
        code, text = _raw_post(url, {**base, "ce-id": "ok-id", name: raw}, b"{}")
        assert code == 400, (name, code, text)
        assert f"attribute '{name[3:]}' is not valid UTF-8" in text
    deep = b"[" * 1000 + b"]" * 1000  # the collector used to crash on it, pending forever
    assert _raw_post(url, {**base, "ce-id": "deep"}, deep)[0] == 202
    huge = _raw_post(url, {**base, "ce-id": "ttl", "ce-knativebrokerttl": str(2**63)}, b"{}")
    assert huge[0] == 202
    def poisoned():
        d = session.deliveries()
        d = d[d["event_type"] == "poison"]
        return [d] if len(d) == 2 and set(d["state"]) == {"delivered"} else None
    (deliveries,) = wait_for(poisoned, timeout=30)
    assert sorted(deliveries["event_id"]) == ["deep", "ttl"]
    assert session.responses(type="poison")["id"].tolist() == ["deep", "ttl"]
