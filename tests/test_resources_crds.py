"""Every SeldonDeployment and Trigger the kit builds or ships, against the real CRD schemas.

A structural CRD silently drops fields it does not declare, so "valid" here means no
schema error and no field the API server would prune.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seldon_jupyter import resources
from seldon_jupyter.demo import SEED
from tests.kube import crd

SCHEMAS = crd.load()
PLURAL = {"SeldonDeployment": "seldondeployments", "Trigger": "triggers", "Broker": "brokers"}
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _notebook_manifests() -> list[dict]:
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and source.startswith("%%seldon_apply"):
                found += resources.load(source.split("\n", 1)[1])
    return found


BUILT = [
    resources.seldon_deployment("iris"),
    resources.seldon_deployment("p", model_uri="file:///m", parameters={"method": "predict",
                                                                         "n": 3, "x": 0.5}),
    resources.python_deployment("py", model_class="Model", path="/models"),
    resources.trigger("a", deployment="iris", filter={"type": "t", "source": "s"}),
    resources.trigger("b", service="event-display", uri="/path"),
    resources.trigger("c", uri="http://sink/", delivery={
        "retry": 3, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S",
        "deadLetterSink": {"ref": {"apiVersion": "v1", "kind": "Service", "name": "dl"}}}),
    *resources.collector_manifests(kind="sink", filter={"type": "x"}),
    *resources.collector_manifests(kind="event-display"),
]


@pytest.mark.parametrize("manifest", [
    m for m in (*BUILT, *resources.load(SEED), *_notebook_manifests()) if m["kind"] in PLURAL],
    ids=lambda m: f"{m['kind']}/{m['metadata']['name']}")
def test_matches_the_crd_schema(manifest):
    schema = SCHEMAS[PLURAL[manifest["kind"]]]["versions"]["v1"]["schema"]
    checked = resources.validate(manifest)
    assert crd.errors(schema, checked) == []
    assert crd.dropped(schema, checked) == []


def test_the_schema_check_can_fail():
    bad = resources.trigger("t", uri="http://x/")
    bad["spec"]["filter"] = "type=x"
    bad["spec"]["subscriber"]["timeout"] = "PT1S"
    schema = SCHEMAS["triggers"]["versions"]["v1"]["schema"]
    assert crd.errors(schema, bad) == [
        'spec.filter: Invalid value: "str": spec.filter in body must be of type object']
    assert crd.dropped(schema, bad) == ["spec.subscriber.timeout"]


def test_pruning_keeps_unknown_fields_under_preserve_but_prunes_known_subtrees():
    # Trigger.spec has x-kubernetes-preserve-unknown-fields *and* properties: a field it
    # does not declare stays, a field under a declared node (subscriber) is still pruned
    schema = SCHEMAS["triggers"]["versions"]["v1"]["schema"]
    body = resources.trigger("t", uri="http://x/")
    body["spec"]["newUpstreamField"] = {"a": 1}
    body["spec"]["subscriber"]["bogus"] = 1
    pruned = crd.prune(schema, body)
    assert pruned["spec"]["newUpstreamField"] == {"a": 1}
    assert "bogus" not in pruned["spec"]["subscriber"]
    assert crd.dropped(schema, body) == ["spec.subscriber.bogus"]
