"""Manifests: load them from YAML, build them from a few arguments, validate them.

Everything the package deploys is a plain `kubectl apply`-able dict, whichever backend
takes it. YAML is read with the safe loader only, bounded (`yaml_text`); validation lives
in `schemas`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any

import yaml

from seldon_jupyter import schemas, yaml_text
from seldon_jupyter.errors import ManifestError
from seldon_jupyter.naming import PYTHON_PATH_ANNOTATION

IRIS_URI = "gs://seldon-models/v1.19.0/sklearn/iris"
IRIS_V2_URI = "gs://seldon-models/sklearn/iris-0.23.2/lr_model"  # Seldon's V2 (MLServer) iris
KSERVE_IRIS_URI = "gs://kfserving-examples/models/sklearn/1.0/model"  # KServe's sklearn iris
EVENT_DISPLAY_IMAGE = "gcr.io/knative-releases/knative.dev/eventing/cmd/event_display"
MANAGED_BY = ("app.kubernetes.io/managed-by", "seldon-jupyter")
COLLECTOR_LABEL = "seldon-jupyter.io/collector"
COLLECTOR_IMAGE = "python:3.12-slim"
# passes PodSecurity `restricted`: non-root, no privilege escalation, no capabilities,
# seccomp RuntimeDefault (Knative's images run as the non-root user 65532 already)
RESTRICTED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
SHORT_KINDS = {
    "sdep": "SeldonDeployment", "seldondeployment": "SeldonDeployment",
    "broker": "Broker", "trigger": "Trigger", "service": "Service", "svc": "Service",
    "deployment": "Deployment", "deploy": "Deployment",
    "inferenceservice": "InferenceService", "isvc": "InferenceService",
}


def canonical_kind(kind: str) -> str:
    """'sdep', 'triggers', 'svc'... as the Kind name; unknown names come back unchanged."""
    return SHORT_KINDS.get(kind.lower().removesuffix("s"), kind)


def key(manifest: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) - how resources are told apart."""
    meta = manifest.get("metadata") or {}
    return manifest["kind"], meta.get("namespace", "default"), meta["name"]


