"""SendPanel: send test CloudEvents to the broker, pre-filled for a deployment."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as w

from seldon_jupyter.naming import request_type
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
        self.deployment.observe(self._prefill, "value")
        self.payload.observe(lambda _c: self.parsed(), "value")
        self.on_click(self.send_button, self.send)
        self.refresh_deployments()
        self.parsed()
        self.layout_children(self.deployment, self.type, self.source, self.specversion,
                             self.mode, self.payload, self.valid, self.count, self.rate,
                             self.send_button, self.progress)

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
            self.valid.value = ('<span style="color:#c62828">invalid JSON: '
                                f"{html.escape(str(exc))}</span>")
            return None
        self.valid.value = '<span style="color:#2e7d32">valid JSON</span>'
        return value

    def send(self) -> None:
        payload = self.parsed()
        if payload is None:
            self.say('<span style="color:#c62828">fix the payload JSON first</span>')
            return
        attrs = {"type": self.type.value.strip() or None, "source": self.source.value.strip(),
                 "specversion": self.specversion.value,
                 "structured": self.mode.value == "structured"}
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
                                         progress=progress, **attrs)
        self.say(f"sent {summary.sent} events in {summary.elapsed_s:.2f}s "
                 f"({summary.rate:.0f}/s), {summary.failed} refused")
