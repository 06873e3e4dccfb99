"""A V2 predictor as a local process: the real MLServer, configured as Seldon's operator
configures it, on 127.0.0.1.

For `protocol: v2` the operator runs `mlserver start /mnt/models` with
MLSERVER_MODEL_NAME = the graph's name, MLSERVER_MODEL_IMPLEMENTATION (the scikit-learn
runtime for SKLEARN_SERVER) and MLSERVER_MODEL_VERSION=v1 (operator/controllers/
mlserver.go); KServe's sklearn runtime serves its predictor the same way. This process
starts MLServer's own server with those settings, so the Open Inference Protocol
endpoints, CloudEvent headers, ids and error bodies are MLServer's. Like a pod, it
learns its namespace from its service account, which here is the resource's namespace.
Writes need the local cluster's token, as on the other local model servers. It announces
`{"port": N}` once the model is ready, and exits with its parent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from seldon_jupyter.backends.local import v2_models
from seldon_jupyter.backends.local.serve import PARENT_POLL, TOKEN_ENV, run, token_matches
from seldon_jupyter.errors import ModelError

READY_TIMEOUT = 120.0
UNSERVED = {
    "v1": "KServe's V1 server (the kserve package) cannot be installed beside the kit (it "
          "needs cloudevents<2 and pandas<3): set protocolVersion: v2 to run it locally on "
          "MLServer, or run it on a cluster",
    "grpc-v2": "the local backend speaks HTTP only: use protocolVersion: v2",
}
_ANNOUNCE: TextIO = sys.stdout  # the supervisor reads JSON lines here, and nothing else


def announce(**fields: object) -> None:
    _ANNOUNCE.write(json.dumps(fields) + "\n")
    _ANNOUNCE.flush()


def _logs_to_stderr() -> None:
    """MLServer and uvicorn log to stdout: keep a private copy of it for the announcements
    and send everything else written there to stderr (the predictor's log file)."""
    global _ANNOUNCE
    _ANNOUNCE = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)


class OwnerOnly:
    """ASGI middleware in front of MLServer's REST app: a write needs the local cluster's
    token (the broker presents it to the cluster's own servers), so no other local user
    drives the model; GETs (health, metadata) stay open, as on the v1 model servers."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] == "http" and self.token
                and scope["method"] not in ("GET", "HEAD")):
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not token_matches(given.decode("latin-1"), self.token):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body",
                            "body": b"missing or wrong token: this model server belongs to "
                                    b"the local cluster's owner\n"})
                return
        await self.app(scope, receive, send)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(port: int, model: str, server: asyncio.Task[Any]) -> str | None:
    """None once MLServer says the model is ready; the reason when it never will."""
    url = f"http://127.0.0.1:{port}/v2/models/{model}/ready"
    async with aiohttp.ClientSession() as http:
        for _ in range(int(READY_TIMEOUT / 0.2)):
            if server.done():
                return "MLServer stopped before the model was ready (see the log)"
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return None
            await asyncio.sleep(0.2)
    return f"the model was not ready within {READY_TIMEOUT:g}s"


async def _serve(config: dict[str, Any], port: int, prepared: v2_models.Prepared) -> None:
    from mlserver import MLServer, cloudevents
    from mlserver.settings import ModelParameters, ModelSettings, Settings

    namespace = config["namespace"]
    cloudevents.get_namespace = lambda: namespace  # a pod reads its service account's
    model = config["unit"]["name"]
    settings = Settings(host="127.0.0.1", http_port=port, grpc_port=free_port(),
                        metrics_endpoint=None, parallel_workers=0, debug=False,
                        load_models_at_startup=False,
                        model_repository_root=str(prepared.directory))
    model_settings = ModelSettings(
        name=model, implementation=v2_models.RUNTIMES[config["implementation"]],
        parameters=ModelParameters(uri=str(prepared.directory), version="v1"))
    server = MLServer(settings)
    # MLServer's REST app exists once the server is built and takes middleware until it starts
    server._rest_server._app.add_middleware(OwnerOnly, token=os.environ.get(TOKEN_ENV, ""))
    serving = asyncio.create_task(server.start([model_settings]))
    problem = await _ready(port, model, serving)
    if problem:
        announce(error=problem)
        await server.stop()
        raise SystemExit(3)
    if prepared.note:
        announce(loaded=prepared.note)
    announce(port=port, pid=os.getpid())
    parent = os.getppid()
    while not serving.done() and os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL)
    if not serving.done():
        await server.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await serving


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seldon-jupyter local MLServer predictor")
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    _logs_to_stderr()
    config = json.loads(Path(args.config).read_text())
    protocol = config.get("protocol", "v2")
    if protocol != "v2":  # a KServe predictor asking for another protocol
        announce(error=f"the local backend serves KServe predictors over V2 only, not "
                       f"{protocol!r}", hint=UNSERVED.get(protocol))
        raise SystemExit(3)
    try:
        prepared = v2_models.prepare(config["unit"].get("modelUri") or "",
                                     config["implementation"], Path(config["models_home"]))
    except ModelError as exc:
        announce(error=exc.message, hint=exc.hint)
        raise SystemExit(3) from None
    run(_serve(config, args.port or free_port(), prepared))


if __name__ == "__main__":
    main()