def load(source: str | Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Manifests from YAML text (one or more documents), a dict, or a list of dicts."""
    if isinstance(source, str):
        docs = yaml_text.load_all(source)  # bounded, JSON types only
    elif isinstance(source, Mapping):
        docs = [source]
    else:
        docs = list(source)
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        if not isinstance(doc, Mapping):
            raise ManifestError(f"document {i + 1} is a {type(doc).__name__}, not a mapping",
                                hint="each YAML document must be one Kubernetes object")
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out.extend(load(doc["items"]))
        else:
            out.append(copy.deepcopy(dict(doc)))
    if not out:
        raise ManifestError("no manifests found", hint="the YAML held only empty documents")
    return out


def validate(manifest: Mapping[str, Any], namespace: str = "default") -> dict[str, Any]:
    """Return a normalised copy (namespace filled in) or raise ManifestError naming the field."""
    m = copy.deepcopy(dict(manifest))
    api_version, kind = m.get("apiVersion"), m.get("kind")
    if not isinstance(api_version, str) or not api_version:
        raise ManifestError("missing field(s)", field="apiVersion")
    if not isinstance(kind, str) or not kind:
        raise ManifestError("missing field(s)", field="kind")
    if api_version in schemas.OLD_EVENTING:
        raise ManifestError(
            f"no matches for kind {kind!r} in version {api_version!r}: Knative Eventing "
            "no longer serves that version", field="apiVersion",
            hint=f"use apiVersion: {schemas.EVENTING} (same fields)")
    checker = schemas.KINDS.get((api_version, kind))
    if checker is None:
        known = sorted({f"{k} ({v})" for v, k in schemas.KINDS})
        raise ManifestError(f"unsupported kind {kind!r} in version {api_version!r}",
                            field="kind", hint="supported: " + ", ".join(known))
    meta = m.get("metadata")
    if not isinstance(meta, dict):
        raise ManifestError("missing field(s)", field="metadata")
    if kind in schemas.CLUSTER_SCOPED:
        meta.pop("namespace", None)
    else:
        meta.setdefault("namespace", namespace)
        schemas.check_name(meta["namespace"], "metadata.namespace", label=True)
    for section in ("labels", "annotations"):
        values = meta.get(section) or {}
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise ManifestError("must map strings to strings", field=f"metadata.{section}")
    checker(m)
    return m


def metadata(name: str, namespace: str, **extra: Any) -> dict[str, Any]:
    """metadata for an object the kit creates: labelled so clean-up can find it."""
    return {"name": name, "namespace": namespace, "labels": {MANAGED_BY[0]: MANAGED_BY[1]},
            **extra}


def managed(manifest: Mapping[str, Any]) -> bool:
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY[0]) == MANAGED_BY[1]


def seldon_deployment(
    name: str,
    *,
    model_uri: str = IRIS_URI,
    implementation: str = "SKLEARN_SERVER",
    namespace: str = "default",
    predictor: str = "default",
    model_name: str = "classifier",
    replicas: int = 1,
    parameters: Mapping[str, Any] | None = None,
    protocol: str | None = None,
) -> dict[str, Any]:
    """A SeldonDeployment serving one prepackaged-server model (SKLEARN_SERVER by default);
    `protocol="v2"` serves it with MLServer over the Open Inference Protocol (pass a V2
    model, e.g. IRIS_V2_URI)."""
    graph: dict[str, Any] = {"name": model_name, "implementation": implementation,
                             "modelUri": model_uri, "children": []}
    if parameters:
        graph["parameters"] = [_parameter(k, v) for k, v in parameters.items()]
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata(name, namespace),
        "spec": {"predictors": [{"name": predictor, "replicas": replicas, "graph": graph}],
                 **({"protocol": protocol} if protocol else {})},
    }


def inference_service(name: str, *, storage_uri: str = KSERVE_IRIS_URI,
                      namespace: str = "default", model_format: str = "sklearn",
                      protocol_version: str = "v2") -> dict[str, Any]:
    """A KServe InferenceService with one predictor (scikit-learn over V2 by default)."""
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata(name, namespace),
        "spec": {"predictor": {"model": {"modelFormat": {"name": model_format},
                                         "protocolVersion": protocol_version,
                                         "storageUri": storage_uri}}},
    }


def python_deployment(name: str, *, model_class: str, path: str, namespace: str = "default",
                      predictor: str = "default", image: str = "seldon-jupyter/python-model:local",
                      parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A SeldonDeployment for a Python class with predict(X, features_names).

    `model_class` follows the Seldon wrapper's MODEL_NAME ("MyModel" = class MyModel in
    MyModel.py, or "module.Class"); `path` is the directory holding the module.
    """
    graph: dict[str, Any] = {"name": "model", "type": "MODEL", "children": []}
    if parameters:
        graph["parameters"] = [_parameter(k, v) for k, v in parameters.items()]
    container = {"name": "model", "image": image,
                 "env": [{"name": "MODEL_NAME", "value": model_class}]}
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata(name, namespace,
                             annotations={PYTHON_PATH_ANNOTATION: str(path)}),
        "spec": {"predictors": [{"name": predictor, "replicas": 1, "graph": graph,
                                 "componentSpecs": [{"spec": {"containers": [container]}}]}]},
    }


def _parameter(name: str, value: Any) -> dict[str, Any]:
    kind = ("BOOL" if isinstance(value, bool) else "INT" if isinstance(value, int)
            else "FLOAT" if isinstance(value, float) else "STRING")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return {"name": name, "type": kind, "value": text}


