"""The server extension's one Session, configured from the `SeldonJupyter` config section.

`c.SeldonJupyter.backend = "kubernetes"` (and namespace, broker, home, context) in
jupyter_server_config.py chooses what the sidebar shows. Errors from the backend are
returned as data (`error`, `hint`) so the sidebar can show them instead of failing.
"""

from __future__ import annotations

import threading
from typing import Any

from traitlets import Unicode
from traitlets.config import Configurable

from seldon_jupyter import feed
from seldon_jupyter.backends.local.client import LocalBackend
from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.server import topology
from seldon_jupyter.session import Session


class SeldonJupyter(Configurable):
    """Settings of the server extension: `c.SeldonJupyter.<name>` in Jupyter config."""

    backend = Unicode("local", help="local or kubernetes").tag(config=True)
    namespace = Unicode("default", help="namespace the sidebar shows").tag(config=True)
    broker = Unicode("default", help="broker events are sent to").tag(config=True)
    home = Unicode("", help="workdir (default $SELDON_JUPYTER_HOME)").tag(config=True)
    context = Unicode("", help="kubeconfig context (kubernetes)").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: Session | None = None
        self._lock = threading.Lock()

    def session(self) -> Session:
        with self._lock:
            if self._session is None:
                if self.backend == "local":
                    backend: Any = LocalBackend(self.home or None, start=False)
                    self._session = Session(backend, namespace=self.namespace,
                                            broker=self.broker)
                else:
                    self._session = Session(self.backend, namespace=self.namespace,
                                            broker=self.broker, home=self.home or None,
                                            context=self.context or None)
            return self._session

    def _running(self, session: Session) -> bool:
        backend = session.backend
        return not isinstance(backend, LocalBackend) or backend.running() is not None

    def topology(self) -> dict[str, Any]:
        head = {"backend": self.backend, "namespace": self.namespace}
        try:
            session = self.session()
            if not self._running(session):
                return {**head, "running": False, "brokers": [], "deployments": [],
                        "others": [], "hint": "the local backend starts with the first "
                        "notebook that uses it"}
            return {**head, "running": True, **topology.build(session.status())}
        except SeldonJupyterError as exc:
            return {**head, "running": False, "brokers": [], "deployments": [], "others": [],
                    "error": str(exc).split("\n")[0], "hint": exc.hint}

    def events(self, after_event: int, after_response: int, limit: int) -> dict[str, Any]:
        session = self.session()
        try:
            if self._running(session):
                session.backend.collect(self.namespace)
        except SeldonJupyterError:
            pass  # the topology call reports backend errors; the feed shows what it has
        return feed.recent(session.backend.journal_path(), after_event=after_event,
                           after_response=after_response, limit=limit,
                           namespace=self.namespace)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
