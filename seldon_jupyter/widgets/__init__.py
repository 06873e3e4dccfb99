"""ipywidgets panels over `Session`: deploy, trigger, send, live responses, a dashboard.

Widgets never call a backend directly; they hold their fields and call Session, and show
any error in their own output area.
"""

from __future__ import annotations

from seldon_jupyter.widgets.dashboard import TopologyPanel, dashboard
from seldon_jupyter.widgets.deploy import DeployPanel
from seldon_jupyter.widgets.responses import ResponsesPanel
from seldon_jupyter.widgets.send import SendPanel
from seldon_jupyter.widgets.trace import TracePanel
from seldon_jupyter.widgets.trigger import TriggerPanel

__all__ = ["DeployPanel", "ResponsesPanel", "SendPanel", "TopologyPanel", "TracePanel",
           "TriggerPanel", "dashboard"]
