"""RBAC as kube-apiserver's authorizer decides it, from the Roles and bindings in the store.

`plugin/pkg/auth/authorizer/rbac/rbac.go` and `pkg/apis/rbac/v1/evaluation_helpers.go`: a
request is allowed when a rule of a ClusterRole bound by a ClusterRoleBinding, or of a Role
or ClusterRole bound by a RoleBinding in the request's namespace, names its verb (or `*`),
its API group (or `*`), its resource (`*`, the exact `resource/subresource`, or
`*/subresource`) and, when the rule lists resourceNames, its object's name. Subjects are
Users and Groups by name. The group `system:masters` is allowed everything without RBAC.
What the cluster sets up at boot (`bootstrap`): `cluster-admin` bound to the double's admin
user, and `system:basic-user` (self subject reviews) bound to `system:authenticated`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GROUP = "rbac.authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"
SUPERUSERS = "system:masters"
AUTHENTICATED = "system:authenticated"
ADMIN = "tester"  # the user of the double's default kubeconfig, bound to cluster-admin


@dataclass(frozen=True)
class Ask:
    """What one request asks to do (requestinfo.go's attributes)."""

    verb: str
    group: str
    resource: str  # plural
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None


def rule_allows(rule: dict[str, Any], ask: Ask) -> bool:
    combined = ask.resource + (f"/{ask.subresource}" if ask.subresource else "")
    verbs = rule.get("verbs") or []
    groups = rule.get("apiGroups") or []
    resources = rule.get("resources") or []
    names = rule.get("resourceNames") or []
    return (("*" in verbs or ask.verb in verbs)
            and ("*" in groups or ask.group in groups)
            and any(r == "*" or r == combined
                    or (ask.subresource != "" and r == f"*/{ask.subresource}")
                    for r in resources)
            and (not names or ask.name in names))


def _bound(binding: dict[str, Any], user: str, groups: Iterable[str]) -> bool:
    member = set(groups)
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name")
        if (kind == "User" and name == user) or (kind == "Group" and name in member):
            return True
    return False


def _rules(objects: dict[tuple[str, str, str], dict[str, Any]], user: str,
           groups: tuple[str, ...], namespace: str | None) -> Iterator[dict[str, Any]]:
    for (plural, _, _), binding in objects.items():
        if plural == "clusterrolebindings" and _bound(binding, user, groups):
            role = objects.get(("clusterroles", "", binding["roleRef"]["name"]))
            yield from (role or {}).get("rules") or []
    if namespace is None:
        return
    for (plural, ns, _), binding in objects.items():
        if plural != "rolebindings" or ns != namespace or not _bound(binding, user, groups):
            continue
        ref = binding["roleRef"]
        role = objects.get(("roles", namespace, ref["name"]) if ref["kind"] == "Role"
                           else ("clusterroles", "", ref["name"]))
        yield from (role or {}).get("rules") or []


def allows(objects: dict[tuple[str, str, str], dict[str, Any]], user: str,
           groups: tuple[str, ...], ask: Ask) -> bool:
    if SUPERUSERS in groups:
        return True
    return any(rule_allows(rule, ask) for rule in _rules(objects, user, groups, ask.namespace))


def bootstrap(admin: str) -> list[dict[str, Any]]:
    """The ClusterRoles and bindings a fresh cluster has that the double's users rely on."""
    def binding(name: str, role: str, kind: str, subject: str) -> dict[str, Any]:
        return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": GROUP, "kind": kind, "name": subject}]}
    return [
        {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        binding("double-cluster-admin", "cluster-admin", "User", admin),
        {"apiVersion": API_VERSION, "kind": "ClusterRole",
         "metadata": {"name": "system:basic-user"},
         "rules": [{"apiGroups": ["authorization.k8s.io"],
                    "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    "verbs": ["create"]},
                   {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"],
                    "verbs": ["create"]}]},
        binding("system:basic-user", "system:basic-user", "Group", AUTHENTICATED),
    ]
