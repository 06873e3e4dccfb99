"""Fixtures: the API-server double, alone or mirroring a real local broker and models."""

from __future__ import annotations

import itertools

import pytest

from seldon_jupyter.backends.kubernetes import KubernetesBackend
from seldon_jupyter.session import Session
from tests.kube.apiserver import ApiServer, kubeconfig

_names = itertools.count()


@pytest.fixture
def apiserver(tmp_path):
    server = ApiServer(workdir=tmp_path / "pods")
    url = server.start()
    yield server, url
    server.stop()


@pytest.fixture
def kube(apiserver, tmp_path):
    """A Session on the kubernetes backend against the double (no data plane behind it)."""
    server, url = apiserver
    backend = KubernetesBackend(kubeconfig=kubeconfig(tmp_path / "config", url, "team-a"),
                                home=tmp_path / "kube-home")
    yield server, Session(backend, namespace="team-a")
    backend.close()


@pytest.fixture
def cluster(backend, tmp_path):
    """The double in front of the real local data plane: (server, kube Session, mirror)."""
    ns = f"k{next(_names)}"
    mirror = Session(backend, namespace=ns)
    server = ApiServer(mirror=mirror, workdir=tmp_path / "pods")
    url = server.start()
    kube_backend = KubernetesBackend(kubeconfig=kubeconfig(tmp_path / "config", url, ns),
                                     home=tmp_path / "kube-home")
    yield server, Session(kube_backend, namespace=ns), mirror
    kube_backend.close()
    server.stop()
    mirror.close()
