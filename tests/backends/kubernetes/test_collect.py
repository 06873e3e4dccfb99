"""Responses read back from the cluster's sinks: the kit's collector and event-display logs."""

from __future__ import annotations

import sqlite3

import pytest

from seldon_jupyter import journal, journal_reader, resources
from seldon_jupyter.errors import BackendError
from seldon_jupyter.naming import request_type, response_type


def _deploy_iris(kube, ns: str) -> None:
    kube.apply([resources.broker(namespace=ns),
                resources.seldon_deployment("iris", namespace=ns),
                resources.trigger("to-iris", namespace=ns, deployment="iris",
                                  filter={"type": request_type("iris", ns)})],
               wait=True, timeout=120)


def test_the_kits_collector_is_read_through_the_service_proxy_exactly_once(cluster):
    server, kube, _ = cluster
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
    assert any("/services/seldon-jupyter-collector/proxy/events" in path
               for _, path in server.calls)
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
    assert journal.store_collected(path, sink, origin, 0, 10, []) == 0
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

