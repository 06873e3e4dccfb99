"""The API server's own answers: a Status object, and the text/plain 404 of a path it has
no handler for (what kube-apiserver up to 1.35 answers for an API group not installed)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

NOT_FOUND_TEXT = "404 page not found\n"


def status(code: int, reason: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": message, "reason": reason,
                              "details": details, "code": code}, status=code)
