"""Validation of manifests the way the cluster's API server and webhooks would do it.

The local backend must refuse what a cluster refuses, with the offending field named, so
that a manifest that works on a laptop also applies on Kubernetes. Only the kinds the
walkthrough needs are known: SeldonDeployment, Broker, Trigger, and the event-display
Deployment + Service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

import isodate

from seldon_jupyter import filters
from seldon_jupyter.errors import ManifestError

SELDON_VERSIONS = ("machinelearning.seldon.io/v1", "machinelearning.seldon.io/v1alpha2",
                   "machinelearning.seldon.io/v1alpha3")
EVENTING = "eventing.knative.dev/v1"
IMPLEMENTATIONS = ("SKLEARN_SERVER", "XGBOOST_SERVER", "MLFLOW_SERVER", "TENSORFLOW_SERVER",
                   "TRITON_SERVER", "HUGGINGFACE_SERVER", "TEMPO_SERVER", "UNKNOWN_IMPLEMENTATION")
UNIT_TYPES = ("MODEL", "ROUTER", "COMBINER", "TRANSFORMER", "OUTPUT_TRANSFORMER", "UNKNOWN_TYPE")
PARAM_TYPES = ("INT", "FLOAT", "DOUBLE", "STRING", "BOOL", "JSON")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ATTR = re.compile(r"^[a-z0-9]+$")


def _fail(field: str, message: str, hint: str | None = None) -> NoReturn:
    raise ManifestError(message, field=field, hint=hint)


def _mapping(value: Any, field: str, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        _fail(field, "missing field(s)" if value is None else
              f"must be an object, got {type(value).__name__}")
    return dict(value)


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        _fail(field, "missing field(s)" if value is None else "must be a non-empty string")
    return value


def check_name(value: Any, field: str, *, label: bool) -> str:
    name = _string(value, field)
    pattern, limit = (_LABEL, 63) if label else (_SUBDOMAIN, 253)
    if len(name) > limit or not pattern.match(name):
        _fail(field, f"invalid name {name!r}: a lowercase RFC 1123 "
              f"{'label' if label else 'subdomain'} must consist of lower case alphanumeric "
              f"characters or '-', start and end with an alphanumeric character, at most "
              f"{limit} characters")
    return name


def check_duration(value: Any, field: str) -> float:
    try:
        seconds = float(isodate.parse_duration(_string(value, field)).total_seconds())
    except (isodate.ISO8601Error, ValueError, AttributeError):
        _fail(field, f"invalid ISO-8601 duration {value!r}", hint="for example PT0.2S or PT1M")
    if seconds < 0:
        _fail(field, "duration must not be negative")
    return seconds


def _check_unit(unit: Any, field: str, names: set[str]) -> None:
    unit = _mapping(unit, field)
    name = check_name(unit.get("name"), f"{field}.name", label=False)
    if name in names:
        _fail(f"{field}.name", f"duplicate graph node name {name!r}")
    names.add(name)
    impl = unit.get("implementation")
    if impl is not None and impl not in IMPLEMENTATIONS:
        _fail(f"{field}.implementation", f"unsupported value {impl!r}",
              hint=f"one of {', '.join(IMPLEMENTATIONS)}")
    if unit.get("type") is not None and unit["type"] not in UNIT_TYPES:
        _fail(f"{field}.type", f"unsupported value {unit['type']!r}")
    if unit.get("modelUri") is not None:
        _string(unit["modelUri"], f"{field}.modelUri")
    for i, param in enumerate(unit.get("parameters") or []):
        where = f"{field}.parameters[{i}]"
        param = _mapping(param, where)
        _string(param.get("name"), f"{where}.name")
        if param.get("type", "STRING") not in PARAM_TYPES:
            _fail(f"{where}.type", f"unsupported value {param.get('type')!r}",
                  hint=f"one of {', '.join(PARAM_TYPES)}")
        if not isinstance(param.get("value"), str):
            _fail(f"{where}.value", "must be a string (Seldon parameters are typed strings)")
    children = unit.get("children") or []
    if not isinstance(children, list):
        _fail(f"{field}.children", "must be a list")
    for i, child in enumerate(children):
        _check_unit(child, f"{field}.children[{i}]", names)


def check_seldon_deployment(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=True)
    spec = _mapping(m.get("spec"), "spec")
    if spec.get("protocol") not in (None, "seldon", "v2", "tensorflow", "kfserving"):
        _fail("spec.protocol", f"unsupported value {spec['protocol']!r}",
              hint="seldon, v2 or tensorflow")
    predictors = spec.get("predictors")
    if not isinstance(predictors, list) or not predictors:
        _fail("spec.predictors", "must be a non-empty list of predictors")
    seen: set[str] = set()
    for i, predictor in enumerate(predictors):
        where = f"spec.predictors[{i}]"
        predictor = _mapping(predictor, where)
        name = check_name(predictor.get("name"), f"{where}.name", label=True)
        if name in seen:
            _fail(f"{where}.name", f"duplicate predictor name {name!r}")
        seen.add(name)
        replicas = predictor.get("replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            _fail(f"{where}.replicas", "must be a whole number >= 0")
        _check_unit(predictor.get("graph"), f"{where}.graph", set())
        specs = predictor.get("componentSpecs") or []
        if not isinstance(specs, list):
            _fail(f"{where}.componentSpecs", "must be a list")


def _check_destination(dest: Any, field: str) -> None:
    dest = _mapping(dest, field)
    if not dest.get("ref") and not dest.get("uri"):
        _fail(field, "expected at least one, got neither: ref, uri")
    if dest.get("ref"):
        ref = _mapping(dest["ref"], f"{field}.ref")
        for key in ("apiVersion", "kind", "name"):
            _string(ref.get(key), f"{field}.ref.{key}")
    if dest.get("uri") is not None:
        _string(dest["uri"], f"{field}.uri")


def _check_delivery(delivery: Any, field: str) -> None:
    delivery = _mapping(delivery, field, required=False)
    retry = delivery.get("retry")
    if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool) or retry < 0):
        _fail(f"{field}.retry", "must be a whole number >= 0")
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in ("linear", "exponential"):
        _fail(f"{field}.backoffPolicy", f"invalid value {policy!r}", hint="linear or exponential")
    fmt = delivery.get("format")
    if fmt is not None and fmt not in ("json", "binary"):
        _fail(f"{field}.format", f"invalid value {fmt!r}", hint="json or binary")
    for key in ("backoffDelay", "timeout"):
        if delivery.get(key) is not None:
            check_duration(delivery[key], f"{field}.{key}")
    if delivery.get("deadLetterSink") is not None:
        _check_destination(delivery["deadLetterSink"], f"{field}.deadLetterSink")


def check_broker(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=False)
    spec = _mapping(m.get("spec"), "spec", required=False)
    _check_delivery(spec.get("delivery"), "spec.delivery")


def check_trigger(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=False)
    spec = _mapping(m.get("spec"), "spec")
    _string(spec.get("broker"), "spec.broker")
    flt = spec.get("filter")
    if flt is not None:
        attrs = _mapping(_mapping(flt, "spec.filter").get("attributes"), "spec.filter.attributes",
                         required=False)
        for key, value in attrs.items():
            if not _ATTR.match(str(key)):
                _fail("spec.filter.attributes", f"invalid attribute name {key!r}",
                      hint="lowercase letters and digits only")
            if not isinstance(value, str):
                _fail(f"spec.filter.attributes.{key}", "must be a string")
    filters.compile_filter(spec)  # dialects and CESQL, refused as Knative's webhook does
    _check_destination(spec.get("subscriber"), "spec.subscriber")
    _check_delivery(spec.get("delivery"), "spec.delivery")


def check_service(m: dict[str, Any]) -> None:
    name = check_name(m["metadata"].get("name"), "metadata.name", label=True)
    if not name[0].isalpha():
        _fail("metadata.name", "a Service name (RFC 1035 label) must start with a letter")
    spec = _mapping(m.get("spec"), "spec", required=False)
    for i, port in enumerate(spec.get("ports") or []):
        port = _mapping(port, f"spec.ports[{i}]")
        if not isinstance(port.get("port"), int) or not 0 < port["port"] < 65536:
            _fail(f"spec.ports[{i}].port", "must be a port number between 1 and 65535")


def check_deployment(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=False)
    spec = _mapping(m.get("spec"), "spec")
    template = _mapping(spec.get("template"), "spec.template")
    pod = _mapping(template.get("spec"), "spec.template.spec")
    containers = pod.get("containers")
    if not isinstance(containers, list) or not containers:
        _fail("spec.template.spec.containers", "must be a non-empty list")
    for i, container in enumerate(containers):
        container = _mapping(container, f"spec.template.spec.containers[{i}]")
        _string(container.get("image"), f"spec.template.spec.containers[{i}].image")


def check_config_map(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=False)
    data = _mapping(m.get("data"), "data", required=False)
    for key, value in data.items():
        if not isinstance(value, str):
            _fail(f"data.{key}", "ConfigMap values must be strings",
                  hint="quote numbers and booleans in YAML")


def check_cluster_role(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=False)
    rules = m.get("rules") or []
    if not isinstance(rules, list):
        _fail("rules", "must be a list of rules")
    for i, rule in enumerate(rules):
        for field in ("apiGroups", "resources", "verbs"):
            values = rule.get(field) if isinstance(rule, dict) else None
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                _fail(f"rules[{i}].{field}", "must be a list of strings")


KSERVE = "serving.kserve.io/v1beta1"
# KServe's framework shorthands (predictor.<framework>) beside predictor.model
KSERVE_FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton",
                     "onnx", "pmml", "paddle", "huggingface")
KSERVE_PROTOCOLS = ("v1", "v2", "grpc-v2")


def inference_model(m: dict[str, Any]) -> dict[str, Any]:
    """{format, storageUri, protocol} of an InferenceService's predictor, from
    `predictor.model` (modelFormat.name) or a framework shorthand (`predictor.sklearn`);
    KServe's default protocol is v1."""
    predictor = _mapping(_mapping(m.get("spec"), "spec").get("predictor"), "spec.predictor")
    if "model" in predictor:
        model = _mapping(predictor["model"], "spec.predictor.model")
        fmt = _mapping(model.get("modelFormat"), "spec.predictor.model.modelFormat")
        name, where = _string(fmt.get("name"), "spec.predictor.model.modelFormat.name"), \
            "spec.predictor.model"
    else:
        found = [k for k in KSERVE_FRAMEWORKS if k in predictor]
        if len(found) != 1:
            _fail("spec.predictor", "needs exactly one of model (with modelFormat) or a "
                  f"framework ({', '.join(KSERVE_FRAMEWORKS)})",
                  hint="e.g. predictor: {model: {modelFormat: {name: sklearn}, storageUri: "
                       "gs://kfserving-examples/models/sklearn/1.0/model}}")
        name, where = found[0], f"spec.predictor.{found[0]}"
        model = _mapping(predictor[name], where)
    uri = model.get("storageUri")
    if uri is not None:
        _string(uri, f"{where}.storageUri")
    protocol = model.get("protocolVersion", "v1")
    if protocol not in KSERVE_PROTOCOLS:
        _fail(f"{where}.protocolVersion", f"unsupported value {protocol!r}",
              hint=", ".join(KSERVE_PROTOCOLS))
    return {"format": name, "storageUri": uri or "", "protocol": protocol}


def check_inference_service(m: dict[str, Any]) -> None:
    check_name(m["metadata"].get("name"), "metadata.name", label=True)
    inference_model(m)


Checker = Callable[[dict[str, Any]], None]
CLUSTER_SCOPED = ("ClusterRole",)
KINDS: dict[tuple[str, str], Checker] = {
    **{(v, "SeldonDeployment"): check_seldon_deployment for v in SELDON_VERSIONS},
    (EVENTING, "Broker"): check_broker,
    (EVENTING, "Trigger"): check_trigger,
    ("v1", "Service"): check_service,
    ("apps/v1", "Deployment"): check_deployment,
    ("v1", "ConfigMap"): check_config_map,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): check_cluster_role,
    (KSERVE, "InferenceService"): check_inference_service,
}
OLD_EVENTING = ("eventing.knative.dev/v1alpha1", "eventing.knative.dev/v1beta1")
