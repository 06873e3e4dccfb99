"""One error tree for the whole package.

Every backend, the broker client and the manifest code translate what goes wrong into
these classes at their seam, so a notebook user sees one message that says what was
wrong and what to do, and can still catch the fitting builtin (ValueError, LookupError...).
"""

from __future__ import annotations


class SeldonJupyterError(Exception):
    """Root of every error this package raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)

    def _render_traceback_(self) -> list[str]:
        """In IPython: show the message and hint, not a traceback from deep inside."""
        lines = [f"{type(self).__name__}: {self.message}"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return lines


class ManifestError(SeldonJupyterError, ValueError):
    """A manifest is malformed or invalid; `field` names the offending path."""

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message, hint=hint)


class EventError(SeldonJupyterError, ValueError):
    """A CloudEvent could not be built or parsed."""


class PayloadError(SeldonJupyterError, ValueError):
    """A Seldon payload could not be built from, or turned back into, Python data."""


class NotFoundError(SeldonJupyterError, LookupError):
    """A resource, broker or endpoint does not exist."""


class NotReadyError(SeldonJupyterError, TimeoutError):
    """A resource did not become ready in time, or failed; the message has the reason."""


class SendError(SeldonJupyterError, RuntimeError):
    """The broker refused an event or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class BackendError(SeldonJupyterError, RuntimeError):
    """The backend itself (local daemon, cluster) failed or is unreachable."""


class ModelError(SeldonJupyterError, RuntimeError):
    """A model could not be loaded or served."""
