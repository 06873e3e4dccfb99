"""A stateful Kubernetes API-server double on 127.0.0.1 (the one stand-in the brief allows).

It stores objects with uid, resourceVersion and generation; POST of an existing name is
409 AlreadyExists, PUT with a stale resourceVersion is 409 Conflict, unknown objects are
404 NotFound, CRD groups can be "not installed", and (verb, plural) pairs can be forbidden
with the API server's RBAC message. SeldonDeployments and Triggers are checked against the
real CRD schemas (422 Invalid, unknown fields pruned). It also plays the controllers and
the kubelet: Seldon sets state/address, Knative sets Ready/subscriberUri, Deployments of
the kit's collector and of event_display run as local processes whose stdout is the pod
log; `services/<name>/proxy/...` reaches those processes, and the broker-ingress proxy
reaches a real local broker that mirrors the Brokers, Triggers and SeldonDeployments.
"""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.kube import crd
from tests.kube.pods import Kubelet

GROUPS = {"machinelearning.seldon.io": {"seldondeployments": "SeldonDeployment"},
          "eventing.knative.dev": {"brokers": "Broker", "triggers": "Trigger"},
          "apps": {"deployments": "Deployment"}}
CORE = {"services": "Service", "configmaps": "ConfigMap", "pods": "Pod"}
MIRRORED = ("SeldonDeployment", "Broker", "Trigger")


def status(code: int, reason: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "message": message, "reason": reason, "details": details,
                              "code": code}, status=code)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selected(labels: dict[str, str], selector: str | None) -> bool:
    pairs = [p.split("=", 1) for p in (selector or "").split(",") if p]
    return all(labels.get(k) == v for k, v in pairs)


