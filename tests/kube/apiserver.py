"""A stateful Kubernetes API-server double (the one stand-in the brief allows), over TLS.

Built from PROTOCOL.md's "Kubernetes API server and a real cluster": HTTPS with a cluster
CA and a server name that is not 127.0.0.1; users by client certificate or bearer token
(anonymous is 403); text/plain `404 page not found` for an API group or version that is
not installed; URL group/version must match the body's apiVersion (400); CRD schemas
validate (422) and prune; the status subresource; PUT replaces, server-side apply merges
(tests/kube/store.py); watches; 429 + Retry-After past `rate` requests a second;
SelfSubjectAccessReview; namespaces that must exist (and can be Terminating: a 403 that is
not RBAC). Controllers reconcile `lag` seconds after each write (tests/kube/controllers.py),
the kubelet runs pods (tests/kube/pods.py), and the service proxy (tests/kube/proxy.py)
reaches them and the real local broker the double mirrors Brokers, Triggers and
SeldonDeployments into. A second, plain-HTTP site is the cluster network: the address the
mirrored Triggers deliver to for `Service` subscribers (503 while no pod is ready).
"""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.kube import admission, crd, proxy
from tests.kube import resources_table as table
from tests.kube.answers import NOT_FOUND_TEXT, status
from tests.kube.auth import ANONYMOUS, PUBLIC, Authority, forbidden_message
from tests.kube.controllers import Controllers
from tests.kube.pods import Kubelet
from tests.kube.rbac import ADMIN, Ask, bootstrap
from tests.kube.store import Key, Store
from tests.kube.tls import Pki
from tests.kube.tls import kubeconfig as write_kubeconfig
from tests.kube.workloads import Workloads
from tests.kube.writes import Writes


def _selected(labels: dict[str, str], selector: str | None) -> bool:
    pairs = [p.split("=", 1) for p in (selector or "").split(",") if p]
    return all(labels.get(k) == v for k, v in pairs)


