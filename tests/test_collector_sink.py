"""The kit's stdlib-only sink script, run as a real process on loopback."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import seldon_jupyter

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py

SCRIPT = Path(seldon_jupyter.__file__).parent / "collector_sink.py"


def start(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    log = tmp_path / f"out-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(SCRIPT)], stdout=out,
                                env={**os.environ, "SINK_PORT": "0", **env})
    for _ in range(100):
        text = log.read_text()
        if "listening on" in text:
            return proc, "http://" + text.split("listening on ", 1)[1].split()[0]
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("sink did not start")


@pytest.fixture
def sink(tmp_path):
    proc, url = start(tmp_path, SINK_FILE=str(tmp_path / "events.jsonl"), SINK_MAX_BODY="1000")
    yield url, tmp_path
    proc.kill()
    proc.wait(10)


CE = {"ce-id": "1", "ce-type": "t", "ce-source": "s", "ce-specversion": "1.0",
      "content-type": "application/json"}


def test_binds_loopback_unless_told_otherwise(sink):
    url, _ = sink
    assert url.startswith("http://127.0.0.1:")


def test_events_are_kept_in_order_and_paged(sink):
    url, _ = sink
    for i in range(5):
        answer = requests.post(url, data=f'{{"n": {i}}}', headers={**CE, "ce-id": str(i)},
                               timeout=5)
        # 2xx with an empty body: anything else is a 502 to Knative's broker-filter
        assert answer.status_code == 202 and answer.content == b""
    page = requests.get(f"{url}/events", params={"after": 1, "limit": 2}, timeout=5).json()
    assert [e["seq"] for e in page["events"]] == [2, 3]
    assert page["last"] == 5
    assert base64.b64decode(page["events"][0]["body"]) == b'{"n": 1}'
    assert page["events"][0]["headers"]["ce-id"] == "1"


def test_bad_input_is_refused_with_a_reason(sink):
    url, _ = sink
    missing = requests.post(url, data="{}", headers={"content-type": "application/json"},
                            timeout=5)
    assert missing.status_code == 400 and "ce-id" in missing.json()["error"]
    big = requests.post(url, data="x" * 2000, headers=CE, timeout=5)
    assert big.status_code == 413
    assert requests.get(f"{url}/events", params={"after": "x"}, timeout=5).status_code == 400
    assert requests.get(f"{url}/nope", timeout=5).status_code == 404
    assert requests.get(f"{url}/events", timeout=5).json()["events"] == []


def test_a_restart_keeps_what_was_acknowledged_and_the_instance(sink):
    url, tmp_path = sink
    requests.post(url, data="{}", headers=CE, timeout=5)
    before = requests.get(f"{url}/events", timeout=5).json()
    proc, again = start(tmp_path, SINK_FILE=str(tmp_path / "events.jsonl"))
    try:
        after = requests.get(f"{again}/events", timeout=5).json()
        assert after["instance"] == before["instance"]
        assert after["events"] == before["events"]
    finally:
        proc.kill()
        proc.wait(10)
