"""Status of local resources, shaped like the real controllers write it.

SeldonDeployment: `state` Creating|Available|Failed, `description`, `address.url`.
KServe InferenceService: Ready / PredictorReady conditions, `url` and `address.url`.
Broker and Trigger: Knative conditions (Ready, BrokerReady, SubscriberResolved),
`address.url` and `subscriberUri`. Also resolves subscriber refs and cluster-style URIs
(`http://event-display.default.svc.cluster.local/`) to the local processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from seldon_jupyter.backends.local.dispatch import DEFAULT_DELIVERY, Delivery
from seldon_jupyter.naming import prediction_path
from seldon_jupyter.schemas import check_duration

Key = tuple[str, str, str]


@dataclass
class PredictorView:
    name: str
    state: str
    port: int
    error: str | None = None
    note: str | None = None


@dataclass
class World:
    """What the supervisor knows at one moment."""

    broker_port: int | None
    broker_running: bool
    resources: dict[Key, dict[str, Any]] = field(default_factory=dict)
    predictors: dict[Key, list[PredictorView]] = field(default_factory=dict)  # by resource

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.resources.get((kind, namespace, name))


def _condition(kind: str, ok: bool | None, reason: str = "", message: str = "") -> dict[str, Any]:
    status = "Unknown" if ok is None else "True" if ok else "False"
    cond = {"type": kind, "status": status,
            "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def broker_url(world: World, namespace: str, name: str) -> str:
    return f"http://127.0.0.1:{world.broker_port}/{namespace}/{name}"


def sink_url(world: World, namespace: str, name: str) -> str:
    return f"http://127.0.0.1:{world.broker_port}/sinks/{namespace}/{name}/"


def local_sink(world: World, url: str | None) -> str | None:
    """"ns/name" when `url` is one of this broker's own collector sinks."""
    prefix = f"http://127.0.0.1:{world.broker_port}/sinks/"
    if not url or not url.startswith(prefix):
        return None
    parts = url[len(prefix):].strip("/").split("/")
    return "/".join(parts) if len(parts) == 2 else None


def sdep_status(m: dict[str, Any], world: World) -> dict[str, Any]:
    ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
    views = world.predictors.get(("SeldonDeployment", ns, name), [])
    failed = [v for v in views if v.state == "failed"]
    if failed:
        state, description = "Failed", "; ".join(f"predictor {v.name}: {v.error}" for v in failed)
    elif views and all(v.state == "running" for v in views):
        state = "Available"
        description = "; ".join(v.note for v in views if v.note)
    else:
        state = "Creating"
        description = "; ".join(v.error for v in views if v.error) or "starting model servers"
    status: dict[str, Any] = {"state": state, "description": description,
                              "replicas": len(views)}
    if views and views[0].port:
        status["address"] = {"url": f"http://127.0.0.1:{views[0].port}{prediction_path(m)}"}
    status["deploymentStatus"] = {
        f"{name}-{v.name}": {"replicas": 1, "availableReplicas": int(v.state == "running")}
        for v in views}
    status["conditions"] = [_condition("Ready", state == "Available",
                                       "" if state == "Available" else state, description)]
    return status


def isvc_status(m: dict[str, Any], world: World) -> dict[str, Any]:
    """KServe's InferenceService status: Ready and PredictorReady conditions, `url` and
    `address.url` the service's root (KServe's cluster-local address), model state."""
    ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
    views = world.predictors.get(("InferenceService", ns, name), [])
    failed = [v for v in views if v.state == "failed"]
    ready = bool(views) and all(v.state == "running" for v in views)
    reason = "" if ready else "PredictorFailed" if failed else "PredictorNotReady"
    message = ("; ".join(v.error or "" for v in failed) if failed else
               "; ".join(v.note for v in views if v.note) if ready else
               "; ".join(v.error for v in views if v.error) or "starting the model server")
    status: dict[str, Any] = {
        "conditions": [_condition(kind, ready, reason, message)
                       for kind in ("PredictorReady", "Ready")],
        "modelStatus": {"states": {"activeModelState": "Loaded" if ready else
                                   "FailedToLoad" if failed else "Pending"}}}
    if views and views[0].port:
        root = f"http://127.0.0.1:{views[0].port}"
        status["url"], status["address"] = root, {"url": root}
    return status


