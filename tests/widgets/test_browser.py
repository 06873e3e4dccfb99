"""The dashboard served by Voila, driven in real headless Chromium (Debian's chromium).

Clicks Deploy, waits for Available, sends events from the Send tab and sees response rows
appear in the Responses tab; a long send runs in the background and is cancelled; a type no
Trigger takes is warned about before anything is waited for; the dashboard in Voila's dark
theme. Screenshots are kept in test-artifacts/.
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
            check_background_send_and_warning(page)
            dark = browser.new_page(viewport={"width": 1400, "height": 1000})
            dark.goto(voila + "?theme=dark", timeout=120_000)
            expect(dark.get_by_role("button", name="Deploy")).to_be_visible(timeout=120_000)
            dark.locator(".lm-TabBar-tab", has_text="Responses").click()
            dark.get_by_role("button", name="everything").click()
            expect(dark.locator("table tbody tr", has_text="iris-deployment.default.response"
                                ).first).to_be_visible(timeout=60_000)
            dark.wait_for_timeout(1500)
            assert dark.evaluate("getComputedStyle(document.body).backgroundColor") != \
                "rgb(255, 255, 255)"
            dark.screenshot(path=str(ARTIFACTS / "dashboard-responses-dark.png"),
                            full_page=True)
        finally:
            browser.close()


def check_background_send_and_warning(page):
    page.locator(".lm-TabBar-tab", has_text="Send").click()
    page.get_by_label("events").fill("400")
    page.get_by_label("rate /s").fill("20")
    send = page.get_by_role("button", name="Send")
    cancel = page.get_by_role("button", name="Cancel")
    send.click()
    expect(send).to_be_disabled(timeout=10_000)  # busy while it sends
    expect(cancel).to_be_enabled()
    page.wait_for_timeout(1500)
    cancel.click()
    expect(page.get_by_text("cancelled")).to_be_visible(timeout=30_000)
    expect(send).to_be_enabled()
    expect(cancel).to_be_disabled()
    page.get_by_label("events").fill("1")
    page.get_by_label("type", exact=True).locator("visible=true").first.fill("no.such.request")
    send.click()
    expect(page.get_by_text("accepted, and dropped: no Trigger matches")).to_be_visible(
        timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-send-warning.png"), full_page=True)
