from __future__ import annotations

import pytest

from seldon_jupyter import resources, schemas
from seldon_jupyter.demo import SEED
from seldon_jupyter.errors import ManifestError


def test_seed_walkthrough_yaml_loads_and_validates():
    docs = resources.load(SEED)
    assert [d["kind"] for d in docs] == ["Broker", "SeldonDeployment", "Trigger", "Deployment",
                                         "Service", "Trigger"]
    checked = [resources.validate(d) for d in docs]
    assert all(d["metadata"]["namespace"] == "default" for d in checked)
    assert "namespace" not in docs[0]["metadata"]  # validate works on a copy


def test_list_kind_and_dicts_are_accepted():
    items = [resources.broker(), resources.seldon_deployment("a")]
    assert len(resources.load({"kind": "List", "items": items})) == 2
    assert len(resources.load(items)) == 2


def test_yaml_is_loaded_safely():
    with pytest.raises(ManifestError, match="YAML does not parse"):
        resources.load("!!python/object/apply:os.system ['echo pwned']")


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(ManifestError, match="line 4, column 7: mapping values"):
        resources.load("kind: Broker\nmetadata:\n  name: x\n   bad: indent\n")


@pytest.mark.parametrize(("manifest", "field", "message"), [
    ({"kind": "Broker", "metadata": {"name": "x"}}, "apiVersion", "missing"),
    (resources.trigger("t", uri="http://x") | {"spec": {"subscriber": {"uri": "http://x"}}},
     "spec.broker", "missing"),
    (resources.trigger("t", broker="default"), "spec.subscriber", "neither: ref, uri"),
    (resources.seldon_deployment("Bad_Name"), "metadata.name", "RFC 1123"),
    (resources.trigger("t", uri="http://x", delivery={"backoffDelay": "soon"}),
     "spec.delivery.backoffDelay", "ISO-8601"),
    (resources.trigger("t", uri="http://x", delivery={"backoffPolicy": "random"}),
     "spec.delivery.backoffPolicy", "invalid value"),
    (resources.trigger("t", uri="http://x", delivery={"retry": -1}), "spec.delivery.retry",
     ">= 0"),
    (resources.seldon_deployment("a", implementation="PYTORCH_MAGIC"),
     "spec.predictors[0].graph.implementation", "unsupported value"),
    ({**resources.seldon_deployment("a"), "spec": {"predictors": []}}, "spec.predictors",
     "non-empty"),
    (resources.trigger("t", uri="http://x", filter={"Type": "x"}), "spec.filter.attributes",
     "invalid attribute name"),
])
def test_invalid_manifests_name_the_field(manifest, field, message):
    with pytest.raises(ManifestError, match=message) as info:
        resources.validate(manifest)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_duplicate_predictors_are_refused():
    m = resources.seldon_deployment("a")
    m["spec"]["predictors"].append(dict(m["spec"]["predictors"][0]))
    with pytest.raises(ManifestError, match="duplicate predictor name 'default'"):
        resources.validate(m)


def test_retired_eventing_versions_get_a_hint():
    m = resources.trigger("t", uri="http://x")
    m["apiVersion"] = "eventing.knative.dev/v1beta1"
    with pytest.raises(ManifestError, match="no longer serves") as info:
        resources.validate(m)
    assert "eventing.knative.dev/v1" in str(info.value)


def test_unknown_kind_lists_the_supported_ones():
    with pytest.raises(ManifestError, match="unsupported kind 'Pod'") as info:
        resources.validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert "SeldonDeployment" in str(info.value)


def test_new_filters_dialects_validate():
    m = resources.trigger("t", uri="http://x")
    m["spec"]["filters"] = [{"any": [{"prefix": {"type": "seldon."}}, {"not": {"exact": {
        "source": "x"}}}]}]
    resources.validate(m)
    m["spec"]["filters"] = [{"exact": {"type": "a", "source": "b"}}]
    with pytest.raises(ManifestError, match="exactly one attribute"):
        resources.validate(m)


def test_builders_produce_valid_manifests():
    for m in [resources.broker(delivery={"retry": 3}),
              resources.seldon_deployment("iris", parameters={"method": "predict"}),
              resources.python_deployment("py", model_class="Echo", path="/tmp"),
              resources.trigger("t", filter={"type": "x"}, deployment="iris", uri="/api/v0.1/"
                                "predictions", delivery={"deadLetterSink": {"uri": "http://d"}}),
              *resources.event_display()]:
        resources.validate(m)
    text = resources.to_yaml([resources.broker()])
    assert resources.load(text) == [resources.broker()]


def test_canonical_kind():
    assert resources.canonical_kind("sdep") == "SeldonDeployment"
    assert resources.canonical_kind("triggers") == "Trigger"
    assert resources.canonical_kind("svc") == "Service"
    assert resources.canonical_kind("Widget") == "Widget"


def test_kserve_inference_services_validate_as_kserves_crd_shapes_them():
    isvc = resources.validate(resources.inference_service("sklearn-iris"))
    assert schemas.inference_model(isvc) == {"format": "sklearn", "protocol": "v2",
                                             "storageUri": resources.KSERVE_IRIS_URI}
    shorthand = resources.load("""
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: legacy}
spec: {predictor: {sklearn: {storageUri: "gs://kfserving-examples/models/sklearn/1.0/model"}}}
""")[0]
    assert schemas.inference_model(resources.validate(shorthand))["protocol"] == "v1"
    bad_protocol = resources.inference_service("x", protocol_version="v3")
    with pytest.raises(ManifestError, match="unsupported value 'v3'") as info:
        resources.validate(bad_protocol)
    assert info.value.field == "spec.predictor.model.protocolVersion"
    with pytest.raises(ManifestError, match="needs exactly one of model") as info:
        resources.validate({**isvc, "spec": {"predictor": {}}})
    assert "modelFormat" in info.value.hint
    no_format = {**isvc, "spec": {"predictor": {"model": {"storageUri": "x"}}}}
    with pytest.raises(ManifestError) as info:
        resources.validate(no_format)
    assert info.value.field == "spec.predictor.model.modelFormat"
    with pytest.raises(ManifestError, match="one of deployment, inference_service"):
        resources.trigger("t", deployment="a", inference_service="b")
