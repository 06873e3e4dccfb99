"""The kubernetes backend over HTTPS against the API-server double (tests/kube/).

Each test holds one fact of PROTOCOL.md's "Kubernetes API server and a real cluster"
section against the backend: the double behaves as kube-apiserver, Knative and Seldon do.
"""

from __future__ import annotations

import json
import time

import pytest

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes import KubernetesBackend
from seldon_jupyter.demo import SEED
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError, NotReadyError

BROKERS = "/apis/eventing.knative.dev/v1/namespaces/team-a/brokers"


def test_client_certificate_ca_and_tls_server_name_from_the_kubeconfig(apiserver, tmp_path):
    server, url = apiserver
    backend = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "c", "ns1"),
                                home=tmp_path)
    assert backend.default_namespace == "ns1"  # the context's namespace
    assert backend.api.auth_headers() == {}  # no token: the certificate is the identity
    described = backend.describe()
    assert (described["host"], described["running"]) == (url, True)
    backend.list("team-a")  # authenticated as "tester" by certificate
    backend.close()
    with pytest.raises(BackendError, match="no usable Kubernetes configuration"):
        KubernetesBackend(kubeconfig=str(tmp_path / "c"), context="nope", home=tmp_path)


def test_without_credentials_the_api_server_says_anonymous_403(apiserver, tmp_path):
    server, _ = apiserver
    config = json.loads(open(server.kubeconfig(tmp_path / "c")).read())
    config["users"][0]["user"] = {}
    (tmp_path / "anon").write_text(json.dumps(config))
    backend = KubernetesBackend(kubeconfig=str(tmp_path / "anon"), home=tmp_path)
    with pytest.raises(BackendError, match='User "system:anonymous" cannot list'):
        backend.list("team-a")
    backend.close()


def test_a_bearer_token_user_and_an_expired_token(apiserver, tmp_path):
    server, _ = apiserver
    server.auth.issue("good", ttl=3600)
    server.auth.issue("old", ttl=-1)
    ok = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "t", auth="token",
                                                        token="good"), home=tmp_path)
    assert ok.api.auth_headers() == {"authorization": "Bearer good"}
    assert ok.list("team-a") == []
    old = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "o", auth="token",
                                                         token="old"), home=tmp_path)
    with pytest.raises(BackendError, match="token has expired") as info:
        old.list("team-a")
    assert "log in again" in str(info.value)


def test_no_namespace_in_the_context_is_default(apiserver, tmp_path):
    server, _ = apiserver
    backend = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "c", None),
                                home=tmp_path)
    assert backend.default_namespace == "default"