class ApiServer:
    def __init__(self, *, mirror: Any = None, workdir: Path | None = None) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.version = 0
        self.forbidden: set[tuple[str, str]] = set()
        self.missing_groups: set[str] = set()
        self.mirror = mirror  # a seldon_jupyter Session on the local backend, or None
        self.calls: list[tuple[str, str]] = []
        self.schemas = crd.load()
        self._tmp = tempfile.TemporaryDirectory() if workdir is None else None
        self.kubelet = Kubelet(workdir or Path(self._tmp.name))
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    # -- controllers ------------------------------------------------------------------------

    def _ready(self, ok: bool = True, reason: str = "", kind: str = "Ready") -> list[dict]:
        cond = {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": _now()}
        if reason:
            cond["reason"] = reason
        return [cond]

    def _reconcile(self) -> None:
        for (plural, ns, name), obj in self.objects.items():
            if plural == "seldondeployments":
                first = obj["spec"]["predictors"][0]["name"]
                obj["status"] = {"state": "Available", "address": {
                    "url": f"http://{name}-{first}.{ns}.svc.cluster.local:8000/api/v1.0/"
                           "predictions"}}
            elif plural == "brokers":
                obj["status"] = {"address": {
                    "url": f"http://broker-ingress.knative-eventing.svc.cluster.local/{ns}/{name}"},
                    "conditions": self._ready()}
            elif plural == "triggers":
                obj["status"] = self._trigger_status(obj, ns)
            elif plural == "deployments":
                pod = self.kubelet.pods.get((ns, name))
                up = pod is not None and pod.port is not None
                obj["status"] = {"replicas": 1, "readyReplicas": int(up),
                                 "conditions": self._ready(up, pod.reason if pod else "",
                                                           kind="Available")}

    def _trigger_status(self, obj: dict, ns: str) -> dict:
        spec = obj["spec"]
        if ("brokers", ns, spec.get("broker", "default")) not in self.objects:
            return {"conditions": self._ready(False, "BrokerDoesNotExist")}
        sub = spec.get("subscriber", {})
        ref, uri = sub.get("ref"), sub.get("uri")
        base = None
        if ref:
            plural = {"SeldonDeployment": "seldondeployments", "Service": "services"}.get(
                ref["kind"], "")
            target = self.objects.get((plural, ref.get("namespace", ns), ref["name"]))
            if target is None:
                return {"conditions": self._ready(False, "SubscriberResolved")}
            base = (target.get("status", {}).get("address", {}).get("url") if
                    plural == "seldondeployments" else
                    f"http://{ref['name']}.{ns}.svc.cluster.local/")
        url = uri if uri and not base else (base.rstrip("/") + uri if uri else base)
        return {"subscriberUri": url, "conditions": self._ready()}

    def _service_pod_url(self, ns: str, service: str) -> str | None:
        svc = self.objects.get(("services", ns, service))
        if svc is None:
            return None
        pods = self.kubelet.matching(ns, svc.get("spec", {}).get("selector") or {})
        running = [p for p in pods if p.port]
        return f"http://127.0.0.1:{running[0].port}" if running else None

    # -- REST -------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        group = request.match_info.get("group")
        ns, name = request.match_info.get("ns"), request.match_info.get("name")
        plural = request.match_info["plural"]
        kind = (GROUPS.get(group, {}) if group else CORE).get(plural)
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update",
                "DELETE": "delete"}.get(request.method, "")
        self.calls.append((request.method, request.path_qs))
        if group in self.missing_groups or kind is None or not verb:
            return status(404, "NotFound", "the server could not find the requested resource")
        if (verb, plural) in self.forbidden:
            return status(403, "Forbidden",
                          f'{plural}{"." + group if group else ""} is forbidden: User "tester" '
                          f'cannot {verb} resource "{plural}" in API group "{group or ""}" in '
                          f'the namespace "{ns}"')
        if plural == "pods":
            return self._pods(ns, name, request)
        key = (plural, ns, name or "")
        if request.method == "GET" and not name:
            items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                     for (p, n, _), o in sorted(self.objects.items()) if p == plural
                     and (ns is None or n == ns)
                     and _selected(o["metadata"].get("labels") or {},
                                   request.query.get("labelSelector"))]
            return web.json_response({"kind": f"{kind}List", "apiVersion": "v1", "items": items,
                                      "metadata": {"resourceVersion": str(self.version)}})
        if request.method in ("GET", "DELETE"):
            if key not in self.objects:
                return status(404, "NotFound", f'{plural} "{name}" not found', name=name)
            obj = self.objects[key] if request.method == "GET" else self.objects.pop(key)
            if request.method == "DELETE":
                await self._deleted(kind, ns, name or "")
            return web.json_response(obj)
        return await self._write(request, kind, plural, ns, name)

    async def _write(self, request: web.Request, kind: str, plural: str, ns: str,
                     name: str | None) -> web.Response:
        body = await request.json()
        meta = body.setdefault("metadata", {})
        meta["namespace"] = ns
        if plural in self.schemas:
            schema = self.schemas[plural]
            problems = crd.errors(schema["schema"], body)
            if problems:
                return status(422, "Invalid", f'{kind}.{schema["group"]} "{meta.get("name")}" '
                              f'is invalid: {"; ".join(problems)}', causes=problems)
            body = crd.prune(schema["schema"], body)
            meta = body["metadata"]
        if request.method == "POST":
            key = (plural, ns, meta["name"])
            if key in self.objects:
                return status(409, "AlreadyExists", f'{plural} "{meta["name"]}" already exists')
            meta.update(uid=str(uuid.uuid4()), generation=1, creationTimestamp=_now())
        else:
            key = (plural, ns, name or "")
            current = self.objects.get(key)
            if current is None:
                return status(404, "NotFound", f'{plural} "{name}" not found')
            if meta.get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return status(409, "Conflict", f'Operation cannot be fulfilled on {plural} '
                              f'"{name}": the object has been modified; please apply your '
                              "changes to the latest version and try again")
            meta.update(uid=current["metadata"]["uid"],
                        generation=current["metadata"]["generation"] + 1,
                        creationTimestamp=current["metadata"]["creationTimestamp"])
        self.version += 1
        meta["resourceVersion"] = str(self.version)
        body.pop("status", None)
        self.objects[key] = body
        if kind == "Deployment":
            config_maps = {(n, k): o for (p, n, k), o in self.objects.items() if p == "configmaps"}
            await asyncio.to_thread(self.kubelet.run, body, config_maps)
        self._reconcile()
        await self._mirror_apply(body)
        return web.json_response(self.objects[key], status=201 if request.method == "POST"
                                 else 200)

    def _pods(self, ns: str, name: str | None, request: web.Request) -> web.Response:
        pods = [p for p in self.kubelet.matching(ns, {}) if _selected(
            p.labels, request.query.get("labelSelector"))]
        if name is None:
            return web.json_response({"kind": "PodList", "apiVersion": "v1",
                                      "items": [p.manifest() for p in pods]})
        pod = next((p for p in pods if p.name == name), None)
        if pod is None:
            return status(404, "NotFound", f'pods "{name}" not found')
        if not request.path.endswith("/log"):
            return web.json_response(pod.manifest())
        if pod.process is None:
            return status(400, "BadRequest", f'container "{pod.container}" in pod "{name}" is '
                          "waiting to start: ContainerCreating")
        return web.Response(text=pod.log.read_text(errors="replace"))

    async def _mirror_apply(self, body: dict) -> None:
        if self.mirror is None or body["kind"] not in MIRRORED:
            return
        clean = copy.deepcopy({k: v for k, v in body.items() if k != "status"})
        for field in ("uid", "generation", "creationTimestamp", "resourceVersion"):
            clean["metadata"].pop(field, None)
        ref = clean.get("spec", {}).get("subscriber", {}).get("ref") or {}
        if body["kind"] == "Trigger" and ref.get("kind") == "Service":
            url = self._service_pod_url(clean["metadata"]["namespace"], ref["name"])
            if url is None:
                return  # no endpoints: Knative would not deliver either
            sub = clean["spec"]["subscriber"]
            sub["uri"] = url + (sub.get("uri") or "/")
            del sub["ref"]
        broker = clean.get("spec", {}).get("broker", "default")
        wait = body["kind"] != "Trigger" or (
            "brokers", clean["metadata"]["namespace"], broker) in self.objects
        await asyncio.to_thread(self.mirror.apply, clean, wait=wait, timeout=120)

    async def _deleted(self, kind: str, ns: str, name: str) -> None:
        if kind == "Deployment":
            await asyncio.to_thread(self.kubelet.stop, ns, name)
        if self.mirror is not None and kind in MIRRORED:
            await asyncio.to_thread(self.mirror.delete, kind, name, ns)

    async def proxy(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path_qs))
        ns, service = request.match_info["ns"], request.match_info["service"].split(":")[0]
        if ("get", "services/proxy") in self.forbidden:
            return status(403, "Forbidden", f'services "{service}" is forbidden: User "tester" '
                          f'cannot get resource "services/proxy" in API group "" in the '
                          f'namespace "{ns}"')
        if (ns, service) == ("knative-eventing", "broker-ingress") and self.mirror is not None:
            base = self.mirror.backend.running().broker_url
        else:
            base = self._service_pod_url(ns, service)
        if base is None:
            return status(503, "ServiceUnavailable",
                          f'no endpoints available for service "{service}"')
        headers = {k: v for k, v in request.headers.items()
                   if k.lower().startswith("ce-") or k.lower() == "content-type"}
        async with aiohttp.ClientSession() as http, http.request(
                request.method, f"{base}/{request.match_info['rest']}", params=request.query,
                data=await request.read(), headers=headers) as resp:
            return web.Response(status=resp.status, body=await resp.read(),
                                content_type=resp.content_type)

    async def version_info(self, _request: web.Request) -> web.Response:
        # kube-apiserver's /version (version.Info), served to any authenticated client
        return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.1",
                                  "platform": "linux/amd64"})

    def app(self) -> web.Application:
        app = web.Application()
        crud = r"/apis/{group}/{version}/namespaces/{ns}/{plural}"
        core = r"/api/v1/namespaces/{ns}/{plural}"
        app.router.add_route("*", r"/api/v1/namespaces/{ns}/services/{service}/proxy/{rest:.*}",
                             self.proxy)
        app.router.add_route("GET", core + "/{name}/log", self.handle)
        app.router.add_get("/version", self.version_info)
        # cluster-wide lists (every namespace): no namespace segment
        app.router.add_get(r"/apis/{group}/{version}/{plural}", self.handle)
        app.router.add_get(r"/api/v1/{plural}", self.handle)
        for base in (crud, core):
            app.router.add_route("*", base, self.handle)
            app.router.add_route("*", base + "/{name}", self.handle)
        return app

    # -- lifecycle (a thread of its own, so sync client code can call it) ---------------------

    def start(self) -> str:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._runner = web.AppRunner(self.app())
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.kubelet.stop_all()
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._tmp is not None:
            self._tmp.cleanup()


def kubeconfig(path: Any, server: str, namespace: str = "default") -> str:
    """A kubeconfig file pointing at the double with a bearer token."""
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "double",
           "clusters": [{"name": "double", "cluster": {"server": server}}],
           "users": [{"name": "tester", "user": {"token": "test-token"}}],
           "contexts": [{"name": "double", "context": {"cluster": "double", "user": "tester",
                                                        "namespace": namespace}}]}
    path.write_text(json.dumps(doc))
    return str(path)
