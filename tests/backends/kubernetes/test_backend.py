"""The kubernetes backend over real HTTP against the stateful API-server double."""

from __future__ import annotations

import pytest

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes import KubernetesBackend
from seldon_jupyter.demo import SEED
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError, NotReadyError
from seldon_jupyter.naming import request_type, response_type
from tests.kube.apiserver import kubeconfig


def test_kubeconfig_namespace_context_and_bearer_token(apiserver, tmp_path):
    _, url = apiserver
    backend = KubernetesBackend(kubeconfig=kubeconfig(tmp_path / "c", url, "ns1"), home=tmp_path)
    assert backend.default_namespace == "ns1"
    assert backend.api.auth_headers() == {"authorization": "Bearer test-token"}
    described = backend.describe()
    assert (described["host"], described["namespace"], described["running"]) == (url, "ns1", True)
    backend.close()
    with pytest.raises(BackendError, match="no usable Kubernetes configuration"):
        KubernetesBackend(kubeconfig=str(tmp_path / "c"), context="nope", home=tmp_path)


def test_seed_manifests_apply_and_report_controller_status(kube):
    server, session = kube
    applied = session.apply(SEED)
    assert {r.kind for r in applied} == {"Broker", "SeldonDeployment", "Trigger", "Deployment",
                                         "Service"}
    sdep = session.get("sdep", "iris-deployment")
    assert sdep.state == "Available"
    assert sdep.address == ("http://iris-deployment-default.team-a.svc.cluster.local:8000/"
                            "api/v1.0/predictions")
    trig = session.get("trigger", "seldon-eventing-sklearn-trigger")
    assert trig.ready and trig.address == sdep.address
    assert ("POST", "/apis/machinelearning.seldon.io/v1/namespaces/team-a/seldondeployments") \
        in server.calls
    # hand-written Deployments and Services are the user's business: not listed
    assert {r.kind for r in session.status()} == {"Broker", "Trigger", "SeldonDeployment"}


def test_apply_twice_replaces_with_the_current_resource_version(kube):
    server, session = kube
    first = session.apply(resources.broker(namespace="team-a"))[0]
    version = first.manifest["metadata"]["resourceVersion"]
    second = session.apply(resources.broker(namespace="team-a",
                                            delivery={"retry": 3}))[0]
    assert int(second.manifest["metadata"]["resourceVersion"]) > int(version)
    assert second.manifest["metadata"]["generation"] == 2
    assert second.manifest["metadata"]["uid"] == first.manifest["metadata"]["uid"]
    assert second.manifest["spec"]["delivery"] == {"retry": 3}
    assert ("PUT", "/apis/eventing.knative.dev/v1/namespaces/team-a/brokers/default") in \
        server.calls


def test_a_concurrent_change_is_a_conflict_not_an_overwrite(kube):
    _, session = kube
    session.apply(resources.broker(namespace="team-a"))
    stale = session.backend.api.request(
        "GET", "/apis/eventing.knative.dev/v1/namespaces/team-a/brokers/default")
    session.apply(resources.broker(namespace="team-a", delivery={"retry": 1}))
    with pytest.raises(BackendError, match="conflict.*the object has been modified"):
        session.backend.api.request(
            "PUT", "/apis/eventing.knative.dev/v1/namespaces/team-a/brokers/default", stale)
    assert session.get("broker", "default").manifest["spec"]["delivery"] == {"retry": 1}


def test_wait_ready_reports_the_controller_reason(kube):
    _, session = kube
    session.apply(resources.broker(namespace="team-a"))
    with pytest.raises(NotReadyError, match="SubscriberResolved"):
        session.apply(resources.trigger("t", namespace="team-a", deployment="missing"),
                      wait=True, timeout=0.5)


def test_missing_crds_say_what_to_install(kube):
    server, session = kube
    server.missing_groups.add("machinelearning.seldon.io")
    with pytest.raises(BackendError, match="Seldon Core not found in this cluster"):
        session.apply(resources.seldon_deployment("x", namespace="team-a"))
    server.missing_groups = {"eventing.knative.dev"}
    with pytest.raises(BackendError, match="Knative Eventing not found in this cluster"):
        session.status()


def test_rbac_denial_names_the_verb_and_resource(kube):
    server, session = kube
    server.forbidden.add(("create", "triggers"))
    with pytest.raises(BackendError, match='cannot create resource "triggers"') as info:
        session.apply(resources.trigger("t", namespace="team-a", uri="http://x/"))
    assert "RBAC" in str(info.value)


def test_the_crd_schema_refuses_a_bad_manifest_with_the_field(kube):
    _, session = kube
    bad = resources.seldon_deployment("x", namespace="team-a")
    bad["spec"]["predictors"][0]["graph"]["parameters"] = [{"name": "a", "value": "1"}]
    with pytest.raises(ManifestError, match=r"parameters\[0\]\.type: Required value"):
        session.backend.apply([bad])


def test_not_found_and_delete(kube):
    _, session = kube
    session.apply(resources.broker(namespace="team-a"))
    session.delete("broker", "default")
    with pytest.raises(NotFoundError, match='"default" not found'):
        session.get("broker", "default")


