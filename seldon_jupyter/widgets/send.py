"""SendPanel: send test CloudEvents to the broker, pre-filled for a deployment.

A send runs on a worker thread (the kernel stays free), with progress and a Cancel that
stops what has not been sent yet; before the events go, the panel says what will happen
to them when nothing will answer: a type no Trigger takes (accepted, and dropped, with the
nearest Trigger's filter) or a deployment that is Failed.
"""

from __future__ import annotations

import html
import json
import threading
from typing import Any

import ipywidgets as w

from seldon_jupyter.naming import request_type
from seldon_jupyter.states import COLOURS
from seldon_jupyter.widgets.base import Panel

DEFAULT_PAYLOAD = '{"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}'


class SendPanel(Panel):
    title = "Send"

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.deployment = w.Combobox(placeholder="deployment", description="deployment",
                                     ensure_option=False)
        self.type = w.Text(description="type", layout=w.Layout(width="60%"))
        self.source = w.Text(value="seldon-jupyter.widget", description="source")
        self.specversion = w.Dropdown(options=["1.0", "0.3"], value="1.0",
                                      description="specversion")
        self.mode = w.ToggleButtons(options=["binary", "structured"], value="binary",
                                    description="mode")
        self.payload = w.Textarea(value=DEFAULT_PAYLOAD, description="payload",
                                  layout=w.Layout(width="80%", height="90px"))
        self.valid = w.HTML()
        self.count = w.BoundedIntText(value=1, min=1, max=100_000, description="events")
        self.rate = w.BoundedFloatText(value=0.0, min=0.0, max=100_000.0,
                                       description="rate /s", tooltip="0 = as fast as possible")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="sent")
        self.send_button = w.Button(description="Send", button_style="primary",
                                    icon="paper-plane")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.warning = w.HTML()
        self._cancel = threading.Event()
        self.deployment.observe(self._prefill, "value")
        self.payload.observe(lambda _c: self.parsed(), "value")
        self.send_button.on_click(lambda _b: self.start_send())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.refresh_deployments()
        self.parsed()
        self.layout_children(self.deployment, self.type, self.source, self.specversion,
                             self.mode, self.payload, self.valid, self.count, self.rate,
                             w.HBox([self.send_button, self.cancel_button]), self.progress,
                             self.warning)

    def refresh(self) -> None:
        self.refresh_deployments()

    def refresh_deployments(self) -> None:
        found = self.action(lambda: self.session.status("SeldonDeployment")) or []
        names = [r.name for r in found if r.namespace == self.session.namespace]
        self.deployment.options = names
        if names and not self.deployment.value:
            self.deployment.value = names[0]

    def _prefill(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.type.value = request_type(change["new"], self.session.namespace)

    def parsed(self) -> Any:
        """The payload as JSON, or None with the error shown under the editor."""
        try:
            value = json.loads(self.payload.value)
        except ValueError as exc:
            self.valid.value = (f'<span style="color:{COLOURS["error"]}">invalid JSON: '
                                f"{html.escape(str(exc))}</span>")
            return None
        self.valid.value = f'<span style="color:{COLOURS["ok"]}">valid JSON</span>'
        return value

    def start_send(self) -> threading.Thread | None:
        """Send on a worker thread; Send is disabled and Cancel enabled until it ends."""
        if self.worker is not None and self.worker.is_alive():
            return None
        self._cancel.clear()
        self.cancel_button.disabled = False

        def finished() -> None:
            self.cancel_button.disabled = True
        return self.in_background(self.send, self.send_button, done=finished)

    def cancel(self) -> None:
        self._cancel.set()

    def _warn(self, event_type: str | None, source: str) -> str:
        """What will happen to these events when nothing will answer them ("" if fine)."""
        name = self.deployment.value.strip()
        if name:
            found = [r for r in self.session.status("SeldonDeployment") if r.name == name]
            if found and found[0].failed:
                return (f"deployment {name} is Failed ({found[0].reason}): nothing will "
                        "answer these events")
        if not event_type:
            return ""
        return self.session.explain(type=event_type, source=source).dropped_warning(
            "the Trigger panel")

    def send(self) -> None:
        payload = self.parsed()
        self.warning.value = ""
        if payload is None:
            self.say(f'<span style="color:{COLOURS["error"]}">fix the payload JSON first</span>')
            return
        attrs = {"type": self.type.value.strip() or None, "source": self.source.value.strip(),
                 "specversion": self.specversion.value,
                 "structured": self.mode.value == "structured"}
        warning = self._warn(attrs["type"], str(attrs["source"]) or self.session.source)
        if warning:
            self.warning.value = (f'<span class="sj-warning" style="color:{COLOURS["warn"]}">'
                                  f"warning: {html.escape(warning)}</span>")
        count = self.count.value
        self.progress.max, self.progress.value = count, 0
        if count == 1:
            result = self.session.send(payload, **attrs)
            self.progress.value = 1
            self.say(f"sent {html.escape(result.id)} (HTTP {result.status})")
            return

        def progress(done: int, _total: int) -> None:
            self.progress.value = done

        summary = self.session.send_many([payload] * count, rate=self.rate.value or None,
                                         progress=progress, cancel=self._cancel, **attrs)
        stopped = f", {summary.cancelled} cancelled" if summary.cancelled else ""
        self.say(f"sent {summary.sent} events in {summary.elapsed_s:.2f}s "
                 f"({summary.rate:.0f}/s), {summary.failed} refused{stopped}")
        if summary.errors:
            self.output.append_stdout("\n".join(summary.errors[:5]) + "\n")
