"""The tutorial notebooks, executed top to bottom with a real kernel, checked by output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seldon_jupyter import resources
from seldon_jupyter.backends.local.backend import LocalBackend
from seldon_jupyter.session import Session
from tests.kube.apiserver import ApiServer

pytestmark = pytest.mark.slow  # real processes: see tests/conftest.py

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str, workdir: Path, home: Path, *, backend: str = "local",
            env: dict[str, str] | None = None, skip: tuple[str, ...] = ()
            ) -> nbformat.NotebookNode:
    """Run a notebook; `backend` changes its one backend line, `env` goes to the kernel,
    cells tagged with one of `skip` are left out."""
    shutil.copy(NOTEBOOKS / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    nb.cells = [c for c in nb.cells if not set(skip) & set(c.metadata.get("tags", []))]
    if backend != "local":
        cell = next(c for c in nb.cells if "%seldon_backend local" in c.source)
        cell.source = cell.source.replace("%seldon_backend local", f"%seldon_backend {backend}")
    saved = dict(os.environ)
    os.environ.update(SELDON_JUPYTER_HOME=str(home), **(env or {}))
    try:
        NotebookClient(nb, timeout=240, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def tagged(nb: nbformat.NotebookNode, tag: str) -> str:
    """All text/plain and stream output of the cell carrying `tag`."""
    cell = next(c for c in nb.cells if tag in c.metadata.get("tags", []))
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def has_html(nb: nbformat.NotebookNode, tag: str) -> bool:
    cell = next(c for c in nb.cells if tag in c.metadata.get("tags", []))
    return any("text/html" in out.get("data", {}) for out in cell.outputs)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    yield path
    subprocess.run([sys.executable, "-m", "seldon_jupyter.cli", "--home", str(path), "local",
                    "down"], capture_output=True, timeout=60)


def check_walkthrough(nb: nbformat.NotebookNode) -> None:
    assert "SeldonDeployment  default/iris-deployment" in tagged(nb, "deploy")
    status = tagged(nb, "status")
    assert re.search(r"Trigger\s+default/seldon-eventing-sklearn-trigger\s+Ready", status)
    assert "sent 1 event(s) of type seldon.iris-deployment.default.request" in tagged(
        nb, "first-send")
    assert "sent 2 event(s)" in tagged(nb, "more-sends")
    assert "2 response(s) collected" in tagged(nb, "more-sends")
    assert has_html(nb, "responses")
    check = tagged(nb, "check").strip().splitlines()
    assert check[0] == "2 responses to the last two requests; probabilities sum to [1.0]"
    # the notebook itself asserts the upstream values within 1e-9; here, that it said so
    assert check[1].startswith("matches the Seldon notebook's probabilities: [0.00069851945")


def test_01_walkthrough(tmp_path, home):
    check_walkthrough(execute("01-walkthrough.ipynb", tmp_path, home))


def test_01_walkthrough_on_the_kubernetes_backend(tmp_path, home):
    """The same notebook with its backend line changed, against the API double: over TLS
    with a client-certificate kubeconfig, a lagging controller, a meshed event-display pod
    whose log rotates, and Knative's retry defaults on the Broker."""
    data_plane = LocalBackend(tmp_path / "data-plane")
    mirror = Session(data_plane)
    server = ApiServer(mirror=mirror, workdir=tmp_path / "pods", lag=0.5, mesh=True)
    server.start()
    config = server.kubeconfig(tmp_path / "kubeconfig")
    admin = Session("kubernetes", kubeconfig=config, home=tmp_path / "admin")
    admin.apply(resources.addressable_clusterrole())  # the README's one admin step
    admin.close()
    try:
        nb = execute("01-walkthrough.ipynb", tmp_path, home, backend="kubernetes",
                     env={"KUBECONFIG": config}, skip=("cleanup",))
        check_walkthrough(nb)
        assert "kubernetes" in tagged(nb, "setup")
        paths = [p for _, p in server.calls]
        assert any(p.startswith("/api/v1/namespaces/knative-eventing/services/"
                                "broker-ingress:http/proxy/default/default") for p in paths)
        logs = [p for p in paths if p.startswith("/api/v1/namespaces/default/pods/event-"
                                                 "display-") and "/log?" in p]
        # the walkthrough's event-display container, by its image, not the mesh's proxy
        # that comes first in the pod
        assert logs and all("container=helloworld-python" in p for p in logs)
        broker = server.store.get(("brokers", "default", "default"))
        assert broker is not None and broker["spec"]["delivery"]["retry"] == 10
        with Session("kubernetes", kubeconfig=config, home=home) as kube:
            before = len(kube.responses())
            server.kubelet.rotate("default", "event-display")  # the kubelet rotates its log
            kube.send([[5.1, 3.5, 1.4, 0.2]], type="seldon.iris-deployment.default.request")
            frame = kube.responses(wait=30, count=before + 1)
        # the first send's response went nowhere (no event-display yet, as upstream)
        assert before == 2
        assert len(frame) == 3 and frame["id"].is_unique  # every response exactly once
        assert frame["request_id"].notna().all() and (frame["latency_ms"] > 0).all()
    finally:
        server.stop()
        mirror.close()
        data_plane.down()
        data_plane.close()

