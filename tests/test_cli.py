"""The seldon-jupyter command, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seldon_jupyter import resources

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py


@pytest.fixture
def cli(tmp_path):
    env = {**os.environ, "SELDON_JUPYTER_HOME": str(tmp_path / "home")}

    def run(*args, stdin=None):
        return subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", *args], env=env,
                              input=stdin, capture_output=True, text=True, timeout=180)

    yield run
    run("local", "down")


def test_local_lifecycle_apply_send_and_responses(cli, tmp_path):
    assert cli("local", "status").returncode == 3
    up = cli("local", "up")
    assert up.returncode == 0 and "local cluster running" in up.stdout
    manifest = tmp_path / "m.yaml"
    manifest.write_text(resources.to_yaml([
        resources.broker(), *resources.event_display("display"),
        resources.trigger("all", filter={"type": "cli.test"}, service="display")]))
    applied = cli("apply", "-f", str(manifest), "--wait")
    assert applied.returncode == 0, applied.stderr
    assert "trigger/all applied (Ready)" in applied.stdout
    sent = cli("send", "--type", "cli.test", "--data", '{"hello": "world"}')
    assert sent.returncode == 0 and "HTTP 202" in sent.stdout
    got = cli("responses", "--wait", "20", "--count", "1")
    assert got.returncode == 0 and "cli.test" in got.stdout
    listing = cli("get", "trigger")
    assert "all" in listing.stdout and "Ready" in listing.stdout
    status = cli("local", "status")
    assert status.returncode == 0 and "display" in status.stdout
    assert cli("delete", "trigger", "all").returncode == 0
    assert "stopped" in cli("local", "down").stdout


def test_errors_are_one_readable_line(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\n"
                   "spec: {subscriber: {uri: 'http://x'}}\n")
    result = cli("apply", "-f", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith("error: spec.broker: missing field(s)")
    assert "Traceback" not in result.stderr
    missing = cli("apply", "-f", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "No such file" in missing.stderr