def test_unreachable_cluster_is_a_clear_error(tmp_path):
    backend = KubernetesBackend(kubeconfig=kubeconfig(tmp_path / "c", "http://127.0.0.1:9"),
                                home=tmp_path)
    with pytest.raises(BackendError, match="unreachable"):
        backend.list()
    backend.close()


def test_no_kubeconfig_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="no usable Kubernetes configuration"):
        KubernetesBackend(kubeconfig=str(tmp_path / "missing"), home=tmp_path)


def test_cleanup_removes_what_the_kit_made_and_nothing_else(kube):
    server, session = kube
    session.apply(SEED)
    session.apply([resources.seldon_deployment("kit-made", namespace="team-a"),
                   *resources.collector_manifests(kind="sink", namespace="team-a")])
    gone = session.cleanup()
    assert sorted((r.kind, r.name) for r in gone) == [
        ("ConfigMap", "seldon-jupyter-collector"), ("Deployment", "seldon-jupyter-collector"),
        ("SeldonDeployment", "kit-made"), ("Service", "seldon-jupyter-collector"),
        ("Trigger", "seldon-jupyter-collector")]
    left = {(plural, name) for plural, _, name in server.objects}
    assert ("seldondeployments", "iris-deployment") in left
    assert ("deployments", "event-display") in left
    assert server.kubelet.pods.get(("team-a", "seldon-jupyter-collector")) is None


def test_send_target_goes_through_the_service_proxy_with_credentials(kube):
    _, session = kube
    target = session.backend.send_target("team-a", "default")
    assert target.url.endswith(
        "/api/v1/namespaces/knative-eventing/services/broker-ingress/proxy/team-a/default")
    assert target.headers == {"authorization": "Bearer test-token"}


def test_walkthrough_through_the_kubernetes_code_path(cluster):
    """Seed manifests, events through the proxy, responses read from event-display's log."""
    server, kube, mirror = cluster
    ns = kube.namespace
    kube.apply(SEED
               .replace("seldon.iris-deployment.default.", f"seldon.iris-deployment.{ns}."),
               wait=True, timeout=120)
    sent = [kube.send({"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}},
                      type=request_type("iris-deployment", ns)) for _ in range(3)]
    assert {s.status for s in sent} == {202}
    frame = kube.responses(type=response_type("iris-deployment", ns), wait=30, count=3)
    assert len(frame) == 3
    assert set(frame["sink"]) == {f"{ns}/event-display"}
    assert (frame[["t:0", "t:1", "t:2"]].sum(axis=1).round(6) == 1.0).all()
    assert (frame["t:0"] > 0.5).all()  # a setosa row
    assert any("/pods/" in path and path.split("?")[0].endswith("/log")
               for _, path in server.calls)
    # a second read pulls nothing twice
    assert len(kube.responses(type=response_type("iris-deployment", ns))) == 3
    # what the mirror's own broker saw is what was sent through the proxy
    assert set(mirror.events()["id"]) >= {s.id for s in sent}


def test_the_cli_drives_the_kubernetes_backend(apiserver, tmp_path, capsys):
    from seldon_jupyter.cli import main

    _, url = apiserver
    config = kubeconfig(tmp_path / "c", url, "team-a")
    common = ["--backend", "kubernetes", "--kubeconfig", config, "--home", str(tmp_path),
              "-n", "team-a"]
    manifest = tmp_path / "b.yaml"
    manifest.write_text(resources.to_yaml([resources.broker(namespace="team-a")]))
    assert main([*common, "apply", "-f", str(manifest)]) == 0
    assert main([*common, "get"]) == 0
    out = capsys.readouterr().out
    assert "Broker" in out and "team-a" in out and "Ready" in out


def test_all_namespaces_is_the_cluster_wide_list(kube):
    # Backend protocol: list(None) is every namespace; on a cluster, the list path with no
    # namespace segment (kube-apiserver's cluster-scoped list of a namespaced resource)
    server, session = kube
    session.apply(resources.broker(namespace="team-a"))
    session.apply(resources.broker(namespace="team-b"))
    assert [r.namespace for r in session.status("broker")] == ["team-a"]
    everywhere = session.status("broker", all_namespaces=True)
    assert sorted(r.namespace for r in everywhere) == ["team-a", "team-b"]
    assert ("GET", "/apis/eventing.knative.dev/v1/brokers") in server.calls


def test_explain_evaluates_the_clusters_triggers_client_side(kube):
    _, session = kube
    session.apply(resources.broker(namespace="team-a"))
    session.apply(resources.trigger("t", namespace="team-a", uri="http://x.example/",
                                    filter={"type": "wanted"}))
    found = session.explain(type="unwanted")
    assert found.client_side and "evaluated client-side" in str(found)
    assert found.verdicts[0].why == ("type differs (attributes): expected 'wanted', "
                                     "you have 'unwanted'")
    assert [v.trigger for v in session.explain(type="wanted").takers] == ["team-a/t"]
