"""The API server's service proxy and the cluster network behind it, as the double has them.

`/api/v1/namespaces/<ns>/services/<seg>/proxy/<path>` resolves `<seg>` the way
`pkg/registry/core/service/storage/storage.go` ResourceLocation does: `name`, `name:port`
or `scheme:name:port`. When the Service's ports are named, a request that names none gets
503 `no endpoints available for service "<name>"`, as does a Service with no ready
endpoint (a pod not started yet). Knative's `knative-eventing/broker-ingress` and
`kafka-broker-ingress` are Services with named ports (`http`, `https`, `http-metrics`)
whose endpoint is the real local broker the double mirrors into.
"""

from __future__ import annotations

from typing import Any

INGRESSES = {
    "broker-ingress": [{"name": "http", "port": 80, "targetPort": 8080},
                       {"name": "https", "port": 443, "targetPort": 8443},
                       {"name": "http-metrics", "port": 9092, "targetPort": 9092}],
    "kafka-broker-ingress": [{"name": "http", "port": 80, "targetPort": 8080},
                             {"name": "http-metrics", "port": 9090, "targetPort": 9090}],
}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "authorization",
              "content-length"}


def ingress_services() -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": name, "namespace": "knative-eventing",
                          "labels": {"eventing.knative.dev/brokerRole": "ingress"}},
             "spec": {"selector": {"app": name}, "ports": ports}}
            for name, ports in INGRESSES.items()]


def split_segment(segment: str) -> tuple[str, str]:
    """(service name, port) from `name`, `name:port` or `scheme:name:port`."""
    parts = segment.split(":")
    if len(parts) == 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return parts[0], ""


def pick_port(service: dict[str, Any], port: str) -> dict[str, Any] | None:
    """The Service port a proxy request means, or None (the API server's 503)."""
    ports = service.get("spec", {}).get("ports") or []
    if not port:
        if any(p.get("name") for p in ports):
            return None  # named ports: the request must name one
        return ports[0] if ports else None
    return next((p for p in ports if p.get("name") == port or str(p.get("port")) == port),
                None)


def forward_headers(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