def test_02_override_uri(tmp_path, home):
    check_override(execute("02-override-uri.ipynb", tmp_path, home))


def check_override(nb: nbformat.NotebookNode) -> None:
    status = tagged(nb, "status")
    assert "iris-multi-canary" not in status  # cluster DNS names resolve to local addresses
    assert "/api/v0.1/predictions" in status
    check = tagged(nb, "check")
    assert "canary answers are one-hot: True" in check
    assert "main answers are one-hot: False" in check
    assert ("paths: [('demo.by-ref', '/api/v1.0/predictions'), ('demo.ref-plus-path', "
            "'/api/v0.1/predictions'), ('demo.to-canary', '/api/v1.0/predictions')]") in check


def test_03_streaming_analysis(tmp_path, home):
    check_streaming(execute("03-streaming-analysis.ipynb", tmp_path, home))


def check_streaming(nb: nbformat.NotebookNode) -> None:
    assert "sent 300 event(s)" in tagged(nb, "send")
    assert "300 response(s) collected" in tagged(nb, "send")
    accuracy = float(re.search(r"accuracy ([0-9.]+)", tagged(nb, "analysis")).group(1))
    assert accuracy > 0.9
    plot = next(c for c in nb.cells if "plot" in c.metadata.get("tags", []))
    assert any("image/png" in out.get("data", {}) for out in plot.outputs)


def test_04_chaining(tmp_path, home):
    check_chaining(execute("04-chaining.ipynb", tmp_path, home))


def check_chaining(nb: nbformat.NotebookNode) -> None:
    assert re.search(r"SeldonDeployment\s+chaining/namer\s+Available", tagged(nb, "status"))
    check = tagged(nb, "check").strip()
    assert check == ("['setosa', 'versicolor', 'virginica', 'virginica'] "
                     "{'seldon.iris-deployment.chaining.response'}")


def test_05_debugging(tmp_path, home):
    nb = execute("05-debugging.ipynb", tmp_path, home)
    assert "no responses" in tagged(nb, "send") or "0 response(s)" in tagged(nb, "send")
    trace = tagged(nb, "trace")
    assert ("x debugging/to-iris: type differs (attributes): expected "
            "'seldon.iris-deployment.default.request', you have "
            "'seldon.iris-deployment.debugging.request'") in trace
    assert "accepted, and dropped: no Trigger matches" in tagged(nb, "why")
    assert "unrouted" in tagged(nb, "failures")
    assert tagged(nb, "fixed").strip().splitlines()[-1] == "['debugging/to-iris']"
    replay = tagged(nb, "replay")
    assert "1 replayed; 1 response(s), for True" in replay
    assert "replay of the lost request: True" in replay
    dead = tagged(nb, "dead")
    assert "debugging/nowhere" in dead and "500" in dead and "dispatch error" in dead
    assert "dead-letter attempt 1: 202" in tagged(nb, "dead-trace")
    assert "resources deleted" in tagged(nb, "cleanup")


