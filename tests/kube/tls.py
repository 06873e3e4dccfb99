"""Certificates and kubeconfigs for the API double, as kind, minikube and kubeadm make them.

A cluster CA signs the API server's certificate, whose only name is `kubernetes.double`
(not 127.0.0.1), so a client must send `tls-server-name` to verify it, and a client
certificate whose CN is the user name and O its group: the way kubeadm's admin.conf
authenticates, with no token at all. `trustme` (cryptography underneath) makes them.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
from pathlib import Path
from typing import Any

import trustme

SERVER_NAME = "kubernetes.double"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Pki:
    """One cluster CA, the API server's certificate, and client certificates on demand."""

    def __init__(self) -> None:
        self.ca = trustme.CA(organization_name="double-cluster")
        self.server = self.ca.issue_cert(SERVER_NAME)

    def server_context(self) -> ssl.SSLContext:
        """TLS for the API server: any client may connect; a client certificate signed by
        the cluster CA, when presented, is verified and names the user."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(ctx)
        self.ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def client(self, user: str, group: str = "system:authenticated") -> trustme.LeafCert:
        return self.ca.issue_cert(f"{user}.client", common_name=user, organization_name=group)

    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()


def _config(server: str, namespace: str | None, user: dict[str, Any], cluster: dict[str, Any]
            ) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": "double", "user": "tester"}
    if namespace:
        context["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Config", "current-context": "double",
            "clusters": [{"name": "double", "cluster": {"server": server, **cluster}}],
            "users": [{"name": "tester", "user": user}],
            "contexts": [{"name": "double", "context": context}]}


def kubeconfig(path: Path, server: str, pki: Pki, *, namespace: str | None = "default",
               user: str = "tester", auth: str = "cert", token: str = "",
               exec_script: Path | None = None, proxy_url: str | None = None) -> str:
    """A kubeconfig for the double: `auth` is "cert" (kind/kubeadm style client
    certificate, the default), "token" (a bearer token) or "exec" (an ExecCredential
    plugin that prints a token), always with the CA and tls-server-name; `proxy_url`
    sends everything through an HTTP proxy (tests/kube/connect_proxy.py)."""
    cluster = {"certificate-authority-data": _b64(pki.ca_pem()),
               "tls-server-name": SERVER_NAME}
    if proxy_url:
        cluster["proxy-url"] = proxy_url
    if auth == "cert":
        leaf = pki.client(user)
        entry: dict[str, Any] = {
            "client-certificate-data": _b64(leaf.cert_chain_pems[0].bytes()),
            "client-key-data": _b64(leaf.private_key_pem.bytes())}
    elif auth == "token":
        entry = {"token": token}
    elif auth == "exec":
        assert exec_script is not None
        entry = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                          "command": sys.executable, "args": [str(exec_script)],
                          "interactiveMode": "Never"}}
    else:
        raise ValueError(auth)
    path.write_text(json.dumps(_config(server, namespace, entry, cluster)))
    return str(path)
