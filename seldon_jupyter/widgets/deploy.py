"""DeployPanel: deploy or delete a SeldonDeployment, and see its live state and reason.

By default it also wires the walkthrough around it: a Trigger sending request events
(`seldon.<name>.<ns>.request`) to the deployment and an event-display collector on its
response events, so Send and Responses work right away.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import ipywidgets as w

from seldon_jupyter import resources, schemas
from seldon_jupyter.backends.base import Resource
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.widgets.base import Panel, badge

BUILT_IN = "built-in iris"


class DeployPanel(Panel):
    title = "Deploy"

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.name = w.Text(value="iris-deployment", description="name")
        self.namespace = w.Text(value=self.session.namespace, description="namespace",
                                disabled=True)
        self.implementation = w.Dropdown(options=list(schemas.IMPLEMENTATIONS[:5]),
                                         value="SKLEARN_SERVER", description="server")
        self.source = w.ToggleButtons(options=[BUILT_IN, "model URI"], value=BUILT_IN,
                                      description="model")
        self.model_uri = w.Text(value=resources.IRIS_URI, description="modelUri",
                                layout=w.Layout(width="60%"), disabled=True)
        self.wire = w.Checkbox(value=True, description="also create the request trigger and "
                               "the event-display collector", indent=False)
        self.deploy_button = w.Button(description="Deploy", button_style="primary", icon="upload")
        self.delete_button = w.Button(description="Delete", button_style="danger", icon="trash")
        self.state = w.HTML(value="")
        self.source.observe(self._source_changed, "value")
        self.on_click(self.deploy_button, self.deploy)
        self.on_click(self.delete_button, self.delete)
        self.layout_children(self.name, self.namespace, self.implementation, self.source,
                             self.model_uri, self.wire,
                             w.HBox([self.deploy_button, self.delete_button]), self.state)

    def _source_changed(self, change: dict[str, Any]) -> None:
        built_in = change["new"] == BUILT_IN
        self.model_uri.disabled = built_in
        if built_in:
            self.model_uri.value = resources.IRIS_URI

    def manifests(self) -> list[dict[str, Any]]:
        name, ns = self.name.value.strip(), self.session.namespace
        out = [resources.seldon_deployment(name, model_uri=self.model_uri.value.strip(),
                                           implementation=self.implementation.value,
                                           namespace=ns)]
        if self.wire.value:
            out += [resources.trigger(f"{name}-requests", broker=self.session.broker,
                                      namespace=ns, filter={"type": request_type(name, ns)},
                                      deployment=name),
                    *resources.event_display("event-display", namespace=ns),
                    resources.trigger(f"{name}-responses", broker=self.session.broker,
                                      namespace=ns, filter={"type": response_type(name, ns)},
                                      service="event-display")]
        return out

    def show(self, res: Resource) -> None:
        reason = f" - {res.reason}" if res.reason else ""
        self.state.value = (f"SeldonDeployment <b>{res.name}</b>: {badge(res.state)}"
                            f"{reason}<br><code>{res.address or ''}</code>")

    def deploy(self) -> None:
        applied = self.session.apply(self.manifests())
        self.show(applied[0])
        self.say(f"applied {len(applied)} resource(s); waiting for Available...")
        threading.Thread(target=self._watch, args=(applied[0].name,), daemon=True).start()

    def _watch(self, name: str) -> None:
        deadline = time.monotonic() + self.session.timeout  # the settings' wait for Ready
        while time.monotonic() < deadline:
            res = self.action(lambda: self.session.get("SeldonDeployment", name))
            if res is None:
                return
            self.show(res)
            if res.state in ("Available", "Failed"):
                self.say(f"{name} is {res.state}")
                return
            time.sleep(0.5)

    def delete(self) -> None:
        name = self.name.value.strip()
        self.session.delete("SeldonDeployment", name)
        for trig in (f"{name}-requests", f"{name}-responses"):
            if any(r.name == trig and r.namespace == self.session.namespace
                   for r in self.session.status("trigger")):
                self.session.delete("Trigger", trig)
        self.state.value = f"SeldonDeployment <b>{name}</b> deleted"
        self.say("deleted")