def test_kubeconfig_comes_before_in_cluster_as_kubectl_does(apiserver, tmp_path, monkeypatch):
    server, _ = apiserver
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")  # a JupyterHub user pod
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv("KUBECONFIG", server.kubeconfig(tmp_path / "c", "from-kubeconfig"))
    backend = KubernetesBackend(home=tmp_path)
    assert (backend.in_cluster, backend.default_namespace) == (False, "from-kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(BackendError, match="mounts no service-account token"):
        KubernetesBackend(home=tmp_path)  # z2jh: no token mounted


def test_seed_applies_by_server_side_apply_and_reports_controller_status(kube):
    server, session = kube
    applied = session.apply(SEED)
    assert {r.kind for r in applied} == {"Broker", "SeldonDeployment", "Trigger", "Deployment",
                                         "Service"}
    assert all(m == "PATCH" for m, p in server.calls if "fieldManager" in p)
    assert ("PATCH", "/apis/machinelearning.seldon.io/v1/namespaces/team-a/seldondeployments"
            "/iris-deployment?fieldManager=seldon-jupyter") in server.calls
    # right after the write the controllers have not run: nothing is Ready yet
    assert not any(r.ready for r in applied if r.kind != "Service")
    ready = session.wait_ready(("Broker", "default"), ("sdep", "iris-deployment"), timeout=20)
    sdep = ready[1]
    assert sdep.address == ("http://iris-deployment-default.team-a.svc.cluster.local:8000/"
                            "api/v1.0/predictions")
    # the stock install has no addressable ClusterRole for seldondeployments
    with pytest.raises(NotReadyError, match="cannot get resource \"seldondeployments\""):
        session.wait_ready(("trigger", "seldon-eventing-sklearn-trigger"), timeout=3)
    session.apply(resources.addressable_clusterrole())
    trig = session.wait_ready(("trigger", "seldon-eventing-sklearn-trigger"), timeout=20)[0]
    assert trig.address == sdep.address
    # Knative's defaults were applied to the Broker
    broker = session.get("broker", "default").manifest
    assert broker["spec"]["delivery"] == {"retry": 10, "backoffPolicy": "exponential",
                                          "backoffDelay": "PT0.2S"}
    assert {r.kind for r in session.status()} == {"Broker", "Trigger", "SeldonDeployment"}


def test_waits_watch_instead_of_polling(kube):
    server, session = kube
    session.apply(resources.broker(namespace="team-a"))
    server.lag = 2.0
    session.apply(resources.broker(namespace="team-a", delivery={"retry": 3}))
    before = len(server.calls)
    session.wait_ready(("Broker", "default"), timeout=20)
    calls = server.calls[before:]
    assert any("watch=1" in p for _, p in calls)
    assert len(calls) < 10  # a 10 Hz poll would have made ~20 requests in 2 s


def test_a_changed_knative_object_is_not_ready_on_its_stale_status(kube):
    server, session = kube
    session.apply(resources.broker(namespace="team-a"))
    session.wait_ready(("Broker", "default"), timeout=10)
    server.lag = 1.5
    changed = session.apply(resources.broker(namespace="team-a", delivery={"retry": 3}))[0]
    # the stored status still says Ready=True, for generation 1
    assert changed.status["conditions"][-2]["status"] == "True"
    assert changed.manifest["metadata"]["generation"] == 2
    assert not changed.ready and "not reconciled generation 2" in changed.reason
    assert session.wait_ready(("Broker", "default"), timeout=10)[0].ready


def test_a_changed_seldon_deployment_waits_for_the_operator(kube):
    server, session = kube
    session.apply(resources.seldon_deployment("m", namespace="team-a"), wait=True, timeout=10)
    server.lag = 1.5
    changed = session.apply(resources.seldon_deployment("m", namespace="team-a",
                                                        parameters={"method": "predict"}))
    assert changed[0].status["state"] == "Available"  # stale: Seldon has no observedGeneration
    assert not changed[0].ready and "operator has not picked up" in changed[0].reason
    assert session.wait_ready(("sdep", "m"), timeout=15)[0].ready


def test_server_side_apply_keeps_other_managers_fields(kube):
    server, session = kube
    session.apply(resources.broker(namespace="team-a"))
    api = session.backend.api
    other = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
             "metadata": {"name": "default", "labels": {"team": "ml"}}}
    api.request("PATCH", BROKERS + "/default", json.dumps(other),
                [("fieldManager", "kubectl")], content_type="application/apply-patch+yaml")
    session.apply(resources.broker(namespace="team-a", delivery={"retry": 3}))
    meta = session.get("broker", "default").manifest["metadata"]
    assert meta["labels"]["team"] == "ml"  # a PUT would have dropped it
    managers = {f["manager"] for f in meta["managedFields"]}
    assert {"seldon-jupyter", "kubectl"} <= managers


def test_an_apply_conflict_names_the_other_manager_and_force_takes_over(kube):
    _, session = kube
    api = session.backend.api
    theirs = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
              "metadata": {"name": "t"}, "spec": {"broker": "other",
                                                  "subscriber": {"uri": "http://a/"}}}
    api.request("PATCH", "/apis/eventing.knative.dev/v1/namespaces/team-a/triggers/t",
                json.dumps(theirs), [("fieldManager", "kubectl")],
                content_type="application/apply-patch+yaml")
    mine = resources.trigger("t", namespace="team-a", uri="http://a/")
    with pytest.raises(BackendError, match='(?s)conflict with "kubectl".*spec.broker') as info:
        session.apply(mine)
    assert "force=True" in str(info.value)
    session.backend.apply([resources.validate(mine)], force=True)
    assert session.get("trigger", "t").manifest["spec"]["broker"] == "default"


