"""The server extension's one Session, configured from the `SeldonJupyter` config section.

`c.SeldonJupyter.backend = "kubernetes"` (and namespace, broker, home, context, kubeconfig,
timeout: the fields of `seldon_jupyter.settings`) in jupyter_server_config.py chooses what
the sidebar shows; the sidebar's own settings (backend, namespace) pick another per request.
The local backend is read here and started or stopped only when the user asks (`control`,
the lab's "Start / Stop the local backend" commands). Errors from the backend are returned
as data (`error`, `hint`) so the sidebar can show them.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.server.hub import Hub
from seldon_jupyter.session import Session
from seldon_jupyter.settings import SettingsTraits


class SeldonJupyter(SettingsTraits):
    """Settings of the server extension: `c.SeldonJupyter.<name>` in Jupyter config."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()
        self.hub = Hub(self)  # one poller per (backend, namespace) for all open streams

    def session(self, backend: str = "", namespace: str = "") -> Session:
        """The Session for a backend and namespace ("" = the configured ones)."""
        key = (backend or self.backend, namespace or self.namespace)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = self.settings().changed(
                    backend=key[0], namespace=key[1] or None).session(start=False)
            return self._sessions[key]

    def control(self, action: str, backend: str = "", namespace: str = "") -> dict[str, Any]:
        """Start or stop the backend where the kit runs it (the local cluster)."""
        try:
            session = self.session(backend, namespace)
            if action == "start":
                return {"started": True, **session.start()}
            return {"stopped": session.stop()}
        except SeldonJupyterError as exc:
            return {"error": str(exc).split("\n")[0], "hint": exc.hint}

    def topology(self, backend: str = "", namespace: str = "") -> dict[str, Any]:
        head = {"backend": backend or self.backend, "namespace": namespace or self.namespace}
        empty: dict[str, Any] = {"brokers": [], "deployments": [], "others": [], "orphans": []}
        try:
            session = self.session(backend, namespace)
            head["namespace"] = session.namespace
            if not session.describe().get("running"):
                return {**head, "running": False, **empty, "hint": "the local backend starts "
                        "with the first notebook that uses it"}
            return {**head, "running": True, **session.topology()}
        except SeldonJupyterError as exc:
            return {**head, "running": False, **empty, "error": str(exc).split("\n")[0],
                    "hint": exc.hint}

    def trace(self, event_id: str, backend: str = "", namespace: str = "") -> dict[str, Any]:
        """The trace of one event as JSON (the sidebar's inspector), or an error to show."""
        try:
            return {"trace": dataclasses.asdict(self.session(backend, namespace).trace(
                event_id))}
        except SeldonJupyterError as exc:
            return {"error": str(exc).split("\n")[0], "hint": exc.hint}

    def replay(self, event_id: str, backend: str = "", namespace: str = "") -> dict[str, Any]:
        try:
            sent = self.session(backend, namespace).replay([event_id])
            return {"sent": sent.sent, "ids": sent.ids}
        except SeldonJupyterError as exc:
            return {"error": str(exc).split("\n")[0], "hint": exc.hint}

    def events(self, after_event: int, after_response: int, limit: int, backend: str = "",
               namespace: str = "") -> dict[str, Any]:
        return self.session(backend, namespace).feed(after_event, after_response, limit=limit)

    def heads(self, backend: str = "", namespace: str = "") -> tuple[int, int] | None:
        """The journal's newest positions for the streams to compare (None: unreadable)."""
        try:
            return self.session(backend, namespace).heads()
        except SeldonJupyterError:
            return None

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
