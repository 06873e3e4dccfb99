"""Which API groups, versions and resources the double serves, and how a URL names them.

As kube-apiserver routes: `/api/v1/...` is the core group, `/apis/<group>/<version>/...`
the others; `namespaces/<ns>/<plural>[/<name>[/<sub>...]]` or `<plural>[/<name>...]` for
cluster-scoped kinds and cluster-wide lists. A group or version that is not installed
answers text/plain `404 page not found` (discovery paths included); what is installed
answers discovery documents (APIGroupList, APIGroup, APIResourceList).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# group -> (versions, {plural: (kind, namespaced)})
GROUPS: dict[str, tuple[list[str], dict[str, tuple[str, bool]]]] = {
    "": (["v1"], {"services": ("Service", True), "configmaps": ("ConfigMap", True),
                  "pods": ("Pod", True), "namespaces": ("Namespace", False)}),
    "apps": (["v1"], {"deployments": ("Deployment", True)}),
    "machinelearning.seldon.io": (["v1", "v1alpha2", "v1alpha3"],
                                  {"seldondeployments": ("SeldonDeployment", True)}),
    "eventing.knative.dev": (["v1"], {"brokers": ("Broker", True),
                                      "triggers": ("Trigger", True)}),
    "rbac.authorization.k8s.io": (["v1"], {
        "clusterroles": ("ClusterRole", False), "roles": ("Role", True),
        "clusterrolebindings": ("ClusterRoleBinding", False),
        "rolebindings": ("RoleBinding", True)}),
    "serving.kserve.io": (["v1beta1"], {"inferenceservices": ("InferenceService", True)}),
    "authorization.k8s.io": (["v1"], {"selfsubjectaccessreviews":
                                      ("SelfSubjectAccessReview", False)}),
    "authentication.k8s.io": (["v1"], {"selfsubjectreviews": ("SelfSubjectReview", False)}),
    # Istio's, served only when a test installs Istio (ApiServer.missing_groups)
    "security.istio.io": (["v1", "v1beta1"], {"peerauthentications":
                                              ("PeerAuthentication", True)}),
}
NOT_INSTALLED = {"security.istio.io"}


@dataclass(frozen=True)
class Route:
    group: str
    version: str
    plural: str
    kind: str
    namespace: str | None
    name: str | None
    subresource: str
    rest: str  # what follows a proxy subresource

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def dotted_group(self) -> str:
        return f".{self.group}" if self.group else ""

    @property
    def resource(self) -> str:
        return self.plural + (f"/{self.subresource}" if self.subresource else "")

    @property
    def key(self) -> tuple[str, str, str]:
        return self.plural, self.namespace or "", self.name or ""


def _installed(missing: set[str]) -> dict[str, Any]:
    return {g: v for g, v in GROUPS.items() if g not in missing}


def _discovery(segments: list[str], missing: set[str]) -> dict[str, Any] | None:
    groups = _installed(missing)
    if segments == ["api"]:
        return {"kind": "APIVersions", "versions": ["v1"]}
    if segments == ["apis"]:
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}
                                     for v in versions],
             "preferredVersion": {"groupVersion": f"{g}/{versions[0]}",
                                  "version": versions[0]}}
            for g, (versions, _) in groups.items() if g]}
    if len(segments) == 2 and segments[1] in groups and segments[1]:
        versions = groups[segments[1]][0]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": segments[1],
                "versions": [{"groupVersion": f"{segments[1]}/{v}", "version": v}
                             for v in versions],
                "preferredVersion": {"groupVersion": f"{segments[1]}/{versions[0]}",
                                     "version": versions[0]}}
    return None


def parse(path: str, missing: set[str]) -> Route | dict[str, Any] | None:
    """The Route of `path`, a discovery document, or None (text/plain 404)."""
    segments = [s for s in path.split("/") if s]
    found = _discovery(segments, missing)
    if found is not None:
        return found
    if segments[:1] == ["api"] and len(segments) >= 2:
        group, version, rest = "", segments[1], segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    groups = _installed(missing)
    if group not in groups or version not in groups[group][0]:
        return None
    resources = groups[group][1]
    if not rest:
        return {"kind": "APIResourceList", "groupVersion": f"{group}/{version}".lstrip("/"),
                "resources": [{"name": p, "kind": k, "namespaced": ns}
                              for p, (k, ns) in resources.items()]}
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    if plural not in resources:
        return None
    kind, namespaced = resources[plural]
    if namespace is not None and not namespaced:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    tail = "/".join(rest[3:]) if sub == "proxy" else ""
    return Route(group, version, plural, kind, namespace, name, sub, tail)


def verb(method: str, route: Route, watching: bool) -> str:
    if method == "GET":
        return "watch" if watching else ("get" if route.name else "list")
    # requestinfo.go: HEAD is get, a method it does not know (OPTIONS) is the verb ""
    return {"HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, "")
