"""The server extension's one Session, configured from the `SeldonJupyter` config section.

`c.SeldonJupyter.backend = "kubernetes"` (and namespace, broker, home, context, kubeconfig,
timeout: the fields of `seldon_jupyter.settings`) in jupyter_server_config.py chooses what
the sidebar shows. The local backend is read here but never started. Errors from the
backend are returned as data (`error`, `hint`) so the sidebar can show them.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.session import Session
from seldon_jupyter.settings import SettingsTraits


class SeldonJupyter(SettingsTraits):
    """Settings of the server extension: `c.SeldonJupyter.<name>` in Jupyter config."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: Session | None = None
        self._lock = threading.Lock()

    def session(self) -> Session:
        with self._lock:
            if self._session is None:
                self._session = self.settings().session(start=False)
            return self._session

    def topology(self) -> dict[str, Any]:
        head = {"backend": self.backend, "namespace": self.namespace}
        empty: dict[str, Any] = {"brokers": [], "deployments": [], "others": [], "orphans": []}
        try:
            session = self.session()
            head["namespace"] = session.namespace
            if not session.describe().get("running"):
                return {**head, "running": False, **empty, "hint": "the local backend starts "
                        "with the first notebook that uses it"}
            return {**head, "running": True, **session.topology()}
        except SeldonJupyterError as exc:
            return {**head, "running": False, **empty, "error": str(exc).split("\n")[0],
                    "hint": exc.hint}

    def trace(self, event_id: str) -> dict[str, Any]:
        """The trace of one event as JSON (the sidebar's inspector), or an error to show."""
        try:
            return {"trace": dataclasses.asdict(self.session().trace(event_id))}
        except SeldonJupyterError as exc:
            return {"error": str(exc).split("\n")[0], "hint": exc.hint}

    def replay(self, event_id: str) -> dict[str, Any]:
        try:
            sent = self.session().replay([event_id])
            return {"sent": sent.sent, "ids": sent.ids}
        except SeldonJupyterError as exc:
            return {"error": str(exc).split("\n")[0], "hint": exc.hint}

    def events(self, after_event: int, after_response: int, limit: int) -> dict[str, Any]:
        return self.session().feed(after_event, after_response, limit=limit)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
