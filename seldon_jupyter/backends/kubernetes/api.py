"""A thin JSON client over the official `kubernetes` package, with errors translated.

Configuration is found as client-go and kubectl find it: `kubeconfig=` or `$KUBECONFIG`
or `~/.kube/config` when present, the in-cluster service account only otherwise; the
namespace is the context's (or the service account's). Requests go through the client's
own serialisation, auth and TLS (client certificate, CA, tls-server-name, proxy, tokens
refreshed by exec/OIDC plugins). A 429 is retried after its Retry-After; every other
failure becomes one of the package's errors with the API server's reason. A missing API
group is recognised by status code and discovery (`GET /apis/<group>`), never by the
wording of a 404, and only an RBAC denial gets the RBAC hint.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from seldon_jupyter.backends.kubernetes.rbac import denial_hint
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError
from seldon_jupyter.sender import BUSY_TRIES, retry_after, status_of

CRD_GROUPS = {"machinelearning.seldon.io": "Seldon Core",
              "eventing.knative.dev": "Knative Eventing",
              "serving.kserve.io": "KServe"}
TIMEOUT = 30.0
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubeconfig_file(kubeconfig: str | None) -> str | None:
    """The kubeconfig to read, as client-go picks it (read now, not at import time):
    the one given, `$KUBECONFIG` (files joined by the path separator, merged) when one of
    them exists, else `~/.kube/config` when it exists, else None (in-cluster)."""
    if kubeconfig:
        return kubeconfig
    listed = os.environ.get("KUBECONFIG", "")
    if any(Path(p).expanduser().exists() for p in listed.split(os.pathsep) if p):
        return listed
    home = Path("~/.kube/config").expanduser()
    return str(home) if home.exists() else None


def load(kubeconfig: str | None = None, context: str | None = None,
         in_cluster: bool | None = None) -> tuple[client.ApiClient, str, bool]:
    """An ApiClient, the namespace to use when none is given, and whether the in-cluster
    service account was used."""
    kubeconfig = kubeconfig_file(kubeconfig)
    use_cluster = in_cluster if in_cluster is not None else (
        kubeconfig is None and bool(os.environ.get("KUBERNETES_SERVICE_HOST")))
    try:
        if use_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            namespace_file = SERVICE_ACCOUNT / "namespace"
            namespace = (namespace_file.read_text().strip() if namespace_file.exists()
                         else "default")
            return client.ApiClient(configuration), namespace, True
        configuration = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, context=context,
                                client_configuration=configuration)
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        if context:
            active = next((c for c in contexts if c["name"] == context), active)
        namespace = (active or {}).get("context", {}).get("namespace") or "default"
        return client.ApiClient(configuration), namespace, False
    except (ConfigException, OSError, TypeError) as exc:
        inside = use_cluster and not (SERVICE_ACCOUNT / "token").exists()
        raise BackendError(
            f"no usable Kubernetes configuration: {exc}",
            hint="this pod mounts no service-account token (JupyterHub's default): set "
                 "KUBECONFIG or mount a token" if inside else
                 "set KUBECONFIG, pass kubeconfig=/context=, or run in a pod") from exc


def _group_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "apis" else None


class Api:
    """JSON in, JSON out, over one configured ApiClient."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client
        self.sleep = time.sleep

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host).rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header as of now (exec/OIDC tokens are refreshed when due)."""
        headers: dict[str, str] = {}
        self.api_client.update_params_for_auth(headers, [], ["BearerToken"], "", "GET", None)
        return headers

    # -- errors -----------------------------------------------------------------------------

    def translate(self, code: int, body: str, method: str, path: str) -> Exception:
        st = status_of(body)
        message = st.get("message") or body.strip() or f"HTTP {code}"
        where = f"{method} {path}"
        if code == 401:
            return BackendError(f"the API server refused the credentials for {where}: "
                                f"{message}", hint="your kubeconfig credentials were refused "
                                "or expired: log in again (kubectl get ns tells)")
        if code == 403:
            rbac = " cannot " in message and " resource " in message or "cannot get path" \
                in message
            return BackendError(f"the API server refused {where}: {message}",
                                hint=denial_hint(message) if rbac else None)
        if code == 404:
            group = _group_of(path)
            if not st and group is not None:  # not a Status: the API server has no such path
                missing = self.missing_group(group, path.split("/")[3])
                if missing:
                    return missing
            details = st.get("details") or {}
            if details.get("kind") == "namespaces":
                return NotFoundError(message, hint=f"create it first: kubectl create namespace "
                                     f"{details.get('name')}")
            return NotFoundError(message)
        if code == 409:
            if message.startswith("Apply failed"):
                return BackendError(f"conflict on {path}: {message}", hint="another field "
                                    "manager owns these fields; apply with force=True to take "
                                    "them over")
            return BackendError(f"conflict on {path}: {message}",
                                hint="someone else changed it; apply again to retry on the new "
                                "version")
        if code in (400, 422):
            return ManifestError(f"the API server rejected the manifest: {message}")
        return BackendError(f"the API server answered {code} for {where}: {message}")

    def missing_group(self, group: str, version: str) -> Exception | None:
        """Discovery: is `group` (at `version`) served? An error naming it when it is not."""
        name = CRD_GROUPS.get(group, group)
        try:
            found = self._raw("GET", f"/apis/{group}")
        except BackendError:
            return None
        if found[0] == 404:
            return BackendError(f"{name} is not installed in this cluster (the API server "
                                f"serves no {group} API group)",
                                hint=f"install {name} (its {group} CRDs) first; "
                                "seldon-jupyter doctor checks what is there")
        served = [v.get("version") for v in (json.loads(found[1] or "{}").get("versions") or [])]
        if found[0] == 200 and version not in served:
            return BackendError(f"{name} in this cluster serves {group} "
                                f"{', '.join(map(str, served))}, not {version}",
                                hint="use a served apiVersion in the manifest")
        return None

    # -- requests ---------------------------------------------------------------------------

    def _raw(self, method: str, path: str, body: Any = None,
             query: list[tuple[str, str]] | None = None, *, content_type: str | None = None,
             accept: str = "application/json", stream: bool = False,
             timeout: float | None = TIMEOUT) -> tuple[int, str, Any]:
        """(status, body text, response) after 429 retries; network errors translated."""
        for attempt in range(BUSY_TRIES):
            headers = {"Accept": accept}
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
            try:
                serialized = self.api_client.param_serialize(
                    method, path, query_params=query or [], header_params=headers, body=body,
                    auth_settings=["BearerToken"])
                response: Any = self.api_client.call_api(
                    *serialized, _request_timeout=timeout)
                if not stream or response.status >= 300:
                    response.read()
            except ApiException as exc:  # raised by some client versions' call_api
                code, text = int(exc.status or 0), str(exc.body or "")
                if code != 429:
                    return code, text, None
                response = None
            except (HTTPError, OSError) as exc:
                raise BackendError(f"the Kubernetes API server at {self.host} is unreachable: "
                                   f"{exc}", hint="check the cluster is up and KUBECONFIG "
                                   "points at it") from exc
            code = int(response.status) if response is not None else 429
            wait = retry_after(code, response.headers if response is not None else {}, attempt)
            if wait is None:
                text = "" if stream and code < 300 else (response.data or b"").decode(
                    errors="replace")
                return code, text, response
            self.sleep(wait)
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, body: Any = None,
                query: list[tuple[str, str]] | None = None, *, text: bool = False,
                content_type: str | None = None) -> Any:
        """JSON (or with text=True the body as text, e.g. a pod log) from the API server."""
        code, data, _ = self._raw(method, path, body, query, content_type=content_type,
                                  accept="*/*" if text else "application/json")
        if code >= 400:
            raise self.translate(code, data, method, path)
        if text:
            return data
        try:
            return json.loads(data) if data else None
        except ValueError as exc:
            raise BackendError(f"{method} {path} did not answer JSON: {data[:200]!r}") from exc

    def attempt(self, method: str, path: str, query: list[tuple[str, str]] | None = None,
                *, text: bool = False) -> tuple[int, Any]:
        """(status, JSON, or the body's text when `text` or the status is not 2xx) without
        raising: for callers to whom a 503 or a 400 'waiting to start' means "not yet", and
        who pass the text to `translate` otherwise."""
        code, data, _ = self._raw(method, path, None, query,
                                  accept="*/*" if text else "application/json")
        if text or code >= 300:
            return code, data
        return code, json.loads(data) if data else None

    def watch(self, path: str, resource_version: str, timeout: float,
              query: list[tuple[str, str]] | None = None
              ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, object) events of a watch from `resource_version`, for up to `timeout` s."""
        params = [("watch", "1"), ("resourceVersion", resource_version),
                  ("timeoutSeconds", str(max(1, int(timeout)))), *(query or [])]
        code, data, response = self._raw("GET", path, None, params, stream=True,
                                         timeout=timeout + 10)
        if code >= 300:
            raise self.translate(code, data, "GET", path)
        try:
            buffer = b""
            for chunk in response.response.stream(4096):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        event = json.loads(line)
                        yield event.get("type", ""), event.get("object") or {}
        except (HTTPError, OSError):
            return  # the server ended the watch: the caller lists and watches again
        finally:
            response.response.release_conn()

    def close(self) -> None:
        self.api_client.close()
