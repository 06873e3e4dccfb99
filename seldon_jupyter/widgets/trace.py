"""The dashboard's Trace tab: an event id (or the last one sent) -> its trace, and Replay.

It shows what `Session.trace` returns (its HTML timeline), and the Explain box answers
"which Trigger would take type T?" with `Session.explain`, so the tab walks a user from
"it did not arrive" to the filter that refused it.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from seldon_jupyter.widgets.base import Panel


class TracePanel(Panel):
    title = "Trace"

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.event_id = w.Text(description="event id", placeholder="empty: the last one sent")
        self.trace_button = w.Button(description="Trace", icon="search")
        self.replay_button = w.Button(description="Replay", icon="repeat", disabled=True)
        self.why_type = w.Text(description="type", placeholder="event type to explain")
        self.why_button = w.Button(description="Which Trigger?", icon="question")
        self.view = w.HTML()
        self._shown: str | None = None
        self.on_click(self.trace_button, self.show)
        self.on_click(self.replay_button, self.replay)
        self.on_click(self.why_button, self.why)
        self.layout_children(w.HBox([self.event_id, self.trace_button, self.replay_button]),
                             w.HBox([self.why_type, self.why_button]), self.view)

    def show(self) -> None:
        found = self.session.trace(self.event_id.value.strip() or "last")
        self._shown = found.id
        self.replay_button.disabled = False
        self.view.value = found._repr_html_()
        self.say(f"event <code>{html.escape(found.id)}</code>")

    def replay(self) -> None:
        if self._shown is None:
            return
        sent = self.session.replay([self._shown])
        self.say(f"replayed <code>{html.escape(self._shown)}</code> as "
                 f"<code>{html.escape(sent.ids[0] if sent.ids else '?')}</code>")

    def why(self) -> None:
        found = self.session.explain(type=self.why_type.value.strip() or None)
        self.view.value = found._repr_html_()

    def refresh(self) -> None:
        self.say("")
