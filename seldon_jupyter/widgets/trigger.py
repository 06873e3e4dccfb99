"""TriggerPanel: build a Trigger (filters, subscriber, delivery), see its YAML, apply it."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from seldon_jupyter import resources
from seldon_jupyter.widgets.base import Panel, badge

SUBSCRIBERS = ["deployment", "service", "uri"]


class TriggerPanel(Panel):
    title = "Trigger"

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.name = w.Text(value="my-trigger", description="name")
        self.broker = w.Text(value=self.session.broker, description="broker")
        self.rows = w.VBox([])
        self.add_row_button = w.Button(description="add filter", icon="plus")
        self.kind = w.ToggleButtons(options=SUBSCRIBERS, value="deployment",
                                    description="subscriber")
        self.target = w.Combobox(placeholder="deployment name", description="target",
                                 ensure_option=False)
        self.uri = w.Text(placeholder="http://... or a path with a ref", description="uri",
                          layout=w.Layout(width="60%"))
        self.retry = w.BoundedIntText(value=0, min=0, max=100, description="retry")
        self.backoff = w.Text(value="PT0.2S", description="backoff")
        self.dead_letter = w.Text(placeholder="dead-letter sink URI (optional)",
                                  description="dead letter", layout=w.Layout(width="60%"))
        self.preview = w.HTML()
        self.apply_button = w.Button(description="Apply", button_style="primary", icon="check")
        self.delete_button = w.Button(description="Delete", button_style="danger", icon="trash")
        self.add_row("type", "")
        self.add_row_button.on_click(lambda _b: self.add_row("", ""))
        for field in (self.name, self.broker, self.kind, self.target, self.uri, self.retry,
                      self.backoff, self.dead_letter):
            field.observe(lambda _c: self.refresh_preview(), "value")
        self.kind.observe(lambda _c: self.refresh_targets(), "value")
        self.on_click(self.apply_button, self.apply)
        self.on_click(self.delete_button, self.delete)
        self.refresh_targets()
        self.layout_children(
            self.name, self.broker, w.HTML("<b>filter</b> (every attribute must match exactly)"),
            self.rows, self.add_row_button, self.kind, self.target, self.uri,
            w.HTML("<b>delivery</b>"), w.HBox([self.retry, self.backoff]), self.dead_letter,
            w.HBox([self.apply_button, self.delete_button]), self.preview)

    def add_row(self, attribute: str, value: str) -> None:
        key = w.Text(value=attribute, placeholder="attribute", layout=w.Layout(width="25%"))
        val = w.Text(value=value, placeholder="value", layout=w.Layout(width="50%"))
        remove = w.Button(icon="times", layout=w.Layout(width="40px"))
        row = w.HBox([key, val, remove])
        remove.on_click(lambda _b: self._remove(row))
        for field in (key, val):
            field.observe(lambda _c: self.refresh_preview(), "value")
        self.rows.children = [*self.rows.children, row]
        self.refresh_preview()

    def _remove(self, row: w.HBox) -> None:
        self.rows.children = [r for r in self.rows.children if r is not row]
        self.refresh_preview()

    def filters(self) -> dict[str, str]:
        return {r.children[0].value.strip(): r.children[1].value for r in self.rows.children
                if r.children[0].value.strip()}

    def refresh(self) -> None:
        self.refresh_targets()

    def refresh_targets(self) -> None:
        kind = {"deployment": "SeldonDeployment", "service": "Service"}.get(self.kind.value)
        found = self.action(lambda: self.session.status(kind)) if kind else []
        self.target.options = [r.name for r in found or []
                               if r.namespace == self.session.namespace]
        self.target.placeholder = f"{self.kind.value} name" if kind else "(not used)"
        self.target.disabled = kind is None

    def manifest(self) -> dict[str, Any]:
        delivery: dict[str, Any] = {}
        if self.retry.value:
            delivery.update(retry=self.retry.value, backoffDelay=self.backoff.value.strip())
        if self.dead_letter.value.strip():
            delivery["deadLetterSink"] = {"uri": self.dead_letter.value.strip()}
        target = self.target.value.strip() or None
        return resources.trigger(
            self.name.value.strip(), broker=self.broker.value.strip(),
            namespace=self.session.namespace, filter=self.filters() or None,
            deployment=target if self.kind.value == "deployment" else None,
            service=target if self.kind.value == "service" else None,
            uri=self.uri.value.strip() or None, delivery=delivery or None)

    def refresh_preview(self) -> None:
        try:
            text = resources.to_yaml([resources.validate(self.manifest(),
                                                         self.session.namespace)])
            self.preview.value = f"<pre>{html.escape(text)}</pre>"
        except Exception as exc:  # noqa: BLE001 - the preview shows what is still missing
            self.preview.value = f'<pre style="color:#c62828">{html.escape(str(exc))}</pre>'

    def apply(self) -> None:
        res = self.session.apply(self.manifest(), wait=False)[0]
        self.say(f"Trigger <b>{res.name}</b>: {badge(res.state)} {html.escape(res.reason)}")

    def delete(self) -> None:
        self.session.delete("Trigger", self.name.value.strip())
        self.say(f"Trigger <b>{html.escape(self.name.value)}</b> deleted")
