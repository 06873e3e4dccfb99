"""The pod half of `doctor()`: are the namespace's sinks running, and will events reach them?

A sink is the kit's collector or an event-display Deployment (as the collector finds
them). Its pod may be starting (ContainerCreating: "not yet"), failing (a pull error, a
crash loop), or never created (a ReplicaSet refused pods, e.g. by PodSecurity). Two
namespace settings break delivery without an error anywhere a user looks: Istio STRICT
mTLS (Knative's broker-filter is not in the mesh and sends plain HTTP, which the sidecar
refuses) or a Linkerd default policy that demands authenticated clients; and PodSecurity
`restricted` refuses a sink that does not run as non-root with no privilege escalation,
all capabilities dropped and seccomp RuntimeDefault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seldon_jupyter.backends.base import Check
from seldon_jupyter.backends.kubernetes import podsecurity, routing
from seldon_jupyter.errors import SeldonJupyterError

if TYPE_CHECKING:
    from seldon_jupyter.backends.kubernetes.api import Api
    from seldon_jupyter.backends.kubernetes.collect import Collector

STARTING = ("ContainerCreating", "PodInitializing")
ISTIO = "/apis/security.istio.io/v1/namespaces/{ns}/peerauthentications"
LINKERD_POLICY = "config.linkerd.io/default-inbound-policy"
PERMISSIVE_FIX = """a PeerAuthentication that lets the broker-filter's plain HTTP in:
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: {name}-from-knative, namespace: {ns}}}
spec:
  selector: {{matchLabels: {labels}}}
  mtls: {{mode: PERMISSIVE}}"""


def run(api: Api, collector: Collector, namespace: str,
        ns_obj: dict[str, Any] | None) -> list[Check]:
    try:
        sinks = collector.sinks(namespace)
    except SeldonJupyterError as exc:  # a user without list rights still gets the rest
        return [Check("sinks", "collectors and event-display", "warn",
                      f"cannot list them: {exc}", "see the rbac lines")]
    checks = [_sink(api, namespace, kind, dep, service) for kind, _, dep, service in sinks]
    if ns_obj is not None:
        checks.extend(_mesh(api, namespace, ns_obj, [d for _, _, d, _ in sinks]))
        checks.append(_pod_security(namespace, ns_obj, [d for _, _, d, _ in sinks]))
    return checks


def _sink(api: Api, namespace: str, kind: str, dep: dict[str, Any],
          service: dict[str, Any] | None) -> Check:
    name = dep["metadata"]["name"]
    what = f"{kind} {name}"
    if service is None:
        return Check("sinks", what, "fail", "no Service selects its pods: no Trigger can "
                     "deliver to it", f"apply a Service with selector app: {name}")
    selector = (dep.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
    query = [("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(selector.items())))]
    code, listed = api.attempt("GET", routing.path("Pod", namespace), query)
    if code != 200:
        return Check("sinks", what, "warn", f"cannot list its pods ({code})",
                     "grant list on pods (see the rbac lines)")
    pods = listed.get("items") or []
    if not pods:
        refused = next((c for c in (dep.get("status") or {}).get("conditions") or []
                        if c.get("type") == "ReplicaFailure" and c.get("status") == "True"),
                       None)
        if refused:
            return Check("sinks", what, "fail", f"no pod: {refused.get('message', '')}",
                         "see the PodSecurity line; the kit's collector "
                         "(session.collector(kind='sink')) passes restricted")
        return Check("sinks", what, "warn", "no pod yet",
                     f"kubectl -n {namespace} describe deployment {name}")
    worst: Check | None = None
    for pod in pods:
        verdict = _pod(what, pod)
        if worst is None or _rank(verdict) < _rank(worst):
            worst = verdict
    assert worst is not None
    return worst


def _rank(check: Check) -> int:
    return {"fail": 0, "warn": 1, "ok": 2}[check.state]


def _pod(what: str, pod: dict[str, Any]) -> Check:
    pod_name = pod["metadata"]["name"]
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for st in statuses:
        waiting = (st.get("state") or {}).get("waiting")
        if waiting:
            reason = str(waiting.get("reason") or "")
            if reason in STARTING:
                return Check("sinks", what, "warn", f"pod {pod_name} is starting ({reason}): "
                             "responses are read once it runs")
            return Check("sinks", what, "fail", f"pod {pod_name} container {st.get('name')}: "
                         f"{reason} {waiting.get('message', '')}".rstrip(),
                         f"kubectl -n {pod['metadata'].get('namespace')} describe pod "
                         f"{pod_name}")
    restarts = sum(int(st.get("restartCount") or 0) for st in statuses)
    if (pod.get("status") or {}).get("phase") != "Running":
        return Check("sinks", what, "warn", f"pod {pod_name} is "
                     f"{(pod.get('status') or {}).get('phase', 'Pending')}")
    if restarts:
        return Check("sinks", what, "warn", f"pod {pod_name} runs but restarted {restarts} "
                     "time(s); the kit also reads the previous container's log",
                     f"kubectl -n {pod['metadata'].get('namespace')} logs {pod_name} "
                     "--previous")
    return Check("sinks", what, "ok", f"pod {pod_name} Running and ready")


def _mesh(api: Api, namespace: str, ns_obj: dict[str, Any],
          deployments: list[dict[str, Any]]) -> list[Check]:
    meta = ns_obj.get("metadata") or {}
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    checks = []
    if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
        strict = [f"{ns}/{p['metadata']['name']}" for ns in (namespace, "istio-system")
                  for p in _peer_authentications(api, ns)
                  if ((p.get("spec") or {}).get("mtls") or {}).get("mode") == "STRICT"
                  and (ns != "istio-system" or not (p.get("spec") or {}).get("selector"))]
        if strict:
            dep: dict[str, Any] = deployments[0] if deployments else {
                "metadata": {"name": "sink"}}
            labels_of = ((dep.get("spec") or {}).get("selector") or {}).get(
                "matchLabels") or {"app": dep["metadata"]["name"]}
            checks.append(Check("mesh", "Istio mTLS", "fail", f"STRICT ({', '.join(strict)})"
                                ": Knative's broker-filter is outside the mesh and delivers "
                                "plain HTTP, which the sinks' sidecars refuse", PERMISSIVE_FIX
                                .format(name=dep["metadata"]["name"], ns=namespace,
                                        labels=labels_of)))
        else:
            checks.append(Check("mesh", "Istio mTLS", "ok", "sidecars injected, mTLS not "
                                "STRICT: plain HTTP deliveries are accepted"))
    if notes.get("linkerd.io/inject") == "enabled":
        policy = notes.get(LINKERD_POLICY, "all-unauthenticated")
        if policy in ("all-authenticated", "deny"):
            checks.append(Check("mesh", "Linkerd policy", "fail", f"{LINKERD_POLICY}: "
                                f"{policy}: deliveries from Knative (not meshed) are refused",
                                f"kubectl annotate namespace {namespace} "
                                f"{LINKERD_POLICY}=all-unauthenticated --overwrite"))
        else:
            checks.append(Check("mesh", "Linkerd policy", "ok", f"meshed, policy {policy}: "
                                "Knative's deliveries are accepted"))
    return checks


def _peer_authentications(api: Api, namespace: str) -> list[dict[str, Any]]:
    code, listed = api.attempt("GET", ISTIO.format(ns=namespace))
    return list((listed or {}).get("items") or []) if code == 200 else []


def _pod_security(namespace: str, ns_obj: dict[str, Any],
                  deployments: list[dict[str, Any]]) -> Check:
    level = ((ns_obj.get("metadata") or {}).get("labels") or {}).get(podsecurity.ENFORCE,
                                                                      "privileged")
    if level != "restricted":
        return Check("podsecurity", f"namespace {namespace}", "ok", f"enforce={level}: the "
                     "collector and event-display are admitted")
    refused = {d["metadata"]["name"]: podsecurity.violations(
        (d.get("spec") or {}).get("template") or {}) for d in deployments}
    refused = {k: v for k, v in refused.items() if v}
    if refused:
        detail = "; ".join(f"{name}: {', '.join(v)}" for name, v in refused.items())
        return Check("podsecurity", f"namespace {namespace}", "fail",
                     f"enforce=restricted refuses pods of {detail}",
                     "use the kit's collector, which passes restricted: "
                     "session.collector(kind='sink'); or set those securityContext fields")
    return Check("podsecurity", f"namespace {namespace}", "ok", "enforce=restricted: the "
                 "namespace's sinks pass it (so does the kit's collector)")
