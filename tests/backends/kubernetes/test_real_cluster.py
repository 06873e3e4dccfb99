"""Opt-in: the walkthrough notebook on a real cluster (Seldon Core v1 + Knative Eventing).

Skipped unless KUBECONFIG is set. The cluster needs the CRDs installed, a namespace
`default` the kubeconfig user may write to (see the README's RBAC section), and image
pulls from gcr.io / docker.io. The doctor runs first: a failed check there is the
reason the walkthrough would fail, so the test stops with the doctor's table. Everything
the notebook applied is deleted afterwards.
"""

from __future__ import annotations

import json
import os

import pytest

from seldon_jupyter import resources
from seldon_jupyter.session import Session
from tests.test_notebooks import NOTEBOOKS, check_walkthrough, execute

pytestmark = pytest.mark.skipif(not os.environ.get("KUBECONFIG"),
                                reason="set KUBECONFIG to run against a real cluster")


def _applied(name: str) -> list[dict]:
    cells = json.loads((NOTEBOOKS / name).read_text())["cells"]
    return [m for c in cells if "".join(c["source"]).startswith("%%seldon_apply")
            for m in resources.load("".join(c["source"]).split("\n", 1)[1])]


@pytest.mark.timeout(120)
def test_doctor_on_the_cluster(tmp_path):
    with Session("kubernetes", home=tmp_path / "home") as session:
        diagnosis = session.doctor()
    print(diagnosis)
    installed = {c.check: c.state for c in diagnosis.checks if c.area == "install"}
    assert installed == {"Knative Eventing": "ok", "Seldon Core": "ok"}, str(diagnosis)
    assert diagnosis.ok, str(diagnosis)


@pytest.mark.timeout(900)
def test_walkthrough_notebook_on_the_cluster(tmp_path):
    session = Session("kubernetes", home=tmp_path / "home")
    diagnosis = session.doctor()
    if not diagnosis.ok:
        session.close()
        pytest.fail(f"the cluster is not ready for the walkthrough:\n{diagnosis}")
    try:
        nb = execute("01-walkthrough.ipynb", tmp_path, tmp_path / "home", backend="kubernetes")
        check_walkthrough(nb)
    finally:
        for manifest in reversed(_applied("01-walkthrough.ipynb")):
            try:
                session.delete(manifest)
            except Exception as exc:  # noqa: BLE001 - report and go on cleaning
                print(f"could not delete {manifest['kind']}/{manifest['metadata']['name']}: "
                      f"{exc}")
        session.close()
