"""The embedded local backend: broker and model servers as processes on 127.0.0.1.

`LocalBackend` is imported on first use (PEP 562), so the broker and predictor processes,
which import modules of this package, do not pay for the client side (requests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seldon_jupyter.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]


def __getattr__(name: str) -> Any:
    if name == "LocalBackend":
        from seldon_jupyter.backends.local.backend import LocalBackend

        return LocalBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