def broker(name: str = "default", *, namespace: str = "default",
           delivery: Mapping[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"delivery": dict(delivery)} if delivery else {}
    return {"apiVersion": schemas.EVENTING, "kind": "Broker",
            "metadata": metadata(name, namespace), "spec": spec}


def trigger(
    name: str,
    *,
    broker: str = "default",
    namespace: str = "default",
    filter: Mapping[str, str] | None = None,  # noqa: A002 - the Knative field is called filter
    deployment: str | None = None,
    service: str | None = None,
    uri: str | None = None,
    delivery: Mapping[str, Any] | None = None,
    inference_service: str | None = None,
) -> dict[str, Any]:
    """A Trigger whose subscriber is a SeldonDeployment, a KServe InferenceService (its
    address is the service's root: give the V2 path as `uri`, e.g.
    `/v2/models/<name>/infer`), a Service, a URI, or a ref + uri path."""
    subscriber: dict[str, Any] = {}
    if sum(map(bool, (deployment, service, inference_service))) > 1:
        raise ManifestError("give one of deployment, inference_service or service as "
                            "subscriber", field="spec.subscriber")
    if inference_service:
        subscriber["ref"] = {"apiVersion": "serving.kserve.io/v1beta1",
                             "kind": "InferenceService", "name": inference_service}
    if deployment:
        subscriber["ref"] = {"apiVersion": "machinelearning.seldon.io/v1",
                             "kind": "SeldonDeployment", "name": deployment}
    if service:
        subscriber["ref"] = {"apiVersion": "v1", "kind": "Service", "name": service}
    if uri:
        subscriber["uri"] = uri
    spec: dict[str, Any] = {"broker": broker, "subscriber": subscriber}
    if filter:
        spec["filter"] = {"attributes": dict(filter)}
    if delivery:
        spec["delivery"] = dict(delivery)
    return {"apiVersion": schemas.EVENTING, "kind": "Trigger",
            "metadata": metadata(name, namespace), "spec": spec}


def _workload(name: str, namespace: str, container: dict[str, Any], *,
              pod: Mapping[str, Any] | None = None,
              extra_labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A one-replica Deployment and the Service (port 80 -> 8080) in front of it."""
    labels = {"app": name, **(extra_labels or {})}
    meta = metadata(name, namespace)
    meta["labels"].update(labels)
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [container], **(pod or {})}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata(name, namespace),
         "spec": {"selector": {"app": name},
                  "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                             "targetPort": 8080}]}},
    ]


def event_display(name: str = "event-display", *,
                  namespace: str = "default") -> list[dict[str, Any]]:
    """The walkthrough's event-display sink: a Deployment and the Service in front of it."""
    return _workload(name, namespace, {"name": "event-display", "image": EVENT_DISPLAY_IMAGE,
                                       "securityContext": RESTRICTED})


def collector(name: str = "seldon-jupyter-collector", *, namespace: str = "default",
              image: str = COLLECTOR_IMAGE) -> list[dict[str, Any]]:
    """The kit's own sink: a stdlib-only script from a ConfigMap, run by a stock Python image.

    It keeps every event it is sent (on an emptyDir, so a container restart loses nothing)
    and serves them back at GET /events for the notebook to pull through the API server.
    """
    script = (files("seldon_jupyter") / "collector_sink.py").read_text(encoding="utf-8")
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(name, namespace),
                  "data": {"sink.py": script}}
    container = {
        "name": "sink", "image": image, "command": ["python", "/app/sink.py"],
        "env": [{"name": "SINK_BIND", "value": "0.0.0.0"},
                {"name": "SINK_FILE", "value": "/data/events.jsonl"}],
        "ports": [{"containerPort": 8080}],
        "securityContext": {**RESTRICTED, "runAsUser": 65534},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "volumeMounts": [{"name": "app", "mountPath": "/app", "readOnly": True},
                         {"name": "data", "mountPath": "/data"}]}
    pod = {"volumes": [{"name": "app", "configMap": {"name": name}},
                       {"name": "data", "emptyDir": {}}]}
    return [config_map, *_workload(name, namespace, container, pod=pod,
                                   extra_labels={COLLECTOR_LABEL: "sink"})]


def addressable_clusterrole() -> dict[str, Any]:
    """The ClusterRole Knative needs to resolve a Trigger's `subscriber.ref` to a
    SeldonDeployment or a KServe InferenceService (Seldon Core v1 never shipped one, and
    KServe's docs apply theirs by hand, so on a stock install such a Trigger stays
    SubscriberResolved=False). Knative aggregates every ClusterRole labelled
    `duck.knative.dev/addressable: "true"` into its addressable resolver; a cluster admin
    applies this once."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "seldon-jupyter-addressable-seldondeployments",
                         "labels": {"duck.knative.dev/addressable": "true",
                                    MANAGED_BY[0]: MANAGED_BY[1]}},
            "rules": [{"apiGroups": [group], "resources": [plural, f"{plural}/status"],
                       "verbs": ["get", "list", "watch"]}
                      for group, plural in ADDRESSABLE_KINDS.values()]}


# kind -> (API group, plural) of what a Trigger's subscriber.ref may name beyond Knative's own
ADDRESSABLE_KINDS = {"SeldonDeployment": ("machinelearning.seldon.io", "seldondeployments"),
                     "InferenceService": ("serving.kserve.io", "inferenceservices")}


COLLECTORS = {"event-display": event_display, "sink": collector}


def collector_manifests(name: str | None = None, *, kind: str = "event-display",
                        namespace: str = "default", broker: str = "default",
                        filter: Mapping[str, str] | None = None) -> list[dict[str, Any]]:  # noqa: A002
    """A collector (event-display, or the kit's sink) and a Trigger of the same name to it."""
    if kind not in COLLECTORS:
        raise ManifestError(f"unknown collector kind {kind!r}",
                            hint=f"one of: {', '.join(COLLECTORS)}")
    name = name or ("event-display" if kind == "event-display" else "seldon-jupyter-collector")
    return [*COLLECTORS[kind](name, namespace=namespace),
            trigger(name, broker=broker, namespace=namespace, filter=filter or None,
                    service=name)]


def to_yaml(manifests: Iterable[Mapping[str, Any]]) -> str:
    return yaml.safe_dump_all([dict(m) for m in manifests], sort_keys=False)
