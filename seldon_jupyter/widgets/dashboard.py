"""dashboard(): every panel in tabs, plus the topology broker -> triggers -> deployments ->
reply triggers, the picture of how events flow."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from seldon_jupyter.backends import Resource
from seldon_jupyter.backends.local.filters import UnsupportedFilter, compile_filter
from seldon_jupyter.events import new_event
from seldon_jupyter.session import Session, response_type
from seldon_jupyter.widgets.base import Panel, badge
from seldon_jupyter.widgets.deploy import DeployPanel
from seldon_jupyter.widgets.responses import ResponsesPanel
from seldon_jupyter.widgets.send import SendPanel
from seldon_jupyter.widgets.trigger import TriggerPanel


def _matches(trigger: Resource, event_type: str, source: str) -> bool:
    """Would this trigger take a reply of this type and source (Knative filter rules)?"""
    try:
        match = compile_filter(trigger.manifest.get("spec", {}))
    except UnsupportedFilter:
        return False
    return match(new_event(None, type=event_type, source=source, specversion="0.3"))


def topology_html(resources: list[Resource], namespace: str) -> str:
    mine = [r for r in resources if r.namespace == namespace]
    triggers = [r for r in mine if r.kind == "Trigger"]
    deployments = {r.name: r for r in mine if r.kind == "SeldonDeployment"}
    parts = []
    for broker in (r for r in mine if r.kind == "Broker"):
        items = []
        for trig in (t for t in triggers if t.manifest["spec"].get("broker") == broker.name):
            spec = trig.manifest["spec"]
            flt = ", ".join(f"{k}={v}" for k, v in
                            ((spec.get("filter") or {}).get("attributes") or {}).items()) or "all"
            ref = (spec.get("subscriber") or {}).get("ref") or {}
            target = f"{ref.get('kind', 'uri')} {ref.get('name', '')}".strip()
            line = (f"Trigger <b>{html.escape(trig.name)}</b> {badge(trig.state)} "
                    f"[{html.escape(flt)}] &rarr; {html.escape(target)}")
            sdep = deployments.get(ref.get("name", "")) if ref.get("kind") == \
                "SeldonDeployment" else None
            if sdep is not None:
                line += f" {badge(sdep.state)}"
                replies = [t for t in triggers if t.manifest["spec"].get("broker") ==
                           broker.name and _matches(t, response_type(sdep.name, namespace),
                                                    f"seldon.{sdep.name}")]
                line += "".join(f"<br>&nbsp;&nbsp;&nbsp;&nbsp;&#8627; reply "
                                f"<code>{response_type(sdep.name, namespace)}</code> &rarr; "
                                f"Trigger <b>{html.escape(t.name)}</b>" for t in replies)
            items.append(f"<li>{line}</li>")
        parts.append(f"<div>Broker <b>{html.escape(broker.name)}</b> {badge(broker.state)} "
                      f"<code>{html.escape(broker.address or '')}</code><ul>{''.join(items)}"
                      "</ul></div>")
    return "".join(parts) or "<i>no broker in this namespace</i>"


class TopologyPanel(Panel):
    title = "Topology"

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.view = w.HTML()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.on_click(self.refresh_button, self.refresh)
        self.layout_children(self.refresh_button, self.view)
        self.refresh()

    def refresh(self) -> None:
        self.view.value = topology_html(self.session.status(), self.session.namespace)


def dashboard(session: Session | None = None, *, live: bool = True) -> w.Tab:
    """Deploy, Trigger, Send, Responses and Topology panels in tabs over one Session."""
    session = session or Session()
    panels: list[Panel] = [DeployPanel(session), TriggerPanel(session), SendPanel(session),
                           ResponsesPanel(session, live=live), TopologyPanel(session)]
    panels[0].action(session.ensure_broker)
    tabs = w.Tab(children=panels)
    for i, panel in enumerate(panels):
        tabs.set_title(i, panel.title)

    def on_tab(change: dict) -> None:
        panel = panels[change["new"]]
        for name in ("refresh_deployments", "refresh_targets", "refresh"):
            if hasattr(panel, name):
                panel.action(getattr(panel, name))

    tabs.observe(on_tab, "selected_index")
    return tabs
