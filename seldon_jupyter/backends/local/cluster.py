"""The local control plane: stored resources, the processes that realise them, their status.

`apply` validates like the API server, stores the manifest (persisted in
`resources.json` so a restarted supervisor brings everything back), starts or restarts
predictor processes for changed SeldonDeployments, and hands the broker its new routing
table. Status is computed on demand from the processes' states.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp

from seldon_jupyter import resources, schemas
from seldon_jupyter.backends.local import status as st
from seldon_jupyter.backends.local.processes import RUNNING, Child
from seldon_jupyter.backends.local.serve import TOKEN_ENV
from seldon_jupyter.backends.local.state import write_private
from seldon_jupyter.errors import ManifestError, NotFoundError
from seldon_jupyter.naming import PYTHON_PATH_ANNOTATION, V2_PROTOCOLS

EVENT_DISPLAY_IMAGES = ("event_display", "event-display")
SERVED = ("SeldonDeployment", "InferenceService")  # kinds the cluster runs model servers for


def _spec_signature(m: dict[str, Any]) -> str:
    return json.dumps([m.get("spec"), (m["metadata"].get("annotations") or {})], sort_keys=True)


def _model_class(predictor: dict[str, Any]) -> str | None:
    graph_name = predictor["graph"]["name"]
    for component in predictor.get("componentSpecs") or []:
        containers = ((component or {}).get("spec") or {}).get("containers") or []
        for container in containers:
            if container.get("name") in (graph_name, None) or len(containers) == 1:
                for env in container.get("env") or []:
                    if env.get("name") == "MODEL_NAME":
                        value = env.get("value")
                        return None if value is None else str(value)
    return None


class Cluster:
    def __init__(self, home: Path, token: str) -> None:
        self.home = home
        self.token = token
        self.resources: dict[st.Key, dict[str, Any]] = {}
        self.signatures: dict[st.Key, str] = {}
        self.predictors: dict[st.Key, list[Child]] = {}  # model servers by resource
        self.broker: Child | None = None
        self.lock = asyncio.Lock()
        self._push = asyncio.Event()
        self._pusher: asyncio.Task[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._push_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    @property
    def resources_file(self) -> Path:
        return self.home / "resources.json"

    def world(self) -> st.World:
        broker = self.broker
        return st.World(
            broker_port=broker.port if broker else None,
            broker_running=broker is not None and broker.state == RUNNING,
            resources=self.resources,
            predictors={k: [st.PredictorView(c.name.rsplit("/", 1)[-1], c.state, c.port, c.error,
                                             c.note) for c in children]
                        for k, children in self.predictors.items()})

    def _env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.token, "PYTHONUNBUFFERED": "1"}

    async def start(self, broker_port: int = 0) -> None:
        (self.home / "logs").mkdir(exist_ok=True)
        (self.home / "predictors").mkdir(exist_ok=True)
        self.broker = Child("broker", "seldon_jupyter.backends.local.broker",
                            ["--home", str(self.home)], log=self.home / "logs" / "broker.log",
                            env=self._env(), on_change=self.changed, port=broker_port,
                            home=self.home)
        self.write_broker_config()
        self.broker.start()
        self._pusher = asyncio.create_task(self._push_loop())
        if self.resources_file.exists():
            for m in json.loads(self.resources_file.read_text()):
                self._store(m)
        self.changed()

    async def stop(self) -> None:
        if self._pusher:
            self._pusher.cancel()
        children = [c for cs in self.predictors.values() for c in cs]
        await asyncio.gather(*(c.stop() for c in children))
        if self.broker:
            await self.broker.stop()

    # -- changes --------------------------------------------------------------------------

    def changed(self) -> None:
        """Something moved: rewrite the broker's routing table and tell it (coalesced)."""
        self._push.set()

    def write_broker_config(self) -> None:
        write_private(self.home / "broker-config.json", json.dumps(st.broker_config(self.world())))

    async def push(self) -> bool:
        """Write the routing table and have the broker load it; False if it did not answer."""
        async with self._push_lock:
            self._push.clear()
            self.write_broker_config()
            broker = self.broker
            if broker is None or broker.state != RUNNING:
                return True  # a starting broker reads the file itself
            assert self._http is not None
            try:
                async with self._http.post(
                        f"http://127.0.0.1:{broker.port}/control/reload",
                        headers={"Authorization": f"Bearer {self.token}"},
                        timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    await resp.read()
                    return resp.ok
            except (aiohttp.ClientError, TimeoutError):
                return False

    async def flush(self) -> None:
        """Make status reads agree with the broker: push any change still pending."""
        if self._push.is_set():
            await self.push()

    async def _push_loop(self) -> None:
        self._http = aiohttp.ClientSession()
        try:
            while True:
                await self._push.wait()
                if not await self.push():
                    await asyncio.sleep(0.2)
                    self._push.set()
        finally:
            await self._http.close()

    def _persist(self, stored: dict[st.Key, dict[str, Any]]) -> None:
        """Write what will be stored before anybody is shown it: an apply or delete that
        cannot be written (a full disk) changes nothing, not even in memory."""
        write_private(self.resources_file, json.dumps(list(stored.values()), indent=1))

    def _check_local(self, m: dict[str, Any]) -> None:
        if m["kind"] == "Deployment":
            containers = m["spec"]["template"]["spec"]["containers"]
            images = [c["image"] for c in containers]
            labels = m["spec"]["template"].get("metadata", {}).get("labels") or {}
            if labels.get(resources.COLLECTOR_LABEL) == "sink":
                return  # the kit's own collector: locally the broker's sink plays it
            if not all(any(tag in image for tag in EVENT_DISPLAY_IMAGES) for image in images):
                raise ManifestError(
                    f"the local backend cannot run container image(s) {', '.join(images)}",
                    field="spec.template.spec.containers",
                    hint="locally a Deployment may only run Knative's event_display image "
                    "or be the kit's collector (either becomes a collector); deploy models as "
                    "SeldonDeployments")

    def _store(self, m: dict[str, Any]) -> None:
        key = resources.key(m)
        self.resources[key] = m
        if key[0] in SERVED and self.signatures.get(key) != _spec_signature(m):
            self.signatures[key] = _spec_signature(m)
            task = asyncio.create_task(self._restart_predictors(m))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def apply(self, manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        checked = [resources.validate(m) for m in manifests]
        for m in checked:
            self._check_local(m)
        async with self.lock:
            for m in checked:
                m.pop("status", None)
            self._persist({**self.resources, **{resources.key(m): m for m in checked}})
            for m in checked:
                self._store(m)
        self.changed()
        await self.flush()
        return [self.describe(resources.key(m)) for m in checked]

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        key = (kind, namespace, name)
        async with self.lock:
            if key not in self.resources:
                raise NotFoundError(f"{kind} {namespace}/{name} not found")
            self._persist({k: m for k, m in self.resources.items() if k != key})
            del self.resources[key]
            self.signatures.pop(key, None)
            for child in self.predictors.pop(key, []):
                await child.stop()
        self.changed()

    async def _restart_predictors(self, m: dict[str, Any]) -> None:
        key = resources.key(m)
        ns, name = key[1], key[2]
        old = self.predictors.pop(key, [])
        ports = {c.name: c.port for c in old}
        await asyncio.gather(*(c.stop() for c in old))
        if key[0] == "InferenceService":
            children = [self._isvc_child(m, ports)]
        else:
            annotations = m["metadata"].get("annotations") or {}
            v2 = m["spec"].get("protocol") in V2_PROTOCOLS  # the real MLServer serves it
            children = [self._model_child(
                f"{ns}.{name}.{predictor['name']}", ports, "mlserver_pod" if v2 else "predictor",
                {"namespace": ns, "deployment": name, "predictor": predictor["name"],
                 "unit": predictor["graph"], "model_class": _model_class(predictor),
                 "python_path": annotations.get(PYTHON_PATH_ANNOTATION),
                 "implementation": predictor["graph"].get("implementation")})
                for predictor in m["spec"]["predictors"]]
        self.predictors[key] = children
        for child in children:
            child.start()
        self.changed()

    def _isvc_child(self, m: dict[str, Any], ports: dict[str, int]) -> Child:
        """KServe's predictor of an InferenceService: MLServer with the model named as
        the service (KServe's model name), its format's runtime and protocol."""
        ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
        model = schemas.inference_model(m)
        return self._model_child(
            f"{ns}.{name}.isvc", ports, "mlserver_pod",
            {"namespace": ns, "deployment": name, "predictor": "predictor",
             "unit": {"name": name, "modelUri": model["storageUri"]},
             "implementation": model["format"], "protocol": model["protocol"]})

    def _model_child(self, stem: str, ports: dict[str, int], module: str,
                     config: dict[str, Any]) -> Child:
        """A model server process: its config file, log and pid file named by `stem`, on
        the port its previous incarnation had."""
        path = self.home / "predictors" / f"{stem}.json"
        write_private(path, json.dumps({**config, "models_home": str(self.home / "models")}))
        cname = f"{config['namespace']}/{config['deployment']}/{config['predictor']}"
        return Child(cname, f"seldon_jupyter.backends.local.{module}", ["--config", str(path)],
                     env=self._env(), on_change=self.changed,
                     log=self.home / "logs" / f"{stem}.log", port=ports.get(cname, 0),
                     home=self.home)

    # -- reading --------------------------------------------------------------------------

    def describe(self, key: st.Key) -> dict[str, Any]:
        m = self.resources.get(key)
        if m is None:
            raise NotFoundError(f"{key[0]} {key[1]}/{key[2]} not found")
        return {**m, "status": st.status_of(m, self.world())}

    def list(self) -> list[dict[str, Any]]:
        return [self.describe(k) for k in sorted(self.resources)]

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "home": str(self.home),
                "broker_port": self.broker.port if self.broker else None,
                "broker_state": self.broker.state if self.broker else None,
                "journal": str(self.home / "journal.sqlite")}
