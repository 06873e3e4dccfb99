"""Rich result objects that magics (and later the lab extension) return instead of printing.

Each has an HTML view for notebooks, a short text form for terminals and logs, and a
custom MIME bundle the JupyterLab extension can render; the data stays reachable as
attributes (`.resources`, `.frame`, `.ids`) for code in the next cell.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from seldon_jupyter.backends.base import Resource
from seldon_jupyter.sender import SendResult, SendSummary
from seldon_jupyter.states import badge, error_text, tone

MIME_TYPE = "application/vnd.seldon-jupyter+json"


@dataclass(frozen=True)
class ResourceTable:
    """Resources with their state, address and reason (what %seldon_status shows)."""

    resources: Sequence[Resource]
    title: str = "Seldon / Knative resources"

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"kind": r.kind, "namespace": r.namespace, "name": r.name,
                              "state": r.state, "ready": r.ready, "address": r.address or "",
                              "reason": r.reason} for r in self.resources],
                            columns=["kind", "namespace", "name", "state", "ready", "address",
                                     "reason"])

    def __repr__(self) -> str:
        if not self.resources:
            return f"{self.title}: none"
        return "\n".join(f"{r.kind:<17} {r.namespace}/{r.name:<28} {r.state:<10} "
                         f"{r.address or ''}{'  # ' + r.reason if r.reason else ''}"
                         for r in self.resources)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r.kind)}</td><td>{html.escape(r.namespace)}</td>"
            f"<td><b>{html.escape(r.name)}</b></td><td>{badge(r.state)}</td>"
            f"<td><code>{html.escape(r.address or '')}</code></td>"
            f"<td>{html.escape(r.reason)}</td></tr>" for r in self.resources)
        return (f"<div><b>{html.escape(self.title)}</b><table><thead><tr><th>kind</th>"
                "<th>namespace</th><th>name</th><th>state</th><th>address</th><th>reason</th>"
                f"</tr></thead><tbody>{rows}</tbody></table></div>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # everything the HTML view shows: the title, and each state's tone for its colour
        return {MIME_TYPE: {"kind": "resources", "title": self.title,
                            "rows": self.frame.to_dict("records"),
                            "tones": [tone(r.state) for r in self.resources]},
                "text/html": self._repr_html_(), "text/plain": repr(self)}


@dataclass(frozen=True)
class SendReport:
    """What a send did: how many events, their ids, and the responses if it waited."""

    ids: list[str]
    failed: int = 0
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    event_type: str = ""
    responses: pd.DataFrame | None = None
    warning: str = ""  # e.g. "accepted, and dropped: no Trigger matches ..."

    @classmethod
    def of(cls, outcome: SendResult | SendSummary, event_type: str,
           responses: pd.DataFrame | None = None, warning: str = "") -> SendReport:
        if isinstance(outcome, SendResult):
            return cls([outcome.id], event_type=event_type, responses=responses,
                       warning=warning)
        return cls(list(outcome.ids), outcome.failed, outcome.elapsed_s, list(outcome.errors),
                   event_type, responses, warning)

    @property
    def sent(self) -> int:
        return len(self.ids)

    def _summary(self) -> str:
        text = f"sent {self.sent} event(s) of type {self.event_type}"
        if self.elapsed_s:
            text += f" in {self.elapsed_s:.2f}s ({self.sent / self.elapsed_s:.0f}/s)"
        if self.failed:
            text += f", {self.failed} refused (first: {self.errors[0]})"
        if self.responses is not None:
            text += f"; {len(self.responses)} response(s) collected"
        if self.warning:
            text += f"\nwarning: {self.warning}"
        return text

    def __repr__(self) -> str:
        return self._summary()

    def _repr_html_(self) -> str:
        summary, _, warning = self._summary().partition("\nwarning: ")
        body = f"<div>{html.escape(summary)}</div>"
        if warning:
            body += f"<div class='sj-warning'>{error_text('warning: ' + warning)}</div>"
        if self.responses is not None and len(self.responses):
            shown = self.responses.drop(columns=["attributes", "data"], errors="ignore")
            body += shown.tail(20).to_html(max_cols=20)
        return body

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        if self.responses is not None and len(self.responses):
            shown = self.responses.drop(columns=["attributes", "data"], errors="ignore")
            rows = json.loads(shown.tail(20).to_json(orient="records", date_format="iso"))
        summary = self._summary().partition("\nwarning: ")[0]
        return {MIME_TYPE: {"kind": "send", "sent": self.sent, "failed": self.failed,
                            "type": self.event_type, "ids": self.ids[:100],
                            "summary": summary, "warning": self.warning, "rows": rows},
                "text/html": self._repr_html_(), "text/plain": repr(self)}


@dataclass(frozen=True)
class YamlText:
    """Manifests shown as YAML (what --dry-run returns)."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"


@dataclass(frozen=True)
class BackendInfo:
    """Which backend a Session talks to, and where."""

    backend: str
    namespace: str
    broker: str
    broker_url: str
    details: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.details.items())
        return (f"backend {self.backend}: namespace {self.namespace}, broker {self.broker} at "
                f"{self.broker_url}" + (f" ({extra})" if extra else ""))

    def _repr_html_(self) -> str:
        return f"<div><code>{html.escape(repr(self))}</code></div>"
