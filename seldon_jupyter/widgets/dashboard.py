"""dashboard(): every panel in tabs, plus the topology broker -> triggers -> deployments ->
reply triggers, the picture of how events flow."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from seldon_jupyter import topology
from seldon_jupyter.session import Session
from seldon_jupyter.widgets.base import Panel
from seldon_jupyter.widgets.deploy import DeployPanel
from seldon_jupyter.widgets.responses import ResponsesPanel
from seldon_jupyter.widgets.send import SendPanel
from seldon_jupyter.widgets.trace import TracePanel
from seldon_jupyter.widgets.trigger import TriggerPanel


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
        self.view.value = topology.to_html(self.session.topology())


def dashboard(session: Session | None = None, *, live: bool = True) -> w.Tab:
    """Deploy, Trigger, Send, Responses and Topology panels in tabs over one Session."""
    session = session or Session()
    panels: list[Panel] = [DeployPanel(session), TriggerPanel(session), SendPanel(session),
                           ResponsesPanel(session, live=live), TopologyPanel(session),
                           TracePanel(session)]
    panels[0].action(session.ensure_broker)
    tabs = w.Tab(children=panels)
    for i, panel in enumerate(panels):
        tabs.set_title(i, panel.title)

    def on_tab(change: dict[str, Any]) -> None:
        panel = panels[change["new"]]
        panel.action(panel.refresh)

    tabs.observe(on_tab, "selected_index")
    return tabs
