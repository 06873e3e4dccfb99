"""A thin JSON client over the official `kubernetes` package, with errors translated.

Configuration comes from a kubeconfig (file, context) or the in-cluster service account;
requests go through the client's own serialisation, auth and TLS. Every failure becomes
one of the package's errors with the API server's reason, and RBAC denials name the verb
and resource that is missing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError

CRD_GROUPS = {"machinelearning.seldon.io": "Seldon Core",
              "eventing.knative.dev": "Knative Eventing"}
TIMEOUT = 30.0


def load(kubeconfig: str | None = None, context: str | None = None,
         in_cluster: bool | None = None) -> tuple[client.ApiClient, str, bool]:
    """An ApiClient, the context's namespace (default 'default'), and whether the
    in-cluster service account was used."""
    try:
        if in_cluster or (in_cluster is None and kubeconfig is None and _in_cluster()):
            config.load_incluster_config()
            configuration = client.Configuration.get_default_copy()
            with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace") as handle:
                return client.ApiClient(configuration), handle.read().strip(), True
        configuration = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, context=context,
                                client_configuration=configuration)
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)
        if context:
            contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
            active = next((c for c in contexts if c["name"] == context), active)
        namespace = (active or {}).get("context", {}).get("namespace") or "default"
        return client.ApiClient(configuration), namespace, False
    except (ConfigException, OSError, TypeError) as exc:
        raise BackendError(f"no usable Kubernetes configuration: {exc}",
                           hint="set KUBECONFIG, pass kubeconfig=/context=, or run in a pod") \
            from exc


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def _status_message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body or "{}").get("message") or exc.reason or ""
    except ValueError:
        return exc.body or exc.reason or ""


def translate(exc: ApiException, method: str, path: str) -> Exception:
    message = _status_message(exc)
    group = next((g for g in CRD_GROUPS if f"/apis/{g}/" in path), None)
    if exc.status in (401, 403):
        hint = ("your kubeconfig credentials were refused" if exc.status == 401 else
                "grant the missing RBAC rule (see the README's 'RBAC' section)")
        return BackendError(f"the API server refused {method} {path}: {message}", hint=hint)
    if exc.status == 404:
        if group and "could not find the requested resource" in message:
            return BackendError(f"{CRD_GROUPS[group]} not found in this cluster: {message}",
                                hint=f"install {CRD_GROUPS[group]} (its {group} CRDs) first")
        return NotFoundError(message or f"{path} not found")
    if exc.status == 409:
        return BackendError(f"conflict on {path}: {message}",
                            hint="someone else changed it; apply again to retry on the new "
                            "version")
    if exc.status in (400, 422):
        return ManifestError(f"the API server rejected the manifest: {message}")
    return BackendError(f"the API server answered {exc.status} for {method} {path}: {message}")


class Api:
    """JSON in, JSON out, over one configured ApiClient."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host).rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        self.api_client.update_params_for_auth(headers, [], ["BearerToken"], "", "GET", None)
        return headers

    def request(self, method: str, path: str, body: Any = None,
                query: list[tuple[str, str]] | None = None, *, text: bool = False) -> Any:
        """JSON (or with text=True the body as text, e.g. a pod log) from the API server."""
        try:
            serialized = self.api_client.param_serialize(
                method, path, query_params=query or [],
                header_params={"Accept": "*/*" if text else "application/json",
                               **({"Content-Type": "application/json"} if body is not None
                                  else {})},
                body=body, auth_settings=["BearerToken"])
            response: Any = self.api_client.call_api(*serialized, _request_timeout=TIMEOUT)
            response.read()
        except ApiException as exc:
            raise translate(exc, method, path) from exc
        except (HTTPError, OSError) as exc:
            raise BackendError(f"the Kubernetes API server at {self.host} is unreachable: "
                               f"{exc}", hint="check the cluster is up and KUBECONFIG points "
                               "at it") from exc
        if response.status >= 400:
            raise translate(ApiException(status=response.status, reason=response.reason,
                                         body=response.data.decode(errors="replace")),
                            method, path)
        if text:
            return response.data.decode(errors="replace")
        try:
            return json.loads(response.data) if response.data else None
        except ValueError as exc:
            raise BackendError(f"{method} {path} did not answer JSON: "
                               f"{response.data[:200]!r}") from exc

    def close(self) -> None:
        self.api_client.close()
