"""The table of backends: a name to the factory that builds it, imported only when used.

Nothing here imports a backend module at import time, so `import seldon_jupyter.backends`
costs nothing and no backend module can import this one back into a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from seldon_jupyter.errors import BackendError

if TYPE_CHECKING:
    from seldon_jupyter.backends.base import Backend

FACTORIES: dict[str, str] = {
    "local": "seldon_jupyter.backends.local:LocalBackend",
    "kubernetes": "seldon_jupyter.backends.kubernetes:KubernetesBackend",
}


def create(name: str, **options: Any) -> Backend:
    """Build the backend called `name` with its options (BackendError for an unknown one)."""
    try:
        module, _, attr = FACTORIES[name].partition(":")
    except KeyError:
        raise BackendError(f"unknown backend {name!r}",
                           hint=f"available: {', '.join(sorted(FACTORIES))}") from None
    factory = getattr(importlib.import_module(module), attr)
    backend: Backend = factory(**options)
    return backend
