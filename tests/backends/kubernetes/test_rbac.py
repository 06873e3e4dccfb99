"""The kit's own RBAC grants (`seldon-jupyter rbac --user`) against the double's RBAC.

The double authorizes every request from the cluster's Roles and bindings, as
kube-apiserver's RBAC authorizer does (tests/kube/rbac.py), so a user who holds exactly what
the kit tells an admin to grant must be able to do everything the kit does for them, and a
user without it must be told what to ask for.
"""

from __future__ import annotations

import pytest

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes import KubernetesBackend, rbac
from seldon_jupyter.errors import BackendError
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session
from tests.kube.rbac import Ask, rule_allows

USER = "alice"


def _as(server, tmp_path, ns: str, user: str = USER) -> Session:
    config = server.kubeconfig(tmp_path / f"{user}-config", ns, user=user)
    return Session(KubernetesBackend(kubeconfig=config, home=tmp_path / f"{user}-home"))


def test_rule_matching_follows_kubes_evaluation_helpers():
    rule = {"apiGroups": [""], "resources": ["services/proxy"], "verbs": ["create"],
            "resourceNames": ["broker-ingress"]}
    assert rule_allows(rule, Ask("create", "", "services", "proxy", "knative-eventing",
                                 "broker-ingress"))
    assert not rule_allows(rule, Ask("create", "", "services", "proxy", "knative-eventing",
                                     "other"))
    assert not rule_allows(rule, Ask("get", "", "services", "proxy", name="broker-ingress"))
    assert not rule_allows(rule, Ask("create", "", "services", "", name="broker-ingress"))
    # a plain resource does not cover its subresources; */sub covers one in any resource
    assert not rule_allows({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                           Ask("get", "", "pods", "log"))
    assert rule_allows({"apiGroups": ["*"], "resources": ["*/log"], "verbs": ["*"]},
                       Ask("get", "", "pods", "log"))
    assert not rule_allows({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]},
                           Ask("get", "", "pods"))


def test_a_user_without_grants_is_told_what_to_ask_an_admin_for(kube, tmp_path):
    server, _ = kube
    alice = _as(server, tmp_path, "team-a")
    try:
        with pytest.raises(BackendError) as err:
            alice.ensure_broker()
        assert 'User "alice" cannot' in str(err.value)
        assert "seldon-jupyter -n team-a rbac --user alice" in (err.value.hint or "")
        rbac_lines = [c for c in alice.doctor().checks if c.area == "rbac"]
        states = {c.check: c.state for c in rbac_lines}
        assert states.pop("inferenceservices") == "warn"  # only KServe users need it
        assert states.pop("namespaces") == "warn"  # only the doctor's own checks
        assert states and set(states.values()) == {"fail"}
        assert all("--user=alice" in c.fix for c in rbac_lines)
        # the same user in another namespace than the one granted is refused too
        server.admin_apply(rbac.grants("team-a", USER))
        assert all(c.state == "ok" for c in alice.doctor().checks if c.area == "rbac")
        server.namespace("team-b")
        (tmp_path / "b").mkdir()
        other = _as(server, tmp_path / "b", "team-b")
        try:
            with pytest.raises(BackendError, match='cannot .* in the namespace "team-b"'):
                other.ensure_broker()
        finally:
            other.backend.close()
    finally:
        alice.backend.close()


def test_the_kits_grants_cover_an_inference_service(kube, tmp_path):
    server, admin = kube
    server.admin_apply(rbac.grants("team-a", USER))
    admin.apply(resources.addressable_clusterrole())
    alice = _as(server, tmp_path, "team-a")
    try:
        alice.apply([resources.broker(namespace="team-a"),
                     resources.inference_service("sklearn-iris", namespace="team-a"),
                     resources.trigger("to-isvc", namespace="team-a",
                                       inference_service="sklearn-iris",
                                       uri="/v2/models/sklearn-iris/infer")])
        kinds = {r.kind for r in alice.status()}
        assert {"Broker", "InferenceService", "Trigger"} <= kinds
        alice.delete("InferenceService", "sklearn-iris")
        gone = {r.kind for r in alice.cleanup()}
        assert {"Broker", "Trigger"} <= gone
    finally:
        alice.backend.close()


def test_the_kits_grants_are_enough_for_the_walkthrough(cluster, tmp_path):
    server, admin, mirror = cluster
    ns = admin.namespace
    server.admin_apply(rbac.grants(ns, USER))
    alice = _as(server, tmp_path, ns)
    try:
        checks = alice.doctor().checks
        assert all(c.state == "ok" for c in checks if c.area == "rbac")
        # the Role's get on its own namespace lets the mesh and PodSecurity checks run
        assert next(c for c in checks if c.check == f"namespace {ns}").state == "ok"
        alice.apply([resources.broker(namespace=ns),
                     resources.seldon_deployment("iris", namespace=ns),
                     resources.trigger("to-iris", namespace=ns, deployment="iris",
                                       filter={"type": request_type("iris", ns)})],
                    wait=True, timeout=120)
        alice.collector(kind="sink", type=response_type("iris", ns))
        summary = alice.send_many([[5.9, 3.0, 5.1, 1.8]] * 5, type=request_type("iris", ns))
        assert summary.sent == 5 and summary.failed == 0, summary.errors
        frame = alice.responses(wait=30, count=5)
        assert len(frame) == 5 and (frame["t:2"] > 0.5).all()
        assert {r.kind for r in alice.status()} >= {"Broker", "SeldonDeployment", "Trigger"}
        alice.cleanup()
        assert not [r for r in alice.status() if r.kind in ("Trigger", "SeldonDeployment")]
        assert not any(p for _, p in server.calls if "alice" in p)  # no impersonation
    finally:
        alice.backend.close()
