"""`Session.doctor()` on the kubernetes backend, against the API double.

Each test breaks one thing the way a real cluster has it broken (a CRD group not
installed, an RBAC rule missing, no addressable ClusterRole, PodSecurity `restricted`,
Istio STRICT mTLS, a Linkerd policy, an anonymous kubeconfig) and reads the doctor's line
for it; the healthy cluster (the double in front of the real local data plane) is all ok.
"""

from __future__ import annotations

import time

import pytest

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes import KubernetesBackend, install
from seldon_jupyter.session import Session


def line(diagnosis, area: str, check: str | None = None):
    found = [c for c in diagnosis.checks if c.area == area and (
        check is None or c.check == check)]
    assert found, f"no {area}/{check} line in:\n{diagnosis}"
    return found[0]


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_healthy_cluster_is_all_ok(cluster):
    server, session, _ = cluster
    session.ensure_broker()
    session.collector(kind="sink", type="seldon.response")
    session.wait_ready(("Broker", "default"), ("Trigger", "seldon-jupyter-collector"),
                       ("Deployment", "seldon-jupyter-collector"), timeout=60)
    diagnosis = session.doctor()
    assert diagnosis.ok, str(diagnosis)
    assert not diagnosis.warnings, str(diagnosis)
    api = line(diagnosis, "cluster", "API server")
    assert "v1.33.1" in api.detail and "as tester" in api.detail
    assert "v1, v1alpha2, v1alpha3" in line(diagnosis, "install", "Seldon Core").detail
    assert {c.check for c in diagnosis.checks if c.area == "rbac"} >= {
        "seldondeployments", "brokers, triggers", "pods, pods/log",
        "services/proxy (broker-ingress:http, broker-ingress:https, "
        "kafka-broker-ingress:http, kafka-broker-ingress:https)", "inferenceservices"}
    broker = line(diagnosis, "broker", "Broker default")
    assert "MTChannelBasedBroker" in broker.detail and "got 400" in broker.detail
    assert "Running and ready" in line(diagnosis, "sinks").detail
    assert line(diagnosis, "podsecurity").state == "ok"
    frame = diagnosis.frame()
    assert list(frame.columns) == ["area", "check", "state", "detail", "fix"]
    assert set(frame["state"]) == {"ok"}
    assert "<table>" in diagnosis._repr_html_()


def test_missing_crd_group_names_the_install(kube):
    server, session = kube
    server.missing_groups.add("machinelearning.seldon.io")
    diagnosis = session.doctor()
    seldon = line(diagnosis, "install", "Seldon Core")
    assert seldon.state == "fail"
    assert "serves no machinelearning.seldon.io API group" in seldon.detail
    assert seldon.fix == install.SELDON_INSTALL and f"--version {install.SELDON_CORE}" in \
        seldon.fix
    assert line(diagnosis, "install", "Knative Eventing").state == "ok"
    assert not diagnosis.ok


def test_missing_rbac_rule_gives_the_kubectl_grant(kube):
    server, session = kube
    server.forbidden.update({("create", "seldondeployments"), ("patch", "seldondeployments"),
                             ("get", "pods/log")})
    diagnosis = session.doctor()
    sdep = line(diagnosis, "rbac", "seldondeployments")
    assert sdep.state == "fail" and "missing create, patch in team-a" in sdep.detail
    assert ("kubectl create role seldon-jupyter-seldondeployments -n team-a "
            "--verb=create,patch --resource=seldondeployments.machinelearning.seldon.io"
            ) in sdep.fix
    assert "--user=tester" in sdep.fix
    logs = line(diagnosis, "rbac", "pods, pods/log")
    assert logs.state == "fail" and "missing get" in logs.detail
    assert line(diagnosis, "rbac", "brokers, triggers").state == "ok"


