"""The API double's kubelet: runs a Deployment's pod as a local process on 127.0.0.1.

Two images can "run": the kit's collector (the real `sink.py` taken from the ConfigMap the
Deployment mounts, started with the real `python`) and Knative's event_display (played by
tests/kube/event_display.py). Anything else stays Pending with the reason a cluster would
give (the image cannot be pulled here). As a kubelet and a CRI runtime do: a pod first
sits in ContainerCreating for `start_delay` seconds; each line a container prints is
stored with its own RFC 3339 timestamp in the container's current log file; `rotate`
starts a new current file (the API serves only the current one); `restart` ends the
container and starts it again with an empty log (restartCount + 1; the old one is what
`previous=true` reads). With `mesh=True` (or the pod annotation `linkerd.io/inject:
enabled`) a proxy container comes FIRST in the pod, as under Linkerd 2.11+ or Istio's
holdApplicationUntilProxyStarts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

EVENT_DISPLAY = Path(__file__).resolve().parent / "event_display.py"
COLLECTOR_LABEL = "seldon-jupyter.io/collector"
PROXY = "linkerd-proxy"


def stamp() -> str:
    """RFC 3339 with nanoseconds, as CRI log lines carry."""
    ns = time.time_ns()
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


@dataclass
class Container:
    """One container's log files: (timestamp, line) pairs, current and previous."""

    name: str
    current: list[tuple[str, str]] = field(default_factory=list)
    previous: list[tuple[str, str]] | None = None
    rotated: list[list[tuple[str, str]]] = field(default_factory=list)
    restarts: int = 0
    started_at: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, line: str) -> None:
        with self.lock:
            self.current.append((stamp(), line))

    def text(self) -> str:
        with self.lock:
            return "".join(line for _, line in self.current)


@dataclass
class Pod:
    namespace: str
    deployment: str
    name: str
    labels: dict[str, str]
    app: Container
    sidecar: Container | None = None
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    process: subprocess.Popen | None = None
    port: int | None = None
    reason: str = ""
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def containers(self) -> list[Container]:
        return [c for c in (self.sidecar, self.app) if c is not None]

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers if c.name == name), None)

    @property
    def ready(self) -> bool:
        return self.port is not None

    def manifest(self) -> dict:
        def status(c: Container, running: bool) -> dict:
            state = ({"running": {"startedAt": c.started_at}} if running else
                     {"waiting": {"reason": self.reason or "ContainerCreating"}})
            return {"name": c.name, "ready": running, "restartCount": c.restarts,
                    "state": state, "image": "proxy" if c is self.sidecar else "app"}
        statuses = [status(c, self.ready or c is self.sidecar) for c in self.containers]
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": self.name, "namespace": self.namespace, "uid": self.uid,
                             "labels": self.labels},
                "spec": {"containers": [{"name": c.name} for c in self.containers]},
                "status": {"phase": "Running" if self.ready else "Pending",
                           "conditions": [{"type": "Ready",
                                           "status": "True" if self.ready else "False"}],
                           "containerStatuses": statuses,
                           **({"reason": self.reason} if self.reason else {})}}


