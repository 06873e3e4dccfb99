"""seldon-jupyter: Seldon Core + Knative Eventing stream processing as notebook components.

`Session` is the entry point; `resources` builds manifests, `events` CloudEvents and
`tables` Seldon messages from arrays and DataFrames. Names are imported on first use
(PEP 562): the broker and model-server processes import modules of this package and must
not pay for pandas, requests or yaml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldon_jupyter.backends.base import Resource
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
    from seldon_jupyter.naming import request_type, response_type
    from seldon_jupyter.session import Session
    from seldon_jupyter.settings import Settings

__version__ = "0.1.0"

_EXPORTS = {
    "Resource": "seldon_jupyter.backends.base", "Session": "seldon_jupyter.session",
    "Settings": "seldon_jupyter.settings", "request_type": "seldon_jupyter.naming",
    "response_type": "seldon_jupyter.naming",
    **{name: "seldon_jupyter.errors" for name in (
        "BackendError", "EventError", "ManifestError", "ModelError", "NotFoundError",
        "NotReadyError", "PayloadError", "SeldonJupyterError", "SendError")},
}

__all__ = [
    "BackendError", "EventError", "ManifestError", "ModelError", "NotFoundError",
    "NotReadyError", "PayloadError", "Resource", "SeldonJupyterError", "SendError", "Session",
    "Settings", "request_type", "response_type",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext seldon_jupyter`: register the %seldon_* magics."""
    from seldon_jupyter.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from seldon_jupyter.magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The server extension behind the lab sidebar."""
    return [{"module": "seldon_jupyter.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped inside the package."""
    return [{"src": "labextension", "dest": "seldon-jupyter"}]
