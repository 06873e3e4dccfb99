"""Where things are on a cluster: REST paths per kind and apiVersion, and proxy targets.

One home for the URL rules: a manifest's own `apiVersion` decides its path (Seldon serves
v1, v1alpha2 and v1alpha3); `namespace=None` is the cluster-wide list path. A Broker's
`status.address.url` (e.g. `http://broker-ingress.knative-eventing.svc.cluster.local/ns/
name`, or the Kafka broker's `kafka-broker-ingress`) names the Service, its namespace,
port and path; through the API server's service proxy that Service must be addressed with
its port NAME when its ports are named (`broker-ingress:http`), else the proxy answers 503.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from seldon_jupyter.backends.base import SendTarget
from seldon_jupyter.errors import BackendError, ManifestError

if TYPE_CHECKING:
    from seldon_jupyter.backends.kubernetes.api import Api

KINDS: dict[str, tuple[str, str]] = {  # kind -> (default apiVersion, plural)
    "SeldonDeployment": ("machinelearning.seldon.io/v1", "seldondeployments"),
    "Broker": ("eventing.knative.dev/v1", "brokers"),
    "Trigger": ("eventing.knative.dev/v1", "triggers"),
    "Service": ("v1", "services"),
    "ConfigMap": ("v1", "configmaps"),
    "Pod": ("v1", "pods"),
    "Deployment": ("apps/v1", "deployments"),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles"),
    "InferenceService": ("serving.kserve.io/v1beta1", "inferenceservices"),
}
CLUSTER_SCOPED = ("ClusterRole",)


def prefix(api_version: str) -> str:
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


def path(kind: str, namespace: str | None, name: str | None = None, *,
         api_version: str | None = None) -> str:
    """The REST path of a kind (namespace None: the cluster-wide list)."""
    try:
        default, plural = KINDS[kind]
    except KeyError:
        raise ManifestError(f"the kubernetes backend does not manage {kind!r}",
                            hint=f"supported: {', '.join(KINDS)}") from None
    base = prefix(api_version or default)
    if namespace is None or kind in CLUSTER_SCOPED:
        where = f"{base}/{plural}"
    else:
        where = f"{base}/namespaces/{namespace}/{plural}"
    return where + (f"/{name}" if name else "")


def service_of(url: str) -> tuple[str, str, int, str, str]:
    """(service, namespace, port, path, scheme) of an in-cluster URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").split(".")
    if len(host) < 2 or (len(host) > 2 and host[2] != "svc"):
        raise BackendError(f"{url} is not a cluster Service address",
                           hint="pass broker_url= to send somewhere else")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host[0], host[1], port, parts.path or "/", parts.scheme or "http"


def port_segment(service: dict[str, Any], port: int) -> str:
    """`name:portname` (or `name:port` for an unnamed port) for the proxy path."""
    name = service["metadata"]["name"]
    for entry in service.get("spec", {}).get("ports") or []:
        if int(entry.get("port", 0)) == port:
            return f"{name}:{entry['name']}" if entry.get("name") else f"{name}:{port}"
    raise BackendError(f"Service {service['metadata'].get('namespace')}/{name} has no port "
                       f"{port}", hint="the Broker's address and its Service disagree: check "
                       "the broker's installation")


def proxy_path(api: Api, namespace: str, service_name: str, port: int) -> str:
    service = api.request("GET", path("Service", namespace, service_name))
    return (f"/api/v1/namespaces/{namespace}/services/{port_segment(service, port)}"
            "/proxy")


def proxied(api: Api, address: str) -> SendTarget:
    """A SendTarget reaching `address` through the API server's service proxy, with the
    kubeconfig's TLS identity and auth."""
    service, namespace, port, rest, _ = service_of(address)
    url = api.host + proxy_path(api, namespace, service, port) + rest
    return identity(api, url)


def identity(api: Api, url: str) -> SendTarget:
    cfg = api.api_client.configuration
    verify: bool | str = cfg.ssl_ca_cert or bool(cfg.verify_ssl)
    cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file and cfg.key_file else None
    return SendTarget(url, verify=verify, cert=cert, server_hostname=cfg.tls_server_name or None,
                      proxy=cfg.proxy or None, auth=api.auth_headers)