class Kubelet:
    def __init__(self, workdir: Path, *, start_delay: float = 0.5, mesh: bool = False,
                 on_change: Callable[[str, str], None] | None = None) -> None:
        self.workdir = workdir
        self.start_delay = start_delay
        self.mesh = mesh
        self.on_change = on_change or (lambda _ns, _name: None)
        self.pods: dict[tuple[str, str], Pod] = {}
        self.rotations = 0

    def _program(self, deployment: dict, config_maps: dict[tuple[str, str], dict],
                 pod_dir: Path) -> tuple[list[str], dict[str, str]] | str:
        ns = deployment["metadata"]["namespace"]
        template = deployment["spec"]["template"]
        labels = template.get("metadata", {}).get("labels") or {}
        container = template["spec"]["containers"][0]
        if labels.get(COLLECTOR_LABEL) == "sink":
            volume = next(v for v in template["spec"].get("volumes", []) if "configMap" in v)
            config_map = config_maps.get((ns, volume["configMap"]["name"]))
            if config_map is None:
                return f'CreateContainerConfigError: configmap "{volume["configMap"]["name"]}"' \
                       ' not found'
            script = pod_dir / "sink.py"
            script.write_text(config_map["data"]["sink.py"])
            env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
            env.update(SINK_BIND="127.0.0.1", SINK_PORT="0",
                       SINK_FILE=str(pod_dir / "events.jsonl"))
            return [sys.executable, str(script)], env
        if "event_display" in container["image"] or "event-display" in container["image"]:
            return [sys.executable, str(EVENT_DISPLAY)], {"PORT": "0"}
        return f'ErrImagePull: image "{container["image"]}" cannot run on the API double'

    def run(self, deployment: dict, config_maps: dict[tuple[str, str], dict]) -> Pod:
        """(Re)create the pod of `deployment`: ContainerCreating, then started after
        `start_delay` in a thread of its own."""
        ns, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        self.stop(ns, name)
        template = deployment["spec"]["template"]
        annotations = template.get("metadata", {}).get("annotations") or {}
        pod_name = f"{name}-{uuid.uuid4().hex[:10]}"
        pod_dir = self.workdir / ns / pod_name
        pod_dir.mkdir(parents=True)
        meshed = self.mesh or annotations.get("linkerd.io/inject") == "enabled"
        pod = Pod(ns, name, pod_name, dict(template.get("metadata", {}).get("labels") or {}),
                  Container(template["spec"]["containers"][0]["name"]),
                  Container(PROXY, started_at=stamp()) if meshed else None, cwd=pod_dir)
        if pod.sidecar is not None:
            pod.sidecar.write("[     0.001s]  INFO ThreadId(01) linkerd2_proxy: release "
                              "stable-2.14 by linkerd\n")
        self.pods[(ns, name)] = pod
        program = self._program(deployment, config_maps, pod_dir)
        if isinstance(program, str):
            pod.reason = program
            return pod
        pod.argv, pod.env = program
        timer = threading.Timer(self.start_delay, self._start, (pod,))
        timer.daemon = True
        timer.start()
        return pod

    def _start(self, pod: Pod) -> None:
        if self.pods.get((pod.namespace, pod.deployment)) is not pod:
            return  # deleted while it was being created
        env = {**os.environ, **pod.env, "PYTHONUNBUFFERED": "1"}
        if pod.port is not None:  # a restart keeps the pod's port
            env.update(SINK_PORT=str(pod.port), PORT=str(pod.port))
        pod.port = None
        process = subprocess.Popen(pod.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env=env, cwd=pod.cwd, text=True, bufsize=1)
        pod.process = process
        pod.app.started_at = stamp()
        listening = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                pod.app.write(line)
                if "listening on" in line and not listening.is_set():
                    pod.port = int(line.split("listening on", 1)[1].split()[0].rsplit(":", 1)[1])
                    listening.set()
        threading.Thread(target=pump, daemon=True).start()
        if not listening.wait(15):
            pod.reason = ("CrashLoopBackOff" if process.poll() is not None else
                          "the process did not start listening within 15s")
        self.on_change(pod.namespace, pod.deployment)

    def restart(self, namespace: str, deployment: str) -> Pod:
        """The container ends and starts again: a new, empty current log."""
        pod = self.pods[(namespace, deployment)]
        port = pod.port
        if pod.process is not None:
            pod.process.kill()
            pod.process.wait(10)
        with pod.app.lock:
            pod.app.previous, pod.app.current = pod.app.current, []
            pod.app.rotated = []
        pod.app.restarts += 1
        pod.port = port
        self._start(pod)
        return pod

    def rotate(self, namespace: str, deployment: str) -> None:
        """Log rotation (10Mi by default on a kubelet): the current file starts empty."""
        app = self.pods[(namespace, deployment)].app
        with app.lock:
            app.rotated.append(app.current)
            app.current = []
        self.rotations += 1

    def matching(self, namespace: str, selector: dict[str, str]) -> list[Pod]:
        return [p for (ns, _), p in sorted(self.pods.items()) if ns == namespace
                and all(p.labels.get(k) == v for k, v in selector.items())]

    def stop(self, namespace: str, deployment: str) -> None:
        pod = self.pods.pop((namespace, deployment), None)
        if pod is not None and pod.process is not None:
            pod.process.kill()
            pod.process.wait(10)

    def stop_all(self) -> None:
        for ns, name in list(self.pods):
            self.stop(ns, name)