def test_no_addressable_role_fails_a_trigger_to_a_seldondeployment(kube):
    server, session = kube
    session.ensure_broker()
    diagnosis = session.doctor()
    role = line(diagnosis, "knative", "addressable ClusterRole")
    assert role.state == "warn" and "addressable_clusterrole()" in role.fix
    session.apply({"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
                   "metadata": {"name": "to-model"},
                   "spec": {"broker": "default", "subscriber": {"ref": {
                       "apiVersion": "machinelearning.seldon.io/v1",
                       "kind": "SeldonDeployment", "name": "iris"}}}})
    role = line(session.doctor(), "knative", "addressable ClusterRole")
    assert role.state == "fail" and "to-model" in role.detail
    session.apply(resources.addressable_clusterrole())
    role = line(session.doctor(), "knative", "addressable ClusterRole")
    assert role.state == "ok" and "seldon-jupyter-addressable-seldondeployments" in role.detail


def test_anonymous_kubeconfig_fails_first_and_alone(apiserver, tmp_path):
    server, _ = apiserver
    path = server.kubeconfig(tmp_path / "anon", "team-a", auth="token", token="")
    backend = KubernetesBackend(kubeconfig=path, home=tmp_path / "home")
    try:
        diagnosis = Session(backend).doctor()
    finally:
        backend.close()
    assert [c.state for c in diagnosis.checks] == ["fail"], str(diagnosis)
    assert "system:anonymous" in diagnosis.checks[0].detail


def test_restricted_namespace_refuses_the_walkthrough_event_display(kube):
    server, session = kube
    server.namespace("locked", **{"pod-security.kubernetes.io/enforce": "restricted"})
    walkthrough = resources.event_display(namespace="locked")
    for m in walkthrough:  # the walkthrough's YAML sets no securityContext
        m["spec"].get("template", {}).get("spec", {}).get("containers", [{}])[0].pop(
            "securityContext", None)
    session.apply(walkthrough)
    session.apply(resources.collector(namespace="locked"))
    wait_for(lambda: any(r.name == "seldon-jupyter-collector" and r.ready
                         for r in session.status(all_namespaces=True)
                         if r.kind == "Deployment"))
    diagnosis = session.doctor("locked")
    psa = line(diagnosis, "podsecurity")
    assert psa.state == "fail"
    assert "event-display: allowPrivilegeEscalation != false" in psa.detail
    assert "seldon-jupyter-collector" not in psa.detail
    display = line(diagnosis, "sinks", "event-display event-display")
    assert display.state == "fail"
    assert 'violates PodSecurity "restricted:latest"' in display.detail
    collector = line(diagnosis, "sinks", "sink seldon-jupyter-collector")
    assert collector.state == "ok", str(diagnosis)


def test_kit_event_display_passes_restricted(kube):
    server, session = kube
    server.namespace("locked2", **{"pod-security.kubernetes.io/enforce": "restricted"})
    session.apply(resources.event_display(namespace="locked2"))
    diagnosis = session.doctor("locked2")
    assert line(diagnosis, "podsecurity").state == "ok", str(diagnosis)


def test_istio_strict_mtls_is_named(kube):
    server, session = kube
    server.missing_groups.discard("security.istio.io")
    server.namespace("meshed", **{"istio-injection": "enabled"})
    session.apply(resources.collector(namespace="meshed"))
    assert line(session.doctor("meshed"), "mesh", "Istio mTLS").state == "ok"
    server.call(server.store.create, ("peerauthentications", "meshed", "default"), {
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "meshed"},
        "spec": {"mtls": {"mode": "STRICT"}}}, "istioctl")
    mesh = line(session.doctor("meshed"), "mesh", "Istio mTLS")
    assert mesh.state == "fail" and "meshed/default" in mesh.detail
    assert "mode: PERMISSIVE" in mesh.fix and "seldon-jupyter-collector" in mesh.fix


def test_linkerd_authenticated_policy_is_named(kube):
    server, session = kube

    def annotate() -> None:
        ns = server.store.get(("namespaces", "", "team-a"))
        ns["metadata"]["annotations"] = {
            "linkerd.io/inject": "enabled",
            "config.linkerd.io/default-inbound-policy": "all-authenticated"}
        server.store.objects[("namespaces", "", "team-a")] = ns
    server.call(annotate)
    mesh = line(session.doctor(), "mesh", "Linkerd policy")
    assert mesh.state == "fail" and "all-unauthenticated" in mesh.fix


