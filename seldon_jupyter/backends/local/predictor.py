"""One SeldonDeployment predictor as a local process speaking the Seldon v1 REST protocol.

`POST /api/v1.0/predictions` (also v0.1 and the ingress form
`/seldon/<ns>/<sdep>/api/v1.0/predictions`) takes a SeldonMessage and answers with one,
or with Seldon's `{"status": {...,"status": "FAILURE"}}` error. Requests wait for a model
slot; one whose caller has gone by then (a broker attempt that timed out), or whose
deadline (sent by the local broker) passes before a call would end, is not computed.
Like Seldon's executor, when the request carries `Ce-Specversion` the answer carries
CloudEvent headers: Ce-Id (the puid), Ce-Specversion 0.3, Ce-Type
`seldon.<sdep>.<ns>.response`, Ce-Source `seldon.<sdep>` and Ce-Path, so a Knative
broker routes it as a reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from aiohttp import web

from seldon_jupyter.backends.local.models import BadInput, LoadedModel, load
from seldon_jupyter.backends.local.serve import (
    DEADLINE_HEADER,
    TOKEN_ENV,
    announce,
    run,
    serve,
    token_required,
)
from seldon_jupyter.errors import ModelError, PayloadError
from seldon_jupyter.naming import response_source, response_type
from seldon_jupyter.payloads import message_array

PUID_HEADER = "Seldon-Puid"
WORKERS_ENV = "SELDON_JUPYTER_MODEL_WORKERS"
DEFAULT_WORKERS = 4  # threads running a Python model's predict at once


def _deadline(request: web.Request) -> float | None:
    try:
        return float(request.headers.get(DEADLINE_HEADER, ""))
    except ValueError:
        return None


class SeldonError(Exception):
    def __init__(self, code: int, info: str, reason: str) -> None:
        super().__init__(info)
        self.code, self.info, self.reason = code, info, reason


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None
          ) -> web.Response:
    """A JSON answer with `Content-Type: application/json` exactly, as the executor sends."""
    return web.Response(status=status, body=json.dumps(body).encode(),
                        headers={**(headers or {}), "Content-Type": "application/json"})


def _wrapper_error(exc: SeldonError, headers: dict[str, str]) -> web.Response:
    """python/seldon_core/flask_utils.py SeldonMicroserviceException.to_dict: status 1,
    code -1 and the reason; the HTTP status is 400 (bad data) or 500 (internal)."""
    return _json({"status": {"status": 1, "info": exc.info, "code": -1, "reason": exc.reason}},
                 status=exc.code, headers=headers)


class Predictor:
    def __init__(self, config: dict[str, Any], model: LoadedModel) -> None:
        self.config = config
        self.model = model
        self.deployment = config["deployment"]
        self.namespace = config["namespace"]
        self.unit = config["unit"]
        self.feedback_count = 0
        self.cost = 0.0  # seconds a model call takes (moving average)
        # one slot per worker thread: a request waits for a slot, not inside the executor's
        # queue, so it can still be dropped when its caller gives up
        count = int(os.environ.get(WORKERS_ENV) or DEFAULT_WORKERS)
        self.workers = ThreadPoolExecutor(max_workers=count, thread_name_prefix="model")
        self.slots = asyncio.Semaphore(count)

    def ce_headers(self, request: web.Request, puid: str) -> dict[str, str]:
        headers = {PUID_HEADER: puid, "X-Content-Type-Options": "nosniff"}
        if "Ce-Specversion" in request.headers:
            headers.update({
                "Ce-Id": puid,
                "Ce-Specversion": "0.3",
                "Ce-Path": request.path,
                "Ce-Type": response_type(self.deployment, self.namespace),
                "Ce-Source": response_source(self.deployment),
            })
        return headers

    async def _message(self, request: web.Request) -> dict[str, Any]:
        body = await request.read()
        if request.content_type == "application/x-www-form-urlencoded":
            values = parse_qs(body.decode(errors="replace")).get("json")
            if not values:
                raise SeldonError(400, "form request has no 'json' field", "MICROSERVICE_BAD_DATA")
            body = values[0].encode()
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SeldonError(400, f"Invalid JSON: {exc}", "MICROSERVICE_BAD_DATA") from exc
        except RecursionError as exc:
            raise SeldonError(400, "Invalid JSON: nested too deeply to read",
                              "MICROSERVICE_BAD_DATA") from exc
        if not isinstance(message, dict):
            raise SeldonError(400, "a SeldonMessage must be a JSON object",
                              "MICROSERVICE_BAD_DATA")
        return message

    def _predict(self, message: dict[str, Any]) -> dict[str, Any]:
        if "jsonData" in message or "strData" in message:
            if not self.model.accepts_json:
                raise SeldonError(400, "SKLEARN_SERVER expects data.ndarray or data.tensor, "
                                  "not jsonData/strData", "MICROSERVICE_BAD_DATA")
            key = "jsonData" if "jsonData" in message else "strData"
            return self._format(self._call(message[key], []), None)
        try:
            names, array = message_array(message)
        except PayloadError as exc:
            raise SeldonError(400, exc.message, "MICROSERVICE_BAD_DATA") from exc
        kind = "tensor" if "tensor" in message["data"] else "ndarray"
        return self._format(self._call(array, names), kind)

    def _call(self, X: Any, names: list[str]) -> Any:
        try:
            return self.model.predict(X, names)
        except SeldonError:
            raise
        except BadInput as exc:
            raise SeldonError(400, str(exc), "MICROSERVICE_BAD_DATA") from exc
        except Exception as exc:  # noqa: BLE001 - the model's failure becomes a Seldon error
            raise SeldonError(500, f"{type(exc).__name__}: {exc}",
                              "MICROSERVICE_INTERNAL_ERROR") from exc

    def _format(self, result: Any, kind: str | None) -> dict[str, Any]:
        if isinstance(result, dict | str) or kind is None and not isinstance(
                result, np.ndarray | list):
            return {"strData": result} if isinstance(result, str) else {"jsonData": result}
        if kind == "ndarray" and isinstance(result, list) and result and all(
                isinstance(row, list) for row in result):
            # plain Python rows keep their types (a class name beside a probability)
            width = len(result[0])
            if any(len(row) != width for row in result):
                raise SeldonError(500, "model returned ragged rows",
                                  "MICROSERVICE_INTERNAL_ERROR")
            names = self.model.class_names or [f"t:{i}" for i in range(width)]
            return {"data": {"names": names, "ndarray": result}}
        array = np.asarray(result)
        if array.dtype == object:
            raise SeldonError(500, "model returned a ragged array", "MICROSERVICE_INTERNAL_ERROR")
        names = self.model.class_names or (
            [f"t:{i}" for i in range(array.shape[1])] if array.ndim == 2 else [])
        if kind == "tensor" and array.dtype.kind in "biuf":
            data = {"names": names, "tensor": {"shape": list(array.shape),
                                               "values": array.ravel().tolist()}}
        else:
            data = {"names": names, "ndarray": array.tolist()}
        return {"data": data}

    def _meta(self, request_meta: Any) -> dict[str, Any]:
        """construct_response_json: puid and tags only echoed from the request's meta; the
        executor adds requestPath (unit -> image)."""
        meta: dict[str, Any] = {}
        if isinstance(request_meta, dict):
            meta.update({k: request_meta[k] for k in ("puid", "tags") if k in request_meta})
        meta["requestPath"] = {self.unit["name"]: self.model.image}
        for key, fn in self.model.extras.items():
            meta[key] = fn()
        return meta

    async def predictions(self, request: web.Request) -> web.Response:
        puid = request.headers.get(PUID_HEADER) or str(uuid.uuid4())
        headers = self.ce_headers(request, puid)
        try:
            message = await self._message(request)
            async with self.slots:
                late = self._too_late(request)
                if late:
                    # computing it now would only delay the requests somebody still waits
                    # for; a 503 is retried by the broker with its backoff
                    return web.Response(status=503, text=late)
                started = time.perf_counter()
                if self.model.accepts_json:
                    body = await asyncio.get_running_loop().run_in_executor(
                        self.workers, self._predict, message)
                else:
                    body = self._predict(message)
                took = time.perf_counter() - started
                self.cost = took if not self.cost else 0.8 * self.cost + 0.2 * took
            body["meta"] = self._meta(message.get("meta"))
            return _json(body, headers=headers)
        except SeldonError as exc:
            return _wrapper_error(exc, headers)

    def _too_late(self, request: web.Request) -> str | None:
        """Why a request that waited for a model slot is not worth computing: its caller
        closed the connection, or its deadline passes before a typical call would end."""
        transport = request.transport
        if transport is None or transport.is_closing():
            return "the caller went away while the request waited for the model\n"
        deadline = _deadline(request)
        if deadline is not None and time.time() + self.cost > deadline:
            return (f"the caller's deadline passes before the model ({self.cost:.3f}s a call) "
                    "could answer; not started\n")
        return None

    async def feedback(self, request: web.Request) -> web.Response:
        puid = request.headers.get(PUID_HEADER) or str(uuid.uuid4())
        try:
            message = await self._message(request)
        except SeldonError as exc:
            return _wrapper_error(exc, self.ce_headers(request, puid))
        self.feedback_count += 1
        reward = message.get("reward")
        return _json({"data": {"names": [], "ndarray": []},
                      "meta": {"tags": {"reward": reward}}},
                     headers=self.ce_headers(request, puid))

    async def metadata(self, _request: web.Request) -> web.Response:
        return _json({"name": self.config["predictor"],
                                  "models": {self.unit["name"]: {
                                      "name": self.unit["name"], "platform": self.model.image,
                                      "versions": ["local"], "note": self.model.note}}})

    async def ready(self, _request: web.Request) -> web.Response:
        return web.Response(text="ready")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024,
                              middlewares=[token_required(os.environ.get(TOKEN_ENV, ""))])
        for prefix in ("/api/v1.0", "/api/v0.1",
                       f"/seldon/{self.namespace}/{self.deployment}/api/v1.0"):
            app.router.add_post(f"{prefix}/predictions", self.predictions)
            app.router.add_post(f"{prefix}/feedback", self.feedback)
        app.router.add_get("/api/v1.0/metadata", self.metadata)
        for path in ("/ready", "/live", "/health/ping"):
            app.router.add_get(path, self.ready)
        app.router.add_route("*", "/{tail:.*}", self.not_found)
        return app

    async def not_found(self, _request: web.Request) -> web.Response:
        # the executor's Go router answers an unknown path (e.g. the docs' `predicions`)
        # with net/http's plain 404; Knative retries a 404
        return web.Response(status=404, body=b"404 page not found\n",
                            headers={"Content-Type": "text/plain; charset=utf-8"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seldon-jupyter local predictor")
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    config = json.loads(Path(args.config).read_text())
    try:
        model = load(config["unit"], model_class=config.get("model_class"),
                     path=config.get("python_path"))
    except ModelError as exc:
        announce(error=exc.message, hint=exc.hint)
        raise SystemExit(3) from None
    predictor = Predictor(config, model)
    announce(loaded=model.note)
    run(serve(predictor.app(), port=args.port))


if __name__ == "__main__":
    main()