def test_a_put_with_a_stale_resource_version_is_a_conflict(kube):
    _, session = kube
    session.apply(resources.broker(namespace="team-a"))
    stale = session.backend.api.request("GET", BROKERS + "/default")
    session.apply(resources.broker(namespace="team-a", delivery={"retry": 1}))
    with pytest.raises(BackendError, match="conflict.*the object has been modified"):
        session.backend.api.request("PUT", BROKERS + "/default", stale)


def test_url_group_version_must_match_the_body(kube):
    _, session = kube
    body = resources.broker(namespace="team-a")
    with pytest.raises(ManifestError, match="does not match the expected API version"):
        session.backend.api.request("POST", "/apis/machinelearning.seldon.io/v1/namespaces/"
                                    "team-a/seldondeployments", body)


def test_seldon_versions_are_served_at_their_own_urls(kube):
    server, session = kube
    old = resources.seldon_deployment("old", namespace="team-a")
    old["apiVersion"] = "machinelearning.seldon.io/v1alpha2"
    session.apply(old)
    assert any(p.startswith("/apis/machinelearning.seldon.io/v1alpha2/") for _, p in server.calls)


def test_missing_crds_are_named_by_status_code_and_discovery(kube):
    server, session = kube
    server.missing_groups.add("machinelearning.seldon.io")
    with pytest.raises(BackendError, match="Seldon Core is not installed in this cluster"):
        session.apply(resources.seldon_deployment("x", namespace="team-a"))
    assert ("GET", "/apis/machinelearning.seldon.io") in server.calls  # discovery asked
    server.missing_groups = {"eventing.knative.dev"}
    with pytest.raises(BackendError, match="Knative Eventing is not installed"):
        session.status()


def test_rbac_denial_gets_the_rbac_hint_other_403s_keep_their_reason(kube):
    server, session = kube
    server.forbidden.add(("patch", "triggers"))
    with pytest.raises(BackendError, match='cannot patch resource "triggers"') as info:
        session.apply(resources.trigger("t", namespace="team-a", uri="http://x/"))
    assert str(info.value).count("hint:") == 1 and "RBAC" in str(info.value)
    server.forbidden.clear()
    server.terminating.add("team-a")
    with pytest.raises(BackendError, match="because it is being terminated") as info:
        session.apply(resources.broker(namespace="team-a"))
    assert "RBAC" not in str(info.value) and "hint" not in str(info.value)


def test_a_missing_namespace_says_how_to_create_it(kube):
    _, session = kube
    with pytest.raises(NotFoundError, match='namespaces "nowhere" not found') as info:
        session.apply(resources.broker(namespace="nowhere"))
    assert "kubectl create namespace nowhere" in str(info.value)


def test_429_is_retried_after_retry_after(kube):
    # APF: past the rate the API server answers 429 + Retry-After: 1; reads (urllib3's
    # Retry) and writes (the Api's own loop) wait that long and try again
    server, session = kube
    server.auth.rate = 3
    slept: list[float] = []
    session.backend.api.sleep = lambda s: (slept.append(s), time.sleep(s))
    started = time.monotonic()
    for i in range(4):
        session.status("broker")
        session.apply(resources.broker(f"b{i}", namespace="team-a"))
    assert server.auth.throttled > 0
    assert time.monotonic() - started >= 1.0
    assert slept and set(slept) == {1.0}  # the writes' waits, from Retry-After


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


def test_unreachable_cluster_is_a_clear_error(apiserver, tmp_path):
    server, _ = apiserver
    config = json.loads(open(server.kubeconfig(tmp_path / "c")).read())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    (tmp_path / "gone").write_text(json.dumps(config))
    backend = KubernetesBackend(kubeconfig=str(tmp_path / "gone"), home=tmp_path)
    with pytest.raises(BackendError, match="unreachable"):
        backend.list()
    backend.close()


