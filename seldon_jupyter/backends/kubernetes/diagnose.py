"""The cluster half of `doctor()`: is this cluster and namespace ready for the walkthrough?

Each check asks the API server what a user would otherwise learn from a failure: who the
kubeconfig is (SelfSubjectReview), whether Knative Eventing and Seldon Core serve the
versions the kit speaks (discovery), whether each RBAC rule the kit needs is granted
(SelfSubjectAccessReview, one per verb), whether Knative may resolve a SeldonDeployment
(the addressable ClusterRole), and whether each Broker's ingress answers where the kit sends
(`doctor.ingress_checks`). The pods, mesh and
PodSecurity checks are in `diagnose_pods`. Nothing here writes to the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seldon_jupyter import doctor, resources
from seldon_jupyter.backends.base import Check, Resource
from seldon_jupyter.backends.kubernetes import diagnose_pods, install, rbac
from seldon_jupyter.errors import SeldonJupyterError

if TYPE_CHECKING:
    from seldon_jupyter.backends.kubernetes.api import Api
    from seldon_jupyter.backends.kubernetes.backend import KubernetesBackend

NEEDED = (("eventing.knative.dev", "v1", ("brokers", "triggers"), "Knative Eventing"),
          ("machinelearning.seldon.io", "v1", ("seldondeployments",), "Seldon Core"),
          ("serving.kserve.io", "v1beta1", ("inferenceservices",), "KServe"))
OPTIONAL = ("serving.kserve.io",)  # only InferenceServices need it: missing is a warning
ADDRESSABLE = "duck.knative.dev/addressable"


def run(backend: KubernetesBackend, namespace: str, found: list[Resource]) -> list[Check]:
    api = backend.api
    first, user = api_server(backend)
    if first.state == "fail":
        return [first]
    checks = [first, *crds(api)]
    ns_check, ns_obj = namespace_check(api, namespace)
    checks.append(ns_check)
    checks.extend(rbac_checks(api, namespace, user))
    checks.extend(addressable(api, namespace, found))
    checks.extend(doctor.ingress_checks(backend.send_target, namespace, found))
    checks.extend(diagnose_pods.run(api, backend.collector, namespace, ns_obj))
    return checks


def api_server(backend: KubernetesBackend) -> tuple[Check, str]:
    """The API server answers, and who the kubeconfig authenticates as."""
    api = backend.api
    where = f"{api.host} (context {backend.context})"
    try:
        version = api.request("GET", "/version") or {}
    except SeldonJupyterError as exc:
        return Check("cluster", "API server", "fail", f"{where}: {exc}",
                     getattr(exc, "hint", "") or ""), ""
    try:
        review = api.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                             {"apiVersion": "authentication.k8s.io/v1",
                              "kind": "SelfSubjectReview"})
    except SeldonJupyterError as exc:
        if "refused the credentials" in str(exc) or "system:anonymous" in str(exc):
            return Check("cluster", "API server", "fail", f"{where}: {exc}",
                         getattr(exc, "hint", "") or "your kubeconfig has no credentials "
                         "the cluster accepts: log in again"), ""
        review = {}  # before Kubernetes 1.28 there is no SelfSubjectReview
    user = str(((review.get("status") or {}).get("userInfo") or {}).get("username") or "")
    return Check("cluster", "API server", "ok",
                 f"Kubernetes {version.get('gitVersion', '?')} at {where}"
                 + (f", as {user}" if user else "")), user


def crds(api: Api) -> list[Check]:
    """Knative Eventing and Seldon Core (and KServe, optional): installed, serving the
    versions with the kit's resources."""
    checks = []
    for group, version, plurals, name in NEEDED:
        code, doc = api.attempt("GET", f"/apis/{group}")
        if code == 404:
            optional = group in OPTIONAL
            checks.append(Check("install", name, "warn" if optional else "fail",
                                f"not installed: the API server serves no {group} API group"
                                + (" (needed only for InferenceServices)" if optional else ""),
                                install.INSTALL[group]))
            continue
        if code != 200:
            checks.append(Check("install", name, "warn", f"discovery of {group} answered "
                                f"{code}: {str(doc)[:200]}"))
            continue
        served = [str(v.get("version")) for v in doc.get("versions") or []]
        if version not in served:
            checks.append(Check("install", name, "fail", f"{group} serves "
                                f"{', '.join(served)}, not {version}", install.INSTALL[group]))
            continue
        code, listed = api.attempt("GET", f"/apis/{group}/{version}")
        names = {str(r.get("name")) for r in (listed or {}).get("resources") or []} \
            if code == 200 else set()
        missing = [p for p in plurals if p not in names]
        if missing:
            checks.append(Check("install", name, "fail", f"{group}/{version} has no "
                                f"{', '.join(missing)}", install.INSTALL[group]))
            continue
        checks.append(Check("install", name, "ok", f"{group} serves {', '.join(served)} "
                            f"({', '.join(plurals)})"))
    return checks