class ApiServer(Workloads, Writes):
    def __init__(self, *, mirror: Any = None, workdir: Path | None = None, lag: float = 0.3,
                 rate: float = 25.0, mesh: bool = False, start_delay: float = 0.5) -> None:
        self.store = Store()
        self.auth = Authority(rate)
        self.pki = Pki()
        self.lag = lag
        self.missing_groups: set[str] = set(table.NOT_INSTALLED)
        self.refused: dict[tuple[str, str], str] = {}  # Deployments PodSecurity gives no pod
        self.terminating: set[str] = set()
        self.mirror = mirror  # a seldon_jupyter Session on the local backend, or None
        self.calls: list[tuple[str, str]] = []
        self.schemas = crd.load()
        self.controllers = Controllers(self.store, mirror)
        self.controllers.pods_ready = self._pods_ready
        self._mirrored: dict[Key, int] = {}
        self._tmp = tempfile.TemporaryDirectory() if workdir is None else None
        self.kubelet = Kubelet(workdir or Path(self._tmp.name), start_delay=start_delay,
                               mesh=mesh, on_change=self._pod_changed)
        self.port = 0
        self.network_port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._boot()

    @property
    def forbidden(self) -> set[tuple[str, str]]:
        return self.auth.forbidden

    def _boot(self) -> None:
        for ns in ("default", "kube-system", "knative-eventing"):
            self.store.create(("namespaces", "", ns), {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, "kube")
        for obj in bootstrap(ADMIN):
            plural = "clusterroles" if obj["kind"] == "ClusterRole" else "clusterrolebindings"
            self.store.create((plural, "", obj["metadata"]["name"]), obj, "kube-apiserver")
        for svc in proxy.ingress_services():
            self.store.create(("services", "knative-eventing", svc["metadata"]["name"]), svc,
                              "knative")

    def namespace(self, name: str, **labels: str) -> None:
        """`kubectl create namespace` by the cluster admin (thread-safe)."""
        def make() -> None:
            self.store.create(("namespaces", "", name), {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": labels}}, "kubectl")
        self.call(make)

    def admin_apply(self, manifests: list[dict]) -> None:
        """`kubectl apply -f` by the cluster admin (thread-safe): Roles and bindings, say."""
        plurals = {(group, kind): plural for group, (_, kinds) in table.GROUPS.items()
                   for plural, (kind, _) in kinds.items()}

        def make() -> None:
            for obj in manifests:
                group = obj["apiVersion"].rpartition("/")[0]
                meta = obj["metadata"]
                key = (plurals[group, obj["kind"]], meta.get("namespace", ""), meta["name"])
                if self.store.get(key) is None:
                    self.store.create(key, obj, "kubectl")
                else:
                    self.store.replace(key, obj, "kubectl")
        self.call(make)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn` on the server's loop (the store is not thread-safe) and return its result."""
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    # -- controllers and the data plane behind them ------------------------------------------

    def _schedule(self, key: Key, delay: float | None = None) -> None:
        assert self._loop is not None
        self._loop.call_later(self.lag if delay is None else delay, self._reconcile, key)

    def _reconcile(self, key: Key) -> None:
        obj = self.store.get(key)
        if key[0] == "triggers" and obj is not None and self.mirror is not None:
            # as Knative's filter has a Trigger once it is Ready: the data plane gets it first
            status = self.controllers.trigger_status(obj)
            ready = any(c["type"] == "Ready" and c["status"] == "True"
                        for c in status.get("conditions", []))
            if ready and self._mirrored.get(key) != obj["metadata"]["generation"]:
                assert self._loop is not None
                done = self._loop.run_in_executor(None, self._mirror_trigger, key, obj)
                done.add_done_callback(lambda _f: self.store.set_status(key, status))
                return
            self.store.set_status(key, status)
            return
        again = self.controllers.reconcile(key)
        if again is not None:
            self._schedule(key, again)
        if key[0] in ("seldondeployments", "inferenceservices", "brokers"):
            self._dependents(key[1])  # Knative's tracker: a ref's status changed

    def _dependents(self, ns: str) -> None:
        for trigger in self.store.items("triggers", None):
            if ns == "" or trigger["metadata"]["namespace"] == ns:
                self._schedule(("triggers", trigger["metadata"]["namespace"],
                                trigger["metadata"]["name"]))

    def _pods_ready(self, ns: str, name: str) -> tuple[bool, str]:
        if (ns, name) in self.refused:
            return False, self.refused[(ns, name)]
        pod = self.kubelet.pods.get((ns, name))
        return (pod is not None and pod.ready), (pod.reason if pod else "")

    def _pod_changed(self, ns: str, name: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._schedule, ("deployments", ns, name), 0)

    def _mirror(self, fn: Any, *args: Any) -> None:
        if self.mirror is not None:
            assert self._loop is not None
            self._loop.run_in_executor(None, fn, *args)

    def _mirror_trigger(self, key: Key, obj: dict) -> None:
        """Apply a Ready Trigger to the data plane (in a worker thread)."""
        self._mirrored[key] = obj["metadata"]["generation"]
        clean = self._clean(obj)
        sub = clean["spec"]["subscriber"]
        ref = sub.get("ref") or {}
        if ref.get("kind") == "Service":
            ns = ref.get("namespace", key[1])
            sub["uri"] = (f"http://127.0.0.1:{self.network_port}/{ns}/{ref['name']}"
                          + (sub.get("uri") or "/"))
            del sub["ref"]
        self.mirror.apply(clean)

    @staticmethod
    def _clean(obj: dict) -> dict:
        clean = copy.deepcopy({k: v for k, v in obj.items() if k != "status"})
        meta = clean["metadata"]
        clean["metadata"] = {k: meta[k] for k in ("name", "namespace", "labels", "annotations")
                             if k in meta}
        return clean

    # -- REST -------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls.append((request.method, request.path_qs))
        path = request.path
        user, problem = self.auth.identify(request.headers, request.transport)
        if user is None:
            return status(401, "Unauthorized", f"Unauthorized: {problem}")
        if path in PUBLIC:
            return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.1",
                                      "platform": "linux/amd64"})
        watching = request.query.get("watch") in ("1", "true")
        # APF's rate on reads and writes (proxied traffic is the data plane's business)
        if not watching and "/proxy" not in path and self.auth.throttle(user):
            response = status(429, "TooManyRequests",
                              "Too many requests, please try again later.",
                              retryAfterSeconds=1)
            response.headers["Retry-After"] = "1"
            return response
        route = table.parse(path, self.missing_groups)
        if route is None:
            if user == ANONYMOUS:
                return status(403, "Forbidden", f'forbidden: User "{ANONYMOUS}" cannot get '
                              f'path "{path}"')
            return web.Response(status=404, text=NOT_FOUND_TEXT, content_type="text/plain")
        if isinstance(route, dict):  # discovery
            return web.json_response(route)
        verb = table.verb(request.method, route, watching)
        # requestinfo.go: a namespace's own URL is "in" that namespace, so a Role there
        # may grant get on it
        within = route.name if route.plural == "namespaces" else route.namespace
        if not self.auth.allowed(self.store.objects, user, Ask(
                verb, route.group, route.plural, route.subresource, within, route.name)):
            return status(403, "Forbidden", forbidden_message(
                user, verb, route.resource, route.group, route.namespace, route.name))
        if route.plural == "selfsubjectaccessreviews":
            return await self._access_review(request, user)
        if route.plural == "selfsubjectreviews" and request.method == "POST":
            return web.json_response({
                "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
                "metadata": {"creationTimestamp": None}, "status": {"userInfo": {
                    "username": user, "groups": ["system:authenticated"]}}}, status=201)
        if route.subresource == "proxy":
            return await self._proxy(request, route)
        if route.plural == "pods":
            return self._pods(request, route)
        if request.method == "GET" and route.name is None:
            return await self._list(request, route, watching)
        if request.method == "GET":
            obj = self.store.get(route.key)
            if obj is None:
                return self._not_found(route)
            return web.json_response(obj)
        if request.method == "DELETE":
            return self._delete(route)
        return await self._write(request, route)

    def _not_found(self, route: table.Route) -> web.Response:
        return status(404, "NotFound", f'{route.plural}{route.dotted_group} "{route.name}" '
                      "not found", name=route.name, kind=route.plural)

    async def _list(self, request: web.Request, route: table.Route,
                    watching: bool) -> web.StreamResponse:
        selector = request.query.get("labelSelector")
        if watching:
            since = int(request.query.get("resourceVersion") or self.store.version)
            timeout = min(float(request.query.get("timeoutSeconds") or 60), 300)
            name = (request.query.get("fieldSelector") or "").removeprefix("metadata.name=")
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            try:
                async for kind, obj in self.store.watch(route.plural, route.namespace, since,
                                                        timeout, name or None):
                    if kind == "ERROR" or _selected(obj["metadata"].get("labels") or {},
                                                    selector):
                        await response.write(json.dumps({"type": kind, "object": obj})
                                             .encode() + b"\n")
                await response.write_eof()
            except (ConnectionError, aiohttp.ClientConnectionResetError):
                pass  # the client went away: the watch ends
            return response
        items = [o for o in self.store.items(route.plural, route.namespace)
                 if _selected(o["metadata"].get("labels") or {}, selector)]
        for item in items:
            item.pop("kind", None), item.pop("apiVersion", None)
        return web.json_response({"kind": f"{route.kind}List", "apiVersion": route.api_version,
                                  "metadata": {"resourceVersion": str(self.store.version)},
                                  "items": items})

    def _delete(self, route: table.Route) -> web.Response:
        old = self.store.delete(route.key)
        if old is None:
            return self._not_found(route)
        if route.plural == "deployments":
            assert self._loop is not None
            self._loop.run_in_executor(None, self.kubelet.stop, route.namespace, route.name)
        if route.plural in ("seldondeployments", "inferenceservices", "brokers", "triggers"
                            ) and self.mirror:
            self._mirrored.pop(route.key, None)
            self._mirror(self._mirror_delete, route.kind, route.name, route.namespace)
        self._dependents(route.namespace or "")
        return web.json_response(old)

    def _mirror_delete(self, kind: str, name: str, ns: str) -> None:
        try:
            self.mirror.delete(kind, name, ns)
        except Exception:  # noqa: BLE001 - never mirrored (e.g. a Trigger not Ready)
            pass

    def _after_write(self, route: table.Route, key: Key, obj: dict) -> None:
        if route.plural == "deployments":
            self._run_pods(key, obj)
        if route.plural in ("seldondeployments", "inferenceservices", "brokers"
                            ) and self.mirror is not None:
            self._mirror(self.mirror.apply, self._clean(obj))
        self._schedule(key)
        if route.plural in ("brokers", "seldondeployments", "inferenceservices", "services",
                            "clusterroles"):
            self._dependents(key[1])

    def _run_pods(self, key: Key, obj: dict) -> None:
        """The ReplicaSet asks for a pod; Pod Security admission may refuse it."""
        assert self._loop is not None
        refused = admission.refusal(self.store.get(("namespaces", "", key[1])),
                                    obj["spec"]["template"],
                                    f"{key[2]}-{uuid.uuid4().hex[:10]}-{uuid.uuid4().hex[:5]}")
        if refused:
            self.refused[(key[1], key[2])] = refused
            self._loop.run_in_executor(None, self.kubelet.stop, key[1], key[2])
            return
        self.refused.pop((key[1], key[2]), None)
        config_maps = {(k[1], k[2]): o for k, o in self.store.objects.items()
                       if k[0] == "configmaps"}
        self._loop.run_in_executor(None, self.kubelet.run, copy.deepcopy(obj),
                                   copy.deepcopy(config_maps))

    # -- lifecycle (a thread of its own, so sync client code can call it) ---------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def start(self) -> str:
        """Serve HTTPS on 127.0.0.1 (and the plain cluster network); returns the server URL."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._runner = web.AppRunner(self.app())
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0,
                               ssl_context=self.pki.server_context())
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            network = web.Application()
            network.router.add_route("*", "/{ns}/{service}/{rest:.*}", self.network)
            self._net_runner = web.AppRunner(network)
            self._loop.run_until_complete(self._net_runner.setup())
            net_site = web.TCPSite(self._net_runner, "127.0.0.1", 0)
            self._loop.run_until_complete(net_site.start())
            self.network_port = net_site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.kubelet.stop_all()
        if self._loop is not None and self._runner is not None:
            for runner in (self._runner, self._net_runner):
                asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._tmp is not None:
            self._tmp.cleanup()

    def kubeconfig(self, path: Path, namespace: str | None = "default", **kw: Any) -> str:
        """A kubeconfig for this double (client certificate by default; see tests/kube/tls)."""
        return write_kubeconfig(path, f"https://127.0.0.1:{self.port}", self.pki,
                                namespace=namespace, **kw)
