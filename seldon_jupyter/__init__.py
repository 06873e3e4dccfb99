"""seldon-jupyter: Seldon Core + Knative Eventing stream processing as notebook components.

`Session` is the entry point; `resources` builds manifests, `events` CloudEvents and
`payloads` Seldon messages.
"""

from __future__ import annotations

from seldon_jupyter.backends import Resource
from seldon_jupyter.errors import (
    BackendError,
    EventError,
    ManifestError,
    ModelError,
    NotFoundError,
    NotReadyError,
    PayloadError,
    SeldonJupyterError,
    SendError,
)
from seldon_jupyter.session import Session, request_type, response_type

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext seldon_jupyter`: register the %seldon_* magics."""
    from seldon_jupyter.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    from seldon_jupyter.magics import unload_ipython_extension as unload

    unload(ipython)

__all__ = [
    "BackendError", "EventError", "ManifestError", "ModelError", "NotFoundError",
    "NotReadyError", "PayloadError", "Resource", "SeldonJupyterError", "SendError", "Session",
    "request_type", "response_type",
]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The server extension behind the lab sidebar."""
    return [{"module": "seldon_jupyter.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped inside the package."""
    return [{"src": "labextension", "dest": "seldon-jupyter"}]
