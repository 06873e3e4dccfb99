"""The double's pod endpoints, service proxy and cluster network (a mixin of ApiServer).

pods/log as the kubelet answers it: `container` is required when a pod has more than one
(400 naming the choices), a container not started yet is 400 `... is waiting to start:
ContainerCreating`, only the current log file is served (`previous=true` reads the
container's last instance, 400 when there is none), and `sinceTime` (inclusive),
`timestamps` and `limitBytes` are honoured. The service proxy follows tests/kube/proxy.py.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pandas as pd
from aiohttp import web

from tests.kube import proxy
from tests.kube.answers import status
from tests.kube.resources_table import Route


def _when(text: str) -> float:
    """An RFC 3339 time (nanoseconds allowed, as CRI log lines have them) in seconds."""
    return pd.Timestamp(text).timestamp()


class Workloads:
    kubelet: Any
    store: Any
    mirror: Any

    def _pods(self, request: web.Request, route: Route) -> web.Response:
        selector = request.query.get("labelSelector")
        pairs = dict(p.split("=", 1) for p in (selector or "").split(",") if p)
        pods = self.kubelet.matching(route.namespace, pairs)
        if route.name is None:
            return web.json_response({"kind": "PodList", "apiVersion": "v1",
                                      "metadata": {"resourceVersion": "1"},
                                      "items": [p.manifest() for p in pods]})
        pod = next((p for p in pods if p.name == route.name), None)
        if pod is None:
            return status(404, "NotFound", f'pods "{route.name}" not found')
        if route.subresource != "log":
            return web.json_response(pod.manifest())
        return self._log(request, pod)

    def _log(self, request: web.Request, pod: Any) -> web.Response:
        q = request.query
        names = [c.name for c in pod.containers]
        name = q.get("container")
        if not name:
            if len(names) > 1:
                return status(400, "BadRequest", f"a container name must be specified for pod "
                               f"{pod.name}, choose one of: [{' '.join(names)}]")
            name = names[0]
        container = pod.container(name)
        if container is None:
            return status(400, "BadRequest", f"container {name} is not valid for pod {pod.name}")
        if q.get("previous") == "true":
            lines = container.previous
            if lines is None:
                return status(400, "BadRequest", f'previous terminated container "{name}" in '
                               f'pod "{pod.name}" not found')
        elif container is pod.app and not pod.ready and not container.current:
            return status(400, "BadRequest", f'container "{name}" in pod "{pod.name}" is '
                           f"waiting to start: {pod.reason or 'ContainerCreating'}")
        else:
            with container.lock:
                lines = list(container.current)
        if q.get("sinceTime"):
            since = _when(q["sinceTime"])
            lines = [(ts, line) for ts, line in lines if _when(ts) >= since]
        text = "".join(f"{ts} {line}" if q.get("timestamps") == "true" else line
                       for ts, line in lines)
        body = text.encode()
        if q.get("limitBytes"):
            body = body[:int(q["limitBytes"])]
        return web.Response(body=body, content_type="text/plain")

    def _endpoint(self, namespace: str, service: dict[str, Any]) -> str | None:
        """Where a Service's traffic goes now: a ready pod, the mirror's broker, or None."""
        name = service["metadata"]["name"]
        if namespace == "knative-eventing" and name in proxy.INGRESSES:
            return self.mirror.backend.running().broker_url if self.mirror else None
        selector = service.get("spec", {}).get("selector") or {}
        ready = [p for p in self.kubelet.matching(namespace, selector) if p.ready]
        return f"http://127.0.0.1:{ready[0].port}" if ready else None

    async def _forward(self, request: web.Request, base: str, rest: str) -> web.Response:
        async with aiohttp.ClientSession() as http, http.request(
                request.method, f"{base}/{rest}", params=request.query,
                data=await request.read(),
                headers=proxy.forward_headers(request.headers)) as resp:
            headers = proxy.forward_headers(resp.headers)
            return web.Response(status=resp.status, body=await resp.read(), headers=headers)

    async def _proxy(self, request: web.Request, route: Route) -> web.Response:
        name, port = proxy.split_segment(route.name or "")
        service = self.store.get(("services", route.namespace, name))
        if service is None:
            return status(404, "NotFound", f'services "{name}" not found')
        unavailable = status(503, "ServiceUnavailable",
                              f'no endpoints available for service "{name}"')
        if proxy.pick_port(service, port) is None:
            return unavailable
        base = self._endpoint(route.namespace or "", service)
        if base is None:
            return unavailable
        rest = request.path.split("/proxy", 1)[1].lstrip("/")
        return await self._forward(request, base, rest)

    async def network(self, request: web.Request) -> web.Response:
        """The cluster network: `/<ns>/<service>/<path>` reaches the Service's pod."""
        ns, name = request.match_info["ns"], request.match_info["service"]
        service = self.store.get(("services", ns, name))
        base = self._endpoint(ns, service) if service is not None else None
        if base is None:
            return web.Response(status=503, text=f"no endpoints for {ns}/{name}")
        if self._strict_mtls(ns):
            # the pod's sidecar takes only mTLS: a plain-HTTP sender (Knative's broker-filter
            # is not in the mesh) has its connection reset
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("connection reset by the Istio sidecar")
        return await self._forward(request, base, request.match_info["rest"])

    def _strict_mtls(self, ns: str) -> bool:
        """Istio with STRICT mTLS for this namespace (its own policy, or the mesh's)."""
        namespace = self.store.get(("namespaces", "", ns)) or {}
        labels = namespace.get("metadata", {}).get("labels") or {}
        if labels.get("istio-injection") != "enabled" and not labels.get("istio.io/rev"):
            return False
        policies = [*self.store.items("peerauthentications", ns),
                    *(p for p in self.store.items("peerauthentications", "istio-system")
                      if not p.get("spec", {}).get("selector"))]
        return any(p.get("spec", {}).get("mtls", {}).get("mode") == "STRICT" for p in policies)
