"""Result objects render the same facts in every view: text, HTML and the lab's MIME type."""

from __future__ import annotations

from seldon_jupyter.backends.base import summarize
from seldon_jupyter.results import MIME_TYPE, ResourceTable


def test_the_mime_bundle_carries_the_title_and_each_states_tone():
    ready = summarize({"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                       "metadata": {"name": "default", "namespace": "a"},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    failed = summarize({"apiVersion": "machinelearning.seldon.io/v1",
                        "kind": "SeldonDeployment", "metadata": {"name": "m", "namespace": "a"},
                        "status": {"state": "Failed", "description": "no model"}})
    table = ResourceTable([ready, failed], title="applied")
    bundle = table._repr_mimebundle_()
    data = bundle[MIME_TYPE]
    assert data["title"] == "applied" and data["tones"] == ["ok", "error"]
    assert [r["state"] for r in data["rows"]] == ["Ready", "Failed"]
    assert "applied" in bundle["text/html"] and "no model" in bundle["text/plain"]
