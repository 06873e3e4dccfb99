"""The API double's kubelet: runs a Deployment's pod as a local process on 127.0.0.1.

Two images can "run": the kit's collector (the real `sink.py` taken from the ConfigMap the
Deployment mounts, started with the real `python`) and Knative's event_display (played by
tests/kube/event_display.py). A pod's stdout is its log. Anything else stays Pending with
the reason a cluster would give (the image cannot be pulled here).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

EVENT_DISPLAY = Path(__file__).resolve().parent / "event_display.py"
COLLECTOR_LABEL = "seldon-jupyter.io/collector"


@dataclass
class Pod:
    namespace: str
    deployment: str
    name: str
    labels: dict[str, str]
    container: str
    log: Path
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    process: subprocess.Popen | None = None
    port: int | None = None
    reason: str = ""

    def manifest(self) -> dict:
        phase = "Running" if self.port else "Pending"
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": self.name, "namespace": self.namespace, "uid": self.uid,
                             "labels": self.labels},
                "spec": {"containers": [{"name": self.container}]},
                "status": {"phase": phase, **({"reason": self.reason} if self.reason else {})}}


class Kubelet:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pods: dict[tuple[str, str], Pod] = {}

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
                return f'configmap "{volume["configMap"]["name"]}" not found'
            script = pod_dir / "sink.py"
            script.write_text(config_map["data"]["sink.py"])
            env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
            env.update(SINK_BIND="127.0.0.1", SINK_PORT="0",
                       SINK_FILE=str(pod_dir / "events.jsonl"))
            return [sys.executable, str(script)], env
        if "event_display" in container["image"] or "event-display" in container["image"]:
            return [sys.executable, str(EVENT_DISPLAY)], {}
        return f'ErrImagePull: image "{container["image"]}" cannot run on the API double'

    def run(self, deployment: dict, config_maps: dict[tuple[str, str], dict]) -> Pod:
        """(Re)start the pod of `deployment`; returns it, running or Pending with a reason."""
        ns, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        self.stop(ns, name)
        template = deployment["spec"]["template"]
        pod_name = f"{name}-{uuid.uuid4().hex[:10]}"
        pod_dir = self.workdir / ns / pod_name
        pod_dir.mkdir(parents=True)
        pod = Pod(ns, name, pod_name, dict(template.get("metadata", {}).get("labels") or {}),
                  template["spec"]["containers"][0]["name"], pod_dir / "stdout.log")
        self.pods[(ns, name)] = pod
        program = self._program(deployment, config_maps, pod_dir)
        if isinstance(program, str):
            pod.reason = program
            return pod
        argv, env = program
        with pod.log.open("wb") as out:
            pod.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL,
                                           env={**os.environ, **env}, cwd=pod_dir)
        for _ in range(200):
            text = pod.log.read_text(errors="replace")
            if "listening on" in text:
                pod.port = int(text.split("listening on", 1)[1].split()[0].rsplit(":", 1)[1])
                return pod
            if pod.process.poll() is not None:
                pod.reason = f"CrashLoopBackOff: exited with {pod.process.returncode}"
                return pod
            time.sleep(0.05)
        pod.reason = "the process did not start listening within 10s"
        return pod

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
