"""The dashboard served by Voila, driven in real headless Chromium (Debian's chromium).

Clicks Deploy, waits for Available, sends events from the Send tab and sees response rows
appear in the Responses tab; a screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def voila(tmp_path):
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    port = free_port()
    env = {**os.environ, "SELDON_JUPYTER_HOME": str(tmp_path / "home")}
    log = open(tmp_path / "voila.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(ROOT / "notebooks" /
                                                               "dashboard.ipynb"),
                             "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                break
        except requests.RequestException:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(30)
    log.close()
    subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", "local", "down"], env=env,
                   capture_output=True, timeout=60)


def test_dashboard_deploys_sends_and_shows_responses(voila):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(voila, timeout=120_000)
            deploy = page.get_by_role("button", name="Deploy")
            expect(deploy).to_be_visible(timeout=120_000)
            deploy.click()
            expect(page.get_by_text("Available").first).to_be_visible(timeout=120_000)
            page.locator(".lm-TabBar-tab", has_text="Send").click()
            page.get_by_label("events").fill("5")
            page.get_by_role("button", name="Send").click()
            expect(page.get_by_text("sent 5 events")).to_be_visible(timeout=60_000)
            page.locator(".lm-TabBar-tab", has_text="Responses").click()
            rows = page.locator("table tbody tr",
                                has_text="seldon.iris-deployment.default.response")
            expect(rows).to_have_count(5, timeout=60_000)
            expect(page.get_by_text("seldon.iris-deployment.default.response: 5")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-responses.png"), full_page=True)
            page.locator(".lm-TabBar-tab", has_text="Topology").click()
            expect(page.get_by_text("iris-deployment-requests")).to_be_visible(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "dashboard-topology.png"), full_page=True)
        finally:
            browser.close()