CHECKS = {"01-walkthrough.ipynb": check_walkthrough, "02-override-uri.ipynb": check_override,
          "03-streaming-analysis.ipynb": check_streaming, "04-chaining.ipynb": check_chaining,
          "dashboard.ipynb": lambda nb: None}


@pytest.mark.parametrize("order", [
    ["01-walkthrough.ipynb", "03-streaming-analysis.ipynb"],
    ["01-walkthrough.ipynb", "04-chaining.ipynb", "dashboard.ipynb"],
    ["04-chaining.ipynb", "03-streaming-analysis.ipynb", "02-override-uri.ipynb",
     "01-walkthrough.ipynb"],
], ids=lambda order: " ".join(n.split("-")[0].split(".")[0] for n in order))
def test_tutorials_compose_in_any_order_in_one_home(tmp_path, home, order):
    """Each tutorial works after any other in the same home (its own namespace or a
    clean-up of what it applied), checked with the same assertions as when run alone."""
    for name in order:
        nb = execute(name, tmp_path, home)
        CHECKS[name](nb)
        for cell in nb.cells:  # no cell may have failed (execute raises), nor printed a trace
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", (name, out)


def check_open_inference(nb: nbformat.NotebookNode) -> None:
    status = tagged(nb, "status")
    assert re.search(r"SeldonDeployment\s+open-inference/iris-v2\s+Available", status)
    assert "/v2/models/classifier/infer" in status
    assert re.search(r"InferenceService\s+open-inference/sklearn-iris\s+Ready",
                     tagged(nb, "kserve-status"))
    for tag in ("seldon-v2", "kserve"):
        assert has_html(nb, tag)
    check = tagged(nb, "check").strip().splitlines()
    assert check[0].startswith("V2 SeldonDeployment: 6 answers, one per request;")
    assert check[1].startswith("KServe InferenceService: 6 answers, one per request;")
    assert all(int(line.split("; ")[1].split("/")[0]) >= 5 for line in check)


def test_06_open_inference(tmp_path, home):
    check_open_inference(execute("06-open-inference.ipynb", tmp_path, home))


def test_06_open_inference_on_the_kubernetes_backend(tmp_path, home):
    """The V2 notebook against the API double: KServe installed, the addressable role for
    SeldonDeployments and InferenceServices applied by an admin, MLServer behind it."""
    data_plane = LocalBackend(tmp_path / "data-plane")
    mirror = Session(data_plane)
    server = ApiServer(mirror=mirror, workdir=tmp_path / "pods", lag=0.3)
    server.start()
    server.namespace("open-inference")  # kubectl create namespace, as a cluster needs
    config = server.kubeconfig(tmp_path / "kubeconfig")
    admin = Session("kubernetes", kubeconfig=config, home=tmp_path / "admin")
    admin.apply(resources.addressable_clusterrole())
    admin.close()
    try:
        nb = execute("06-open-inference.ipynb", tmp_path, home, backend="kubernetes",
                     env={"KUBECONFIG": config})
        check_open_inference(nb)
        isvc = server.store.get(("inferenceservices", "open-inference", "sklearn-iris"))
        assert isvc is None  # the notebook cleaned up after itself, on the cluster too
        sdep_path = "/apis/machinelearning.seldon.io/v1/namespaces/open-inference/"
        assert any(p.startswith(sdep_path) for _, p in server.calls)
    finally:
        server.stop()
        mirror.close()
        data_plane.down()
        data_plane.close()
