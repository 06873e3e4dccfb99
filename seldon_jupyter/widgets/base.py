"""What every panel shares: the Session it calls, an output area for errors, a status line.

Panels hold no state of their own beyond their fields; every action is a Session call run
through `Panel.action`, so a failure lands in the panel's own output with its reason and
hint instead of disappearing into the kernel log, once (the next action clears it). A
button is disabled while its action runs; a long action (a send of many events) runs on
a worker thread so the kernel stays free and a Cancel button is heard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.session import Session
from seldon_jupyter.states import badge, error_text

__all__ = ["Panel", "badge"]

class Panel(w.VBox):
    """A VBox with a session, a status line and an output area for messages and errors."""

    title = "panel"

    def __init__(self, session: Session | None = None, **kwargs: Any) -> None:
        self.session = session or Session()
        self.status = w.HTML(value="")
        self.output = w.Output(layout=w.Layout(max_height="240px", overflow="auto"))
        self.worker: threading.Thread | None = None  # a background action, while it runs
        super().__init__(**kwargs)

    def layout_children(self, *rows: w.Widget) -> None:
        self.children = [*rows, self.status, self.output]

    def say(self, message: str) -> None:
        self.status.value = message

    def clear(self) -> None:
        """Forget the last action's message and errors (each is shown once)."""
        self.status.value = ""
        self.output.outputs = ()

    def action(self, fn: Callable[[], Any]) -> Any:
        """Run a Session call; errors are shown in this panel with their reason, once: the
        next action clears them."""
        self.clear()
        try:
            return fn()
        except SeldonJupyterError as exc:
            self.status.value = error_text(exc.message)
            hint = f"\nhint: {exc.hint}" if exc.hint else ""
            self.output.append_stdout(f"{type(exc).__name__}: {exc.message}{hint}\n")
        except Exception as exc:  # noqa: BLE001 - shown to the user, never swallowed
            self.status.value = error_text(str(exc))
            self.output.append_stdout(f"{type(exc).__name__}: {exc}\n")
        return None

    def refresh(self) -> None:
        """Re-read from the Session what the panel shows (when its tab is opened)."""

    def on_click(self, button: w.Button, fn: Callable[[], Any]) -> None:
        """`fn` as the button's action; the button is disabled while it runs."""
        def run(_b: w.Button) -> None:
            button.disabled = True
            try:
                self.action(fn)
            finally:
                button.disabled = False
        button.on_click(run)

    def in_background(self, fn: Callable[[], Any], *busy: w.Button,
                      done: Callable[[], None] | None = None) -> threading.Thread:
        """Run `fn` as an action on a worker thread, so the kernel stays free (other cells
        run, a Cancel button is heard); `busy` buttons are disabled until it ends."""
        for button in busy:
            button.disabled = True

        def work() -> None:
            try:
                self.action(fn)
            finally:
                for button in busy:
                    button.disabled = False
                if done is not None:
                    done()
        self.worker = threading.Thread(target=work, name=f"seldon-{self.title}", daemon=True)
        self.worker.start()
        return self.worker