def test_starting_pod_is_a_warning_not_a_failure(apiserver, tmp_path):
    server, _ = apiserver
    server.kubelet.start_delay = 30.0
    backend = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "c", "team-a"),
                                home=tmp_path / "home")
    session = Session(backend)
    try:
        session.apply(resources.event_display(namespace="team-a"))
        display = wait_for(lambda: [c for c in session.doctor().checks
                                    if c.area == "sinks" and "starting" in c.detail])
    finally:
        backend.close()
    assert display[0].state == "warn" and "ContainerCreating" in display[0].detail


@pytest.mark.parametrize("missing", ["Broker", "Trigger"])
def test_resource_lines_say_what_is_missing(kube, missing):
    _, session = kube
    if missing == "Trigger":
        session.ensure_broker()
        session.wait_ready(("Broker", "default"), timeout=30)
        broker = line(session.doctor(), "resources", "Broker default")
        assert broker.state == "warn" and "dropped" in broker.detail
    else:
        session.apply({"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
                       "metadata": {"name": "orphan"},
                       "spec": {"broker": "nope", "subscriber": {"uri": "http://x.y/"}}})
        orphan = line(session.doctor(), "resources", "Trigger orphan")
        assert orphan.state == "fail" and "'nope' does not exist" in orphan.detail
        assert orphan.fix == "session.ensure_broker('nope')"


def test_cli_doctor_prints_the_table_and_exits_1_on_a_failure(apiserver, tmp_path, capsys,
                                                               monkeypatch):
    import json

    from seldon_jupyter import cli

    server, _ = apiserver
    monkeypatch.setenv("SELDON_JUPYTER_HOME", str(tmp_path / "home"))
    path = server.kubeconfig(tmp_path / "cfg", "team-a")
    argv = ["--backend", "kubernetes", "--kubeconfig", path, "doctor"]
    assert cli.main(argv) == 0  # warnings (no Broker yet) but nothing failed
    out = capsys.readouterr().out
    assert out.startswith("doctor (kubernetes, namespace team-a): ")
    assert "[WARN] resources: Broker: no Broker in team-a" in out
    server.missing_groups.add("eventing.knative.dev")
    assert cli.main([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["namespace"] == "team-a"
    knative = next(c for c in report["checks"] if c["check"] == "Knative Eventing")
    assert knative["state"] == "fail" and install.KNATIVE_EVENTING in knative["fix"]


def test_kserve_is_optional_and_a_trigger_to_an_inference_service_needs_its_role(kube):
    """KServe missing is a warning with its install (only InferenceServices need it); a
    Trigger naming an InferenceService fails the check until an addressable ClusterRole
    grants inferenceservices, as KServe's own docs have an admin apply one."""
    server, session = kube
    session.ensure_broker()
    assert line(session.doctor(), "install", "KServe").state == "ok"
    server.missing_groups.add("serving.kserve.io")
    kserve = line(session.doctor(), "install", "KServe")
    assert kserve.state == "warn" and kserve.fix == install.KSERVE_INSTALL
    assert "needed only for InferenceServices" in kserve.detail
    server.missing_groups.discard("serving.kserve.io")
    only_seldon = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "seldon-only",
                                "labels": {"duck.knative.dev/addressable": "true"}},
                   "rules": [resources.addressable_clusterrole()["rules"][0]]}
    session.apply([only_seldon, resources.trigger(
        "to-isvc", namespace=session.namespace, inference_service="sklearn-iris",
        uri="/v2/models/sklearn-iris/infer")])
    isvc_role = line(session.doctor(), "knative", "addressable ClusterRole (InferenceService)")
    assert isvc_role.state == "fail" and "to-isvc" in isvc_role.detail
    assert "inferenceservices" in isvc_role.detail
    trigger = session.get("trigger", "to-isvc")
    assert not trigger.ready and 'cannot get resource "inferenceservices"' in trigger.reason
    session.apply(resources.addressable_clusterrole())
    assert line(session.doctor(), "knative",
                "addressable ClusterRole (InferenceService)").state == "ok"