def test_no_kubeconfig_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="no usable Kubernetes configuration"):
        KubernetesBackend(kubeconfig=str(tmp_path / "missing"), home=tmp_path)


def test_a_jupyterhub_pod_without_a_token_is_told_so(tmp_path, monkeypatch):
    # z2jh user pods: KUBERNETES_SERVICE_HOST set, no service-account token mounted
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(BackendError) as info:
        KubernetesBackend(home=tmp_path / "home")
    assert "mounts no service-account token" in str(info.value)
    assert "KUBECONFIG" in str(info.value)


def test_a_trigger_to_a_seldondeployment_waits_for_the_addressable_role(kube):
    server, session = kube
    session.apply([resources.broker(namespace="team-a"),
                   resources.seldon_deployment("iris", namespace="team-a"),
                   resources.trigger("to-iris", namespace="team-a", deployment="iris")])
    with pytest.raises(NotReadyError) as info:
        session.wait_ready(("Trigger", "to-iris"), timeout=3)
    assert "Unable to get the Subscriber's URI" in str(info.value)
    assert 'cannot get resource "seldondeployments"' in str(info.value)
    session.apply(resources.addressable_clusterrole())
    ready = session.wait_ready(("Trigger", "to-iris"), timeout=20)
    assert ready[0].ready and ready[0].address.startswith("http://iris-default.team-a.svc")


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
    left = {(plural, name) for plural, _, name in server.store.objects}
    assert ("seldondeployments", "iris-deployment") in left
    assert ("deployments", "event-display") in left


def test_the_cli_drives_the_kubernetes_backend(apiserver, tmp_path, capsys):
    from seldon_jupyter.cli import main

    server, _ = apiserver
    config = server.kubeconfig(tmp_path / "c", "team-a")
    common = ["--backend", "kubernetes", "--kubeconfig", config, "--home", str(tmp_path),
              "-n", "team-a"]
    manifest = tmp_path / "b.yaml"
    manifest.write_text(resources.to_yaml([resources.broker(namespace="team-a")]))
    assert main([*common, "apply", "-f", str(manifest), "--wait"]) == 0
    assert main([*common, "get"]) == 0
    out = capsys.readouterr().out
    assert "Broker" in out and "team-a" in out and "Ready" in out


def test_all_namespaces_is_the_cluster_wide_list(kube):
    server, session = kube
    server.namespace("team-b")
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


def test_the_proxy_needs_the_port_name_of_a_named_port_service(kube):
    server, session = kube
    api = session.backend.api
    unnamed = "/api/v1/namespaces/knative-eventing/services/broker-ingress/proxy/team-a/x"
    code, body = api.attempt("GET", unnamed)
    assert code == 503
    assert json.loads(body)["message"] == 'no endpoints available for service "broker-ingress"'
    session.ensure_broker()
    session.wait_ready(("Broker", "default"), timeout=30)
    target = session.backend.send_target("team-a", "default")
    assert "/services/broker-ingress:http/proxy/team-a/default" in target.url
    # nothing behind the ingress on this double (no data plane): 503 is "not yet there"
    code, body = api.attempt("POST", target.url.removeprefix(api.host))
    assert code == 503


def test_a_kafka_class_broker_is_sent_to_through_its_own_ingress(cluster):
    server, session, mirror = cluster
    ns = session.namespace
    kafka = resources.broker("streams", namespace=ns)
    kafka["metadata"]["annotations"] = {"eventing.knative.dev/broker.class": "Kafka"}
    session.apply(kafka, wait=True, timeout=30)
    got = session.get("Broker", "streams")
    assert got.address == f"http://kafka-broker-ingress.knative-eventing.svc.cluster.local/" \
                          f"{ns}/streams"
    sent = session.send([[1, 2, 3, 4]], type="kafka.test", broker="streams")
    assert sent.status == 202
    assert any(p.startswith("/api/v1/namespaces/knative-eventing/services/"
                            f"kafka-broker-ingress:http/proxy/{ns}/streams")
               for _, p in server.calls)
    assert mirror.events(type="kafka.test")["id"].tolist() == [sent.id]
