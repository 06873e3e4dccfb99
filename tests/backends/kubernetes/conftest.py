"""Fixtures: the API-server double over TLS, alone or in front of a real local data plane.

Users authenticate with a client certificate, as kind / kubeadm kubeconfigs do; the
namespaces a test uses are created by the "cluster admin" first, as on a real cluster.
"""

from __future__ import annotations

import itertools

import pytest

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes import KubernetesBackend
from seldon_jupyter.session import Session
from tests.kube.apiserver import ApiServer

_names = itertools.count()


@pytest.fixture
def apiserver(tmp_path):
    server = ApiServer(workdir=tmp_path / "pods", lag=0.2, start_delay=0.3)
    url = server.start()
    server.namespace("team-a")
    yield server, url
    server.stop()


@pytest.fixture
def kube(apiserver, tmp_path):
    """A Session on the kubernetes backend against the double (no data plane behind it)."""
    server, _ = apiserver
    backend = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "config", "team-a"),
                                home=tmp_path / "kube-home")
    yield server, Session(backend)
    backend.close()


@pytest.fixture
def cluster(backend, tmp_path):
    """The double in front of the real local data plane: (server, kube Session, mirror).

    The addressable ClusterRole is applied first, as the README asks a cluster admin to."""
    ns = f"k{next(_names)}"
    mirror = Session(backend, namespace=ns)
    server = ApiServer(mirror=mirror, workdir=tmp_path / "pods", lag=0.2, start_delay=0.3)
    server.start()
    server.namespace(ns)
    kube_backend = KubernetesBackend(kubeconfig=server.kubeconfig(tmp_path / "config", ns),
                                     home=tmp_path / "kube-home")
    session = Session(kube_backend)
    session.apply(resources.addressable_clusterrole())
    yield server, session, mirror
    kube_backend.close()
    server.stop()
    mirror.close()