def broker_status(m: dict[str, Any], world: World) -> dict[str, Any]:
    ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
    ok = world.broker_running
    reason = "" if ok else "IngressNotRunning"
    return {"address": {"url": broker_url(world, ns, name)},
            "conditions": [_condition("Addressable", ok, reason),
                           _condition("IngressReady", ok, reason),
                           _condition("Ready", ok, reason, "" if ok else
                                      "the local broker process is not running")]}


def _istio_gateway(parts: Any, world: World) -> str | None:
    """Seldon's Istio VirtualService: /seldon/<ns>/<sdep>/... on the ingress gateway goes to
    the deployment's first predictor (which serves that prefix itself)."""
    segments = parts.path.split("/")
    if len(segments) < 4 or segments[1] != "seldon":
        return None
    views = world.predictors.get(("SeldonDeployment", segments[2], segments[3])) or []
    port = next((v.port for v in views if v.port), None)
    return None if port is None else urlunsplit(("http", f"127.0.0.1:{port}", parts.path,
                                                 parts.query, ""))


def _resolve_host(url: str, world: World) -> str:
    """Map cluster DNS names (svc.cluster.local) onto the local processes."""
    parts = urlsplit(url)
    labels = (parts.hostname or "").split(".")
    if labels[0] == "istio-ingressgateway" and labels[1:2] in ([], ["istio-system"]):
        return _istio_gateway(parts, world) or url
    if len(labels) < 2 or labels[2:] not in ([], ["svc"], ["svc", "cluster", "local"]):
        return url
    host, ns = labels[0], labels[1]
    local = None
    if host == "broker-ingress" and ns == "knative-eventing":
        local = f"127.0.0.1:{world.broker_port}"
    elif host.endswith("-broker") and world.get("Broker", ns, host[:-7]):
        return broker_url(world, ns, host[:-7])
    elif world.get("Service", ns, host):
        return urljoin(sink_url(world, ns, host), parts.path.lstrip("/"))
    else:
        for (kind, sns, served), views in world.predictors.items():
            for view in views:
                names = ({f"{served}-{view.name}"} if kind == "SeldonDeployment"
                         else {served, f"{served}-predictor", f"{served}-predictor-default"})
                if sns == ns and host in names and view.port:
                    local = f"127.0.0.1:{view.port}"
    if local is None:
        return url
    return urlunsplit(("http", local, parts.path or "/", parts.query, ""))


def resolve(dest: dict[str, Any], namespace: str, world: World) -> tuple[str | None, str]:
    """The URL of a Destination ({ref, uri}), or None and why not."""
    base = None
    ref = dest.get("ref")
    if ref:
        ns = ref.get("namespace", namespace)
        kind, name, api = ref["kind"], ref["name"], ref["apiVersion"]
        target = world.get(kind, ns, name)
        if target is None:
            return None, f"{kind} {ns}/{name} ({api}) not found"
        if kind == "SeldonDeployment":
            base = sdep_status(target, world).get("address", {}).get("url")
            if base is None:
                return None, f"SeldonDeployment {ns}/{name} has no address yet"
        elif kind == "InferenceService":
            base = isvc_status(target, world).get("address", {}).get("url")
            if base is None:
                return None, f"InferenceService {ns}/{name} has no address yet"
        elif kind == "Service":
            base = sink_url(world, ns, name)
        elif kind == "Broker":
            base = broker_url(world, ns, name)
        else:
            return None, f"{kind} is not addressable in the local backend"
    uri = dest.get("uri")
    if uri:
        if base:
            return urljoin(base, uri), ""
        if not urlsplit(uri).scheme:
            return None, f"uri {uri!r} must be absolute when there is no ref"
        return _resolve_host(uri, world), ""
    return base, ""


