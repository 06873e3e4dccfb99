"""Responses read back from the cluster's sinks: the kit's collector and event-display logs."""

from __future__ import annotations

import sqlite3

import pytest

from seldon_jupyter import journal_collected, journal_reader, resources
from seldon_jupyter.errors import BackendError
from seldon_jupyter.naming import request_type, response_type


def _deploy_iris(kube, ns: str) -> None:
    kube.apply([resources.broker(namespace=ns),
                resources.seldon_deployment("iris", namespace=ns),
                resources.trigger("to-iris", namespace=ns, deployment="iris",
                                  filter={"type": request_type("iris", ns)})],
               wait=True, timeout=120)


def test_the_kits_collector_is_read_through_the_service_proxy_exactly_once(cluster):
    server, kube, mirror = cluster
    ns = kube.namespace
    _deploy_iris(kube, ns)
    made = kube.collector(kind="sink", type=response_type("iris", ns))
    assert [r.kind for r in made] == ["ConfigMap", "Deployment", "Service", "Trigger"]
    assert all(r.ready for r in made)
    summary = kube.send_many([[5.9, 3.0, 5.1, 1.8]] * 20, type=request_type("iris", ns))
    assert summary.sent == 20 and summary.failed == 0
    frame = kube.responses(wait=30, count=20)
    assert len(frame) == 20
    assert set(frame["sink"]) == {f"{ns}/seldon-jupyter-collector"}
    assert (frame["t:2"] > 0.5).all()  # a virginica row
    assert frame["received_at"].is_monotonic_increasing
    # the Service names its port: the proxy path must name it too (else 503)
    assert any("/services/seldon-jupyter-collector:http/proxy/events" in path
               for _, path in server.calls)
    # the collector answers 202 with an empty body: Knative takes it as delivered once
    # (a non-empty non-CloudEvent body would be a 502, retried up to 10 times)
    assert set(mirror.deliveries()["attempts"]) == {1}
    # collecting again, or from a second backend on the same journal, adds nothing
    kube.backend.collect(ns, force=True)
    assert len(kube.responses()) == 20


def test_a_restarted_collector_is_read_from_its_start_again(cluster):
    server, kube, _ = cluster
    ns = kube.namespace
    _deploy_iris(kube, ns)
    kube.collector(kind="sink", type=response_type("iris", ns))
    kube.send([[5.1, 3.5, 1.4, 0.2]], type=request_type("iris", ns))
    assert len(kube.responses(wait=30, count=1)) == 1
    # a new pod (new instance, events numbered from 1 again) must not be skipped
    kube.delete("Deployment", "seldon-jupyter-collector")
    kube.apply(resources.collector(namespace=ns)[1], wait=True, timeout=60)
    kube.apply(resources.collector_manifests(kind="sink", namespace=ns,
                                             filter={"type": response_type("iris", ns)})[-1])
    kube.send([[5.1, 3.5, 1.4, 0.2]], type=request_type("iris", ns))
    assert len(kube.responses(wait=30, count=2)) == 2


def test_collectors_in_two_sessions_do_not_duplicate(cluster, tmp_path):
    _, kube, _ = cluster
    ns = kube.namespace
    _deploy_iris(kube, ns)
    kube.collector(kind="sink", type=response_type("iris", ns))
    kube.send_many([[6.0, 2.2, 4.0, 1.0]] * 10, type=request_type("iris", ns))
    kube.responses(wait=30, count=10)
    path, sink = kube.backend.journal_path(), f"{ns}/seldon-jupyter-collector"
    origin = journal_reader.cursor_origin(path, sink)
    assert origin is not None
    # a reader that lost the race: its cursor move from 0 is refused, nothing inserted
    assert journal_collected.store_collected(path, sink, origin, 0, 10, []) == 0
    conn = sqlite3.connect(kube.backend.journal_path())
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 10
    conn.close()


def test_forbidden_pod_logs_name_the_missing_rule(cluster):
    server, kube, _ = cluster
    ns = kube.namespace
    kube.apply([resources.broker(namespace=ns), *resources.collector_manifests(namespace=ns)])
    server.forbidden.add(("list", "pods"))
    with pytest.raises(BackendError, match='cannot list resource "pods"'):
        kube.responses()



def _display(kube, ns: str) -> None:
    _deploy_iris(kube, ns)
    kube.collector(kind="event-display", type=response_type("iris", ns))


def _send(kube, ns: str, n: int) -> None:
    assert kube.send_many([[5.1, 3.5, 1.4, 0.2]] * n, type=request_type("iris", ns)).sent == n


def _read_across(cluster, n: int, happen: str):
    """n responses read, then the kubelet does `happen` to event-display's container, then
    n more: the frame of all of them."""
    server, kube, _ = cluster
    ns = kube.namespace
    _display(kube, ns)
    _send(kube, ns, n)
    assert len(kube.responses(wait=30, count=n)) == n
    getattr(server.kubelet, happen)(ns, "event-display")
    _send(kube, ns, n)
    return kube.responses(wait=30, count=2 * n)


def test_event_display_across_log_rotation_loses_and_repeats_nothing(cluster):
    # the kubelet rotates: the API serves only the new, empty current file; a reader that
    # counted blocks would now wait for block 4 of a file that has 3
    frame = _read_across(cluster, 3, "rotate")
    assert len(frame) == 6 and frame["id"].is_unique
    assert any("sinceTime=" in p and "timestamps=true" in p for _, p in cluster[0].calls)


def test_event_display_after_a_container_restart(cluster):
    frame = _read_across(cluster, 2, "restart")
    assert len(frame) == 4 and frame["id"].is_unique


def test_event_display_under_a_mesh_is_read_from_its_own_container(backend, tmp_path):
    from seldon_jupyter.backends.kubernetes import KubernetesBackend
    from seldon_jupyter.session import Session
    from tests.kube.apiserver import ApiServer

    mirror = Session(backend, namespace="meshed")
    server = ApiServer(mirror=mirror, workdir=tmp_path / "pods", lag=0.2, mesh=True)
    server.start()
    server.namespace("meshed")
    kube = Session(KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "c", "meshed"),
                                     home=tmp_path / "home"))
    try:
        kube.apply(resources.addressable_clusterrole())
        _display(kube, "meshed")
        pod = server.kubelet.pods[("meshed", "event-display")]
        assert [c.name for c in pod.containers][0] == "linkerd-proxy"  # the proxy first
        _send(kube, "meshed", 2)
        assert len(kube.responses(wait=30, count=2)) == 2
        assert any("container=event-display" in p for _, p in server.calls)
    finally:
        kube.close()
        server.stop()
        mirror.close()


def test_a_pod_not_started_yet_is_not_yet_not_an_error(cluster):
    server, kube, _ = cluster
    ns = kube.namespace
    server.kubelet.start_delay = 3.0
    kube.apply([resources.broker(namespace=ns), *resources.collector_manifests(namespace=ns)])
    # ContainerCreating: pods/log is 400 "waiting to start", the Service has no endpoints
    assert len(kube.responses()) == 0
    assert kube.backend.collect(ns, force=True) == 0
