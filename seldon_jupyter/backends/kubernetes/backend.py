"""The kubernetes backend: SeldonDeployments, Brokers and Triggers on a real cluster.

Apply is create-or-replace that keeps resourceVersion semantics (a concurrent change is a
conflict, not a silent overwrite); status comes from what Seldon's and Knative's
controllers write, read through the same `summarize` as the local backend. Events are
sent through the API server's service proxy to the broker ingress, straight to the broker
address from inside the cluster, or to a URL the user gives.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import platformdirs

from seldon_jupyter import journal, resources
from seldon_jupyter.backends.base import Resource, SendTarget, summarize
from seldon_jupyter.backends.kubernetes.api import Api, load
from seldon_jupyter.backends.kubernetes.collect import Collector
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError, SeldonJupyterError

KINDS: dict[str, tuple[str, str]] = {
    "SeldonDeployment": ("/apis/machinelearning.seldon.io/v1", "seldondeployments"),
    "Broker": ("/apis/eventing.knative.dev/v1", "brokers"),
    "Trigger": ("/apis/eventing.knative.dev/v1", "triggers"),
    "Service": ("/api/v1", "services"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Deployment": ("/apis/apps/v1", "deployments"),
}
LISTED = ("Broker", "Trigger", "SeldonDeployment")
SUPPORT = ("Deployment", "Service", "ConfigMap")  # listed when the kit made them
MANAGED = "=".join(resources.MANAGED_BY)
COLLECT_EVERY = 0.3  # seconds: the least time between two pulls from the cluster's sinks
INGRESS = ("knative-eventing", "broker-ingress")


def path(kind: str, namespace: str | None, name: str | None = None) -> str:
    """The REST path of a kind in a namespace (namespace None: the cluster-wide list)."""
    try:
        prefix, plural = KINDS[kind]
    except KeyError:
        raise ManifestError(f"the kubernetes backend does not manage {kind!r}",
                            hint=f"supported: {', '.join(KINDS)}") from None
    if namespace is None:
        return f"{prefix}/{plural}"
    return f"{prefix}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


class KubernetesBackend:
    name = "kubernetes"

    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None,
                 in_cluster: bool | None = None, broker_url: str | None = None,
                 home: str | os.PathLike[str] | None = None) -> None:
        api_client, self.default_namespace, self.in_cluster = load(kubeconfig, context,
                                                                   in_cluster)
        self.api = Api(api_client)
        self.broker_override = broker_url
        self.context = context or "current"
        self.home = Path(home or os.environ.get("SELDON_JUPYTER_HOME") or
                         platformdirs.user_data_dir("seldon-jupyter"))
        self.home.mkdir(parents=True, exist_ok=True)
        self.collector = Collector(self.api, self.journal_path())
        self._collected: dict[str, float] = {}

    # -- resources --------------------------------------------------------------------------

    def _apply_one(self, m: dict[str, Any]) -> dict[str, Any]:
        kind, meta = m["kind"], m["metadata"]
        ns, name = meta.get("namespace", self.default_namespace), meta["name"]
        body = {k: v for k, v in m.items() if k != "status"}
        try:
            current = self.api.request("GET", path(kind, ns, name))
        except NotFoundError:
            created: dict[str, Any] = self.api.request("POST", path(kind, ns), body)
            return created
        body["metadata"] = {**meta, "resourceVersion": current["metadata"]["resourceVersion"]}
        if kind == "Service":  # clusterIP is immutable once assigned
            for field in ("clusterIP", "clusterIPs"):
                if field in current.get("spec", {}):
                    body.setdefault("spec", {}).setdefault(field, current["spec"][field])
        replaced: dict[str, Any] = self.api.request("PUT", path(kind, ns, name), body)
        return replaced

    def apply(self, manifests: list[dict[str, Any]]) -> list[Resource]:
        return [summarize(self._apply_one(m)) for m in manifests]

    def get(self, kind: str, namespace: str, name: str) -> Resource:
        return summarize(self.api.request("GET", path(kind, namespace, name)))

    def list(self, namespace: str | None = None) -> list[Resource]:
        """Brokers, Triggers and SeldonDeployments, plus the Deployments, Services and
        ConfigMaps the kit labelled as its own (the namespace's others are not ours).
        `namespace=None` lists every namespace (the cluster-wide list paths)."""
        found: list[Resource] = []
        for kind in (*LISTED, *SUPPORT):
            query = [("labelSelector", MANAGED)] if kind in SUPPORT else None
            for item in self.api.request("GET", path(kind, namespace), query=query).get(
                    "items", []):
                item.setdefault("kind", kind)
                found.append(summarize(item))
        return found

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.api.request("DELETE", path(kind, namespace, name))

    # -- events -----------------------------------------------------------------------------

    def send_target(self, namespace: str, broker: str) -> SendTarget:
        if self.broker_override:
            return SendTarget(self.broker_override.rstrip("/"))
        if self.in_cluster:
            url = self.get("Broker", namespace, broker).address
            if not url:
                raise BackendError(f"Broker {namespace}/{broker} has no address yet",
                                   hint="wait until it is Ready")
            return SendTarget(url)
        ingress_ns, ingress = INGRESS
        configuration = self.api.api_client.configuration
        verify: bool | str = configuration.ssl_ca_cert or bool(configuration.verify_ssl)
        return SendTarget(f"{self.api.host}/api/v1/namespaces/{ingress_ns}/services/{ingress}"
                          f"/proxy/{namespace}/{broker}", headers=self.api.auth_headers(),
                          verify=verify)

    def collect(self, namespace: str | None = None, *, force: bool = False) -> int:
        """Pull new events from the namespace's sinks into the journal (rate-limited);
        `namespace=None`: the sinks of every namespace the kit has a collector in."""
        if namespace is None:
            spaces = {r.namespace for r in self.list(None) if r.kind == "Service"}
            return sum(self.collect(ns, force=force) for ns in sorted(spaces))
        ns = namespace
        now = time.monotonic()
        if not force and now - self._collected.get(ns, -COLLECT_EVERY) < COLLECT_EVERY:
            return 0
        self._collected[ns] = now
        return self.collector.collect(ns)

    def journal_path(self) -> Path:
        path = self.home / f"kubernetes-{self.context}.sqlite"
        return path if path.exists() else journal.ensure(path)

    def start(self) -> dict[str, Any]:
        """Nothing to start: the cluster runs by itself."""
        return self.describe()

    def stop(self) -> bool:
        return False

    def describe(self) -> dict[str, Any]:
        """The API server, context and default namespace (one cheap request for `running`)."""
        try:
            self.api.request("GET", "/version")
            running = True
        except SeldonJupyterError:
            running = False
        return {"backend": self.name, "home": str(self.home), "host": self.api.host,
                "context": self.context, "namespace": self.default_namespace,
                "in_cluster": self.in_cluster, "running": running}

    def close(self) -> None:
        self.api.close()