def delivery(spec: dict[str, Any] | None, namespace: str, world: World) -> tuple[Delivery, str]:
    if not spec:
        return DEFAULT_DELIVERY, ""
    dead_letter, why = None, ""
    if spec.get("deadLetterSink"):
        dead_letter, why = resolve(spec["deadLetterSink"], namespace, world)
    return Delivery(
        retry=int(spec.get("retry") or 0),
        policy=spec.get("backoffPolicy"),
        delay=check_duration(spec["backoffDelay"], "backoffDelay")
        if spec.get("backoffDelay") else None,
        timeout=check_duration(spec["timeout"], "timeout") if spec.get("timeout") else None,
        dead_letter=dead_letter, format=spec.get("format"),
    ), why


def trigger_route(m: dict[str, Any],
                  world: World) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(status, route for the broker config or None when not Ready)."""
    ns, spec = m["metadata"]["namespace"], m["spec"]
    broker = world.get("Broker", ns, spec["broker"])
    broker_ok = broker is not None and world.broker_running
    subscriber, why = resolve(spec["subscriber"], ns, world)
    broker_spec = (broker or {}).get("spec") or {}
    resolved, dl_why = delivery(spec.get("delivery") or broker_spec.get("delivery"), ns, world)
    conditions = [
        _condition("BrokerReady", broker_ok, "" if broker_ok else "BrokerDoesNotExist",
                   "" if broker_ok else f"Broker {ns}/{spec['broker']} does not exist"),
        _condition("SubscriberResolved", subscriber is not None,
                   "" if subscriber else "Unable to get the Subscriber's URI", why),
        _condition("DeadLetterSinkResolved", not dl_why, "" if not dl_why else "Unresolved",
                   dl_why),
    ]
    ready = broker_ok and subscriber is not None and not dl_why
    first_bad = next((c for c in conditions if c["status"] != "True"), None)
    conditions.append(_condition("Ready", ready, first_bad.get("reason", "") if first_bad else "",
                                 first_bad.get("message", "") if first_bad else ""))
    status: dict[str, Any] = {"conditions": conditions}
    if subscriber:
        status["subscriberUri"] = subscriber
    if resolved.dead_letter:
        status["deadLetterSinkUri"] = resolved.dead_letter
    route = None
    if broker is not None:
        route = {"key": f"{ns}/{m['metadata']['name']}", "namespace": ns,
                 "broker": spec["broker"], "spec": spec, "subscriber": subscriber,
                 "sink": local_sink(world, subscriber), "delivery": resolved.__dict__}
    return status, route


def deployment_status(m: dict[str, Any], world: World) -> dict[str, Any]:
    replicas = (m.get("spec") or {}).get("replicas", 1)
    ready = replicas if world.broker_running else 0
    return {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [_condition("Available", ready == replicas)]}


def service_status(m: dict[str, Any], world: World) -> dict[str, Any]:
    ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
    return {"loadBalancer": {}, "address": {"url": sink_url(world, ns, name)}}


def status_of(m: dict[str, Any], world: World) -> dict[str, Any]:
    kind = m["kind"]
    if kind == "SeldonDeployment":
        return sdep_status(m, world)
    if kind == "InferenceService":
        return isvc_status(m, world)
    if kind == "Broker":
        return broker_status(m, world)
    if kind == "Trigger":
        return trigger_route(m, world)[0]
    if kind == "Deployment":
        return deployment_status(m, world)
    if kind == "ConfigMap":
        return {}
    return service_status(m, world)


def broker_config(world: World) -> dict[str, Any]:
    triggers = [route for key, m in world.resources.items() if key[0] == "Trigger"
                for route in [trigger_route(m, world)[1]] if route is not None]
    return {"brokers": sorted(f"{ns}/{name}" for kind, ns, name in world.resources
                              if kind == "Broker"),
            "sinks": sorted(f"{ns}/{name}" for kind, ns, name in world.resources
                            if kind == "Service"),
            # the cluster's own servers: deliveries to them carry the token, others never do
            "owned": sorted({f"127.0.0.1:{p.port}" for views in world.predictors.values()
                             for p in views if p.port} |
                            ({f"127.0.0.1:{world.broker_port}"} if world.broker_port else set())),
            "triggers": triggers}