def namespace_check(api: Api, namespace: str) -> tuple[Check, dict[str, Any] | None]:
    code, obj = api.attempt("GET", f"/api/v1/namespaces/{namespace}")
    if code == 404:
        return Check("cluster", f"namespace {namespace}", "fail", "does not exist",
                     f"kubectl create namespace {namespace}"), None
    if code != 200:
        return Check("cluster", f"namespace {namespace}", "warn",
                     f"cannot read it ({code}): the mesh and PodSecurity checks are skipped",
                     "grant get on namespaces, or ask a cluster admin for its labels"), None
    phase = (obj.get("status") or {}).get("phase", "Active")
    if phase == "Terminating":
        return Check("cluster", f"namespace {namespace}", "fail", "is being deleted "
                     "(Terminating): nothing new can be created in it",
                     "use another namespace, or wait and create it again"), obj
    return Check("cluster", f"namespace {namespace}", "ok", "exists"), obj


def rbac_checks(api: Api, namespace: str, user: str) -> list[Check]:
    """One SelfSubjectAccessReview per verb the kit needs; one line per rule."""
    denied: dict[rbac.Rule, list[tuple[str, str]]] = {}
    for rule, where, verb, resource, name in rbac.reviews(namespace):
        body = rbac.review_body(rule.group, where, verb, resource, name)
        try:
            review = api.request(
                "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
        except SeldonJupyterError as exc:
            return [Check("rbac", "access reviews", "warn", f"cannot ask the API server "
                          f"what you may do: {exc}", "kubectl auth can-i --list -n "
                          f"{namespace} shows your rights")]
        if not (review.get("status") or {}).get("allowed"):
            denied.setdefault(rule, []).append((verb, resource))
        else:
            denied.setdefault(rule, [])
    checks = []
    for rule, missing in denied.items():
        where = rbac.INGRESS_NAMESPACE if rule in rbac.INGRESS_RULES else namespace
        what = ", ".join(rule.resources) + (f" ({', '.join(rule.names)})" if rule.names
                                             else "")
        if not missing:
            checks.append(Check("rbac", what, "ok", f"{' '.join(rule.verbs)} in {where}"))
            continue
        verbs = sorted({v for v, _ in missing}, key=rule.verbs.index)
        checks.append(Check("rbac", what, "warn" if rule.optional else "fail",
                            f"missing {', '.join(verbs)} in {where} (needed only to "
                            f"{rule.why})" if rule.optional else f"missing "
                            f"{', '.join(verbs)} in {where} (needed for {rule.why})",
                            _grant(rule, verbs, where, user)))
    return checks


def _grant(rule: rbac.Rule, verbs: list[str], namespace: str, user: str) -> str:
    role = "seldon-jupyter-" + rule.resources[0].replace("/", "-")
    kinds = ",".join(f"{r}.{rule.group}" if rule.group else r for r in rule.resources)
    names = f" --resource-name={','.join(rule.names)}" if rule.names else ""
    return (f"kubectl create role {role} -n {namespace} --verb={','.join(verbs)} "
            f"--resource={kinds}{names}\nkubectl create rolebinding {role} -n {namespace} "
            f"--role={role} --user={user or '<your user>'}")


def _referenced(found: list[Resource], namespace: str, kind: str) -> list[str]:
    return [r.name for r in found if r.kind == "Trigger" and r.namespace == namespace and (
        ((r.manifest.get("spec") or {}).get("subscriber") or {}).get("ref") or {}
    ).get("kind") == kind]


def addressable(api: Api, namespace: str, found: list[Resource]) -> list[Check]:
    """May Knative resolve a Trigger's `subscriber.ref` to a SeldonDeployment (always
    checked) or a KServe InferenceService (when a Trigger names one)?"""
    fix = ("a cluster admin applies it once: session.apply(resources.addressable_clusterrole())"
           " (the README's 'The addressable ClusterRole'), or subscribe by uri")
    code, listed = api.attempt("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                               [("labelSelector", f"{ADDRESSABLE}=true")])
    checks = []
    for kind, (group, plural) in resources.ADDRESSABLE_KINDS.items():
        needs = _referenced(found, namespace, kind)
        if kind != "SeldonDeployment" and not needs:
            continue
        what = "addressable ClusterRole" + ("" if kind == "SeldonDeployment" else f" ({kind})")
        if code != 200:
            checks.append(Check("knative", what, "warn", "cannot list ClusterRoles "
                                f"({code}) to see whether Knative may read {kind}s", fix))
            continue
        granted = _granting(listed.get("items") or [], group, plural)
        if granted:
            checks.append(Check("knative", what, "ok",
                                f"{granted} lets Knative resolve {kind}s"))
            continue
        detail = (f"no ClusterRole labelled duck.knative.dev/addressable grants get/list/watch"
                  f" on {plural}: a Trigger whose subscriber.ref is a {kind} stays "
                  "SubscriberResolved=False" + (f" (here: {', '.join(needs)})" if needs else ""))
        name = resources.addressable_clusterrole()["metadata"]["name"]
        checks.append(Check("knative", what, "fail" if needs else "warn", detail,
                            f"{fix}; it is {name}"))
    return checks


def _granting(roles: list[dict[str, Any]], group: str, plural: str) -> str | None:
    """The name of an addressable ClusterRole granting get/list/watch on group/plural."""
    for role in roles:
        for rule in role.get("rules") or []:
            groups, kinds = rule.get("apiGroups") or [], rule.get("resources") or []
            verbs = set(rule.get("verbs") or [])
            if ({group, "*"} & set(groups) and {plural, "*"} & set(kinds)
                    and ("*" in verbs or {"get", "list", "watch"} <= verbs)):
                return str(role["metadata"]["name"])
    return None
