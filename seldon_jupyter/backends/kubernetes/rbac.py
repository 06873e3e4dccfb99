"""The RBAC rules the kubernetes backend needs: one home for the list the doctor checks,
the README shows and `role()` hands to a cluster admin.

In the namespaces it works in, the kit applies, lists, watches and deletes its kinds,
reads pods and event-display's log, and reaches its collector through the service proxy.
To send from outside the cluster it reads the broker ingress Service (for its port names)
and posts through its proxy in `knative-eventing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MANAGE = ("get", "list", "watch", "create", "patch", "delete")
INGRESS_NAMESPACE = "knative-eventing"
INGRESSES = ("broker-ingress", "kafka-broker-ingress")
# RBAC matches resourceNames against the proxy path's segment as written, `name:port`, so
# the proxy rule names the segments the kit sends to (routing.port_segment: the ingress
# Services name their ports http and https), as the Kubernetes dashboard's Role lists
# "http:heapster:" beside "heapster"
PROXIED = tuple(f"{name}:{port}" for name in INGRESSES for port in ("http", "https"))


@dataclass(frozen=True)
class Rule:
    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    names: tuple[str, ...] = ()
    optional: bool = False  # only some users need it: missing is a warning, not a failure

    def manifest(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"apiGroups": [self.group], "resources": list(self.resources),
                                "verbs": list(self.verbs)}
        if self.names:
            rule["resourceNames"] = list(self.names)
        return rule


NAMESPACE_RULES = (
    Rule("machinelearning.seldon.io", ("seldondeployments",), MANAGE, "deploy models"),
    Rule("serving.kserve.io", ("inferenceservices",), MANAGE,
         "deploy KServe InferenceServices", optional=True),
    Rule("eventing.knative.dev", ("brokers", "triggers"), MANAGE, "brokers and triggers"),
    Rule("apps", ("deployments",), MANAGE, "the collector and event-display"),
    Rule("", ("services", "configmaps"), MANAGE, "the collector and event-display"),
    Rule("", ("pods", "pods/log"), ("get", "list"), "reading event-display's log"),
    Rule("", ("services/proxy",), ("get", "create"), "reading the kit's collector"),
    # a Role may grant get on its own namespace (its URL counts as inside it): the doctor
    # reads its labels for the mesh and PodSecurity checks
    Rule("", ("namespaces",), ("get",), "the doctor's mesh and PodSecurity checks",
         optional=True),
)
INGRESS_RULES = (
    Rule("", ("services",), ("get",), "the ingress's port names, for the proxy path",
         INGRESSES),
    Rule("", ("services/proxy",), ("create",), "sending events from outside the cluster",
         PROXIED),
)


def role(namespace: str, name: str = "seldon-jupyter") -> dict[str, Any]:
    """The Role a user of the kit needs in `namespace` (bind it with a RoleBinding)."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [r.manifest() for r in NAMESPACE_RULES]}


def ingress_role(name: str = "seldon-jupyter-send") -> dict[str, Any]:
    """The Role in knative-eventing that lets a laptop send through the API server."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": INGRESS_NAMESPACE},
            "rules": [r.manifest() for r in INGRESS_RULES]}


def binding(role_manifest: dict[str, Any], user: str) -> dict[str, Any]:
    """The RoleBinding that gives `user` a Role."""
    meta = role_manifest["metadata"]
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": meta["name"]},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": user}]}


def grants(namespace: str, user: str) -> list[dict[str, Any]]:
    """Everything a cluster admin applies for one user of the kit in `namespace`."""
    roles = [role(namespace), ingress_role()]
    return [m for r in roles for m in (r, binding(r, user))]


def reviews(namespace: str) -> list[tuple[Rule, str, str, str, str]]:
    """(rule, namespace, verb, resource, name) for every access the kit needs; a rule
    with resourceNames is asked for its first name (the mt-channel broker's ingress)."""
    asked = []
    for rules, where in ((NAMESPACE_RULES, namespace), (INGRESS_RULES, INGRESS_NAMESPACE)):
        for rule in rules:
            for resource in rule.resources:
                for verb in rule.verbs:
                    asked.append((rule, where, verb, resource,
                                  rule.names[0] if rule.names else ""))
    return asked


def review_body(group: str, namespace: str, verb: str, resource: str,
                name: str) -> dict[str, Any]:
    """A SelfSubjectAccessReview for one access (`resource` may be `plural/sub`)."""
    plural, _, sub = resource.partition("/")
    attrs: dict[str, str] = {"group": group, "resource": plural, "verb": verb,
                             "namespace": namespace}
    if sub:
        attrs["subresource"] = sub
    if name:
        attrs["name"] = name
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}


def denial_hint(message: str) -> str:
    """What to do about an RBAC 403, from kube-apiserver's message (`User "u" cannot <verb>
    resource "<r>" ... in the namespace "<ns>"`): the grants an admin applies, for that user
    and namespace."""
    user = re.search(r'User "([^"]+)"', message)
    namespace = re.search(r'in the namespace "([^"]+)"', message)
    ns = namespace.group(1) if namespace else "<namespace>"
    who = user.group(1) if user else "<your user>"
    return (f"ask a cluster admin to apply the kit's grants: seldon-jupyter -n {ns} rbac "
            f"--user {who} | kubectl apply -f -  (seldon-jupyter doctor names the missing "
            "rule; the README's 'RBAC' section lists them)")
