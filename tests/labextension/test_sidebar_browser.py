"""JupyterLab with the extension, in real headless Chromium (Debian's chromium).

Opens the walkthrough notebook, runs it, and watches the "Seldon Eventing" sidebar: the
topology graph (laid out by ELK) turns the deployment Available and response events appear
in the feed. It also checks the MIME renderer draws `%seldon_status`, that "Insert send
cell" writes a %%seldon_send cell, the palette and launcher commands (insert into a new
notebook adds %load_ext; stopping the local backend notifies), and the sidebar at
JupyterLab's default 250 px, wide, and in the dark theme. Screenshots are kept in
test-artifacts/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.widgets.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, free_port

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py


@pytest.fixture
def lab(tmp_path):
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    # the walkthrough live: without its clean-up cell (test_notebooks checks that one)
    walkthrough = tmp_path / "notebooks" / "01-walkthrough.ipynb"
    nb = nbformat.read(walkthrough, as_version=4)
    nb.cells = [c for c in nb.cells if "cleanup" not in c.metadata.get("tags", [])]
    nbformat.write(nb, walkthrough)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "SELDON_JUPYTER_HOME": str(tmp_path / "home")}
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path}", "--LabApp.expose_app_in_browser=True",
         # a fresh workspace (layout, sidebar widths) and settings: nothing from another run
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/status", params={"token": token}, timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    yield base, token
    proc.terminate()
    proc.wait(30)
    log.close()
    subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", "local", "down"], env=env,
                   capture_output=True, timeout=60)


@pytest.mark.timeout(600)
def test_sidebar_shows_the_walkthrough_live(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{base}/lab/tree/notebooks/01-walkthrough.ipynb?token={token}",
                      timeout=120_000)
            expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(
                timeout=120_000)
            page.locator(".jp-NotebookPanel .jp-Cell").first.click()
            page.evaluate("window.jupyterapp.shell.activateById('seldon-jupyter-sidebar')")
            sidebar = page.locator("#seldon-jupyter-sidebar")
            expect(sidebar).to_contain_text("local backend, namespace default",
                                            timeout=30_000)
            page.evaluate("void window.jupyterapp.commands.execute('notebook:run-all-cells')")
            sdep = sidebar.locator("[data-kind='SeldonDeployment'][data-name='iris-deployment']"
                                   " > .sj-state").first
            expect(sdep).to_have_text("Available", timeout=240_000)
            rows = sidebar.locator("tr.sj-event",
                                   has_text="seldon.iris-deployment.default.response")
            expect(rows.first).to_be_visible(timeout=120_000)
            # the filter box narrows the feed to what matches
            sidebar.locator("input.sj-filter").fill("no-such-event-type")
            expect(sidebar.locator("tr.sj-event")).to_have_count(0)
            sidebar.locator("input.sj-filter").fill("response")
            expect(rows.first).to_be_visible()
            # magic results render through the extension's MIME renderer, with the title and
            # the states coloured as the HTML view colours them
            expect(page.locator(".jp-OutputArea .sj-result table").first).to_be_visible(
                timeout=120_000)
            expect(page.locator(".jp-OutputArea .sj-result td.sj-state.sj-tone-ok").first
                   ).to_be_visible(timeout=120_000)
            # the renderer shows what the HTML view shows: the responses collected, and a table
            sent = page.locator(".jp-OutputArea .sj-result", has_text="2 response(s) collected")
            expect(sent.first).to_be_visible(timeout=120_000)
            expect(sent.first.locator("table")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "lab-sidebar.png"), full_page=True)
            # click a request in the feed: the inspector shows its trace and can replay it
            sidebar.locator("input.sj-filter").fill("request")
            sidebar.locator("tr.sj-event", has_text="seldon.iris-deployment.default.request"
                            ).first.click()
            inspector = sidebar.locator(".sj-inspector")
            # the request's own route (the reply's verdict on the same Trigger follows it)
            expect(inspector.locator(".sj-route", has_text="seldon-eventing-sklearn-trigger")
                   .first).to_contain_text("delivered", timeout=30_000)
            expect(inspector).to_contain_text("reply seldon.iris-deployment.default.response")
            expect(inspector).to_contain_text("collected by default/event-display")
            inspector.get_by_role("button", name="Replay").click()
            expect(inspector).to_contain_text("replayed as ", timeout=30_000)
            inspector.screenshot(path=str(ARTIFACTS / "lab-inspector.png"))
            sidebar.get_by_role("button", name="Insert send cell").first.click()
            expect(page.locator(".jp-Cell .cm-content",
                                has_text="%%seldon_send --type seldon.iris-deployment.default"
                                         ".request").first).to_be_visible(timeout=30_000)
            check_graph_and_widths(page, sidebar)
            check_commands(page)
        finally:
            browser.close()


def check_graph_and_widths(page, sidebar):
    """The graph's chain, the sidebar at 250 px (nothing cut off) and wide, in light and
    dark theme."""
    # the stream brings the reply Trigger and its sink as the walkthrough creates them
    expect(sidebar.locator("g.sj-graph-node[data-kind='Service']").first).to_be_attached(
        timeout=120_000)
    nodes = sidebar.locator("g.sj-graph-node")
    kinds = [nodes.nth(i).get_attribute("data-kind") for i in range(nodes.count())]
    assert {"Broker", "Trigger", "SeldonDeployment", "Service"} <= set(kinds), kinds
    broker = sidebar.locator("g.sj-graph-node[data-kind='Broker'] .sj-state").first
    expect(broker).to_have_text("Ready")
    assert sidebar.locator("g.sj-edge").count() >= 4  # broker->trigger->sdep->reply->sink
    box = sidebar.bounding_box()
    assert box is not None and box["width"] <= 300, box  # JupyterLab's default sidebar
    graph = sidebar.locator(".sj-graph svg").bounding_box()
    assert graph is not None and graph["width"] <= box["width"], (graph, box)
    # the feed's columns fit: at 250 px the feed drops source and id
    assert sidebar.locator("table.sj-feed th").count() == 3
    sidebar.screenshot(path=str(ARTIFACTS / "lab-sidebar-250px.png"))
    page.evaluate("void window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: 'JupyterLab Dark'})")
    expect(page.locator("body[data-jp-theme-name='JupyterLab Dark']")).to_be_attached(
        timeout=30_000)
    page.wait_for_timeout(1000)
    background = page.evaluate("getComputedStyle(document.querySelector("
                               "'#seldon-jupyter-sidebar .sj-graph-node rect')).fill")
    assert background != "rgb(255, 255, 255)", background  # themed, not hard-coded white
    sidebar.screenshot(path=str(ARTIFACTS / "lab-sidebar-250px-dark.png"))
    page.evaluate("window.jupyterapp.shell._hsplitPanel.setRelativeSizes([0.5, 0.5, 0])")
    page.wait_for_timeout(1000)
    wide = sidebar.bounding_box()
    assert wide is not None and wide["width"] > 500, wide
    expect(sidebar.locator("table.sj-feed th")).to_have_count(5)  # source and id are back
    sidebar.screenshot(path=str(ARTIFACTS / "lab-sidebar-wide-dark.png"))
    page.evaluate("void window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: 'JupyterLab Light'})")
    page.wait_for_timeout(1000)
    sidebar.screenshot(path=str(ARTIFACTS / "lab-sidebar-wide.png"))


def check_commands(page):
    """Palette and launcher commands; insert into a fresh notebook adds %load_ext; stopping
    the local backend is a notification."""
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Seldon")
    items = page.locator(".lm-CommandPalette-item")
    expect(items.filter(has_text="Start the local Seldon backend")).to_have_count(1)
    expect(items.filter(has_text="Insert a %%seldon_send cell")).to_have_count(1)
    page.keyboard.press("Escape")
    page.evaluate("void window.jupyterapp.commands.execute('launcher:create')")
    expect(page.locator(".jp-LauncherCard", has_text="Open the Seldon dashboard")).to_be_visible(
        timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "lab-launcher.png"))
    page.evaluate("void window.jupyterapp.commands.execute('notebook:create-new', "
                  "{kernelName: 'python3'})")
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell").first).to_be_visible(
        timeout=60_000)
    page.wait_for_timeout(1000)
    page.evaluate("void window.jupyterapp.commands.execute('seldon-jupyter:insert-send-cell')")
    cells = page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content")
    loaded = cells.filter(has_text="%load_ext seldon_jupyter")
    expect(loaded).to_have_count(1, timeout=30_000)
    # the cell magic opens a cell of its own, after the %load_ext cell
    expect(loaded.first).not_to_contain_text("%%seldon_send")
    send = cells.filter(has_text="%%seldon_send --type")
    expect(send).to_have_count(1)
    assert send.first.inner_text().startswith("%%seldon_send")
    page.evaluate("void window.jupyterapp.commands.execute('seldon-jupyter:stop-local')")
    expect(page.locator(".Toastify__toast", has_text="local backend stopped")).to_be_visible(
        timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "lab-notification.png"))
