"""Panels without a browser: set fields, click, check Session state and the panel output."""

from __future__ import annotations

import pytest

from seldon_jupyter.widgets import (
    DeployPanel,
    ResponsesPanel,
    SendPanel,
    TopologyPanel,
    TriggerPanel,
    dashboard,
)
from tests.helpers import wait_for


@pytest.fixture
def deployed(session):
    panel = DeployPanel(session)
    panel.name.value = "iris"
    panel.deploy_button.click()
    wait_for(lambda: "Available" in panel.state.value, timeout=60)
    return panel


def test_deploy_panel_deploys_and_wires_the_walkthrough(session, deployed):
    names = {(r.kind, r.name) for r in session.status() if r.namespace == session.namespace}
    assert {("SeldonDeployment", "iris"), ("Trigger", "iris-requests"),
            ("Trigger", "iris-responses"), ("Service", "event-display")} <= names
    assert "stand-in" in deployed.state.value
    deployed.delete_button.click()
    assert "deleted" in deployed.state.value
    assert not [r for r in session.status("trigger") if r.namespace == session.namespace
                and r.name.startswith("iris-")]


def test_deploy_panel_shows_the_failure_reason(session):
    panel = DeployPanel(session)
    panel.name.value = "broken"
    panel.source.value = "model URI"
    panel.model_uri.value = "/no/such/model"
    panel.wire.value = False
    panel.deploy_button.click()
    wait_for(lambda: "Failed" in panel.state.value, timeout=60)
    assert "/no/such/model" in panel.state.value and "does not exist" in panel.state.value


def test_errors_land_in_the_panel_output(session):
    panel = DeployPanel(session)
    panel.name.value = "Not_A_Valid_Name"
    panel.deploy_button.click()
    assert "metadata.name" in panel.status.value
    assert "RFC 1123" in "".join(o.get("text", "") for o in panel.output.outputs)


def test_trigger_panel_previews_yaml_and_applies(session, deployed):
    panel = TriggerPanel(session)
    panel.name.value = "extra"
    panel.rows.children[0].children[1].value = "custom.type"
    panel.add_row_button.click()
    panel.rows.children[1].children[0].value = "source"
    panel.rows.children[1].children[1].value = "me"
    assert "iris" in panel.target.options
    panel.target.value = "iris"
    panel.retry.value = 2
    panel.dead_letter.value = "http://dl.example/"
    assert "type: custom.type" in panel.preview.value and "retry: 2" in panel.preview.value
    panel.apply_button.click()
    trig = session.get("trigger", "extra")
    assert trig.manifest["spec"]["filter"]["attributes"] == {"type": "custom.type",
                                                             "source": "me"}
    assert trig.manifest["spec"]["delivery"]["deadLetterSink"] == {"uri": "http://dl.example/"}
    panel.rows.children[1].children[2].click()  # remove the source row
    assert "source: me" not in panel.preview.value


def test_send_and_live_responses(session, deployed):
    responses = ResponsesPanel(session, interval=0.2)
    try:
        send = SendPanel(session)
        assert send.deployment.value == "iris"
        assert send.type.value == f"seldon.iris.{session.namespace}.request"
        send.count.value = 12
        send.rate.value = 100.0
        send.send_button.click()  # on a worker thread: the kernel stays free
        send.worker.join(30)
        assert send.progress.value == 12 and "12 events" in send.status.value
        assert responses.wait_for(12, timeout=30) == 12  # updated by the live thread
        assert f"seldon.iris.{session.namespace}.response: 12" in responses.counts.value
        assert "t:0" in responses.table.value
        assert bytes(responses.latency_plot.value).startswith(b"\x89PNG")
        send.payload.value = "{not json"
        send.send_button.click()
        send.worker.join(30)
        assert "fix the payload JSON" in send.status.value
    finally:
        responses.close()


def test_topology_and_dashboard(session, deployed):
    topo = TopologyPanel(session)
    assert "iris-requests" in topo.view.value
    assert f"reply <code>seldon.iris.{session.namespace}.response</code>" in topo.view.value
    tabs = dashboard(session, live=False)
    assert [tabs.get_title(i) for i in range(6)] == ["Deploy", "Trigger", "Send", "Responses",
                                                     "Topology", "Trace"]
    tabs.selected_index = 4  # the observer refreshes the tab synchronously
    assert "iris-responses" in tabs.children[4].view.value


# -- the fast layer over the FakeBackend --------------------------------------------------------


def test_fake_dashboard_topology_and_responses(fake):
    from seldon_jupyter import resources
    from seldon_jupyter.naming import request_type, response_type

    fake.ensure_broker()
    fake.deploy("iris")
    fake.apply([resources.trigger("iris-requests", namespace="fast", deployment="iris",
                                  filter={"type": request_type("iris", "fast")}),
                *resources.collector_manifests("iris-responses", namespace="fast", filter={
                    "type": response_type("iris", "fast")})])
    topo = TopologyPanel(fake)
    assert "Trigger <b>iris-requests</b>" in topo.view.value
    assert f"reply <code>{response_type('iris', 'fast')}</code>" in topo.view.value
    responses = ResponsesPanel(fake, live=False)
    try:
        assert "no responses yet" in responses.table.value
        fake.send_many([[1, 2, 3, 4]] * 3, type=request_type("iris", "fast"))
        responses.refresh()
        assert responses.table.value.count("<tr>") == 3  # one body row per response
    finally:
        responses.close()
    tabs = dashboard(fake, live=False)
    tabs.selected_index = 4
    assert "iris-responses" in tabs.children[4].view.value
    trace_tab = tabs.children[5]
    assert tabs.get_title(5) == "Trace"
    trace_tab.trace_button.click()  # the last event sent
    assert "sj-trace" in trace_tab.view.value and not trace_tab.replay_button.disabled
    trace_tab.replay_button.click()
    assert "replayed" in trace_tab.status.value
    trace_tab.why_type.value = "nobody"
    trace_tab.why_button.click()
    assert "accepted, and dropped" in trace_tab.view.value


def iris_to_collector(fake, *extra):
    """iris behind a request Trigger, its answers to the collector `all` (plus `extra`)."""
    from seldon_jupyter import resources
    from seldon_jupyter.naming import request_type, response_type

    fake.ensure_broker()
    fake.deploy("iris")
    fake.apply([resources.trigger("to-iris", namespace="fast", deployment="iris",
                                  filter={"type": request_type("iris", "fast")}),
                *resources.collector_manifests("all", namespace="fast", filter={
                    "type": response_type("iris", "fast")}), *extra])
    return request_type("iris", "fast")


def test_fake_responses_panel_takes_mixed_deployments(fake):
    # iris answers (t:0) and a namer's text answers in one journal: the plots must not fail
    from seldon_jupyter import resources

    request = iris_to_collector(fake, resources.trigger("names", namespace="fast",
                                                        service="all",
                                                        filter={"type": "namer.response"}))
    fake.send_many([[1, 2, 3, 4]] * 2, type=request)
    fake.send({"data": {"names": ["name"], "ndarray": [["setosa"]]}}, type="namer.response")
    fake.send({"other": True}, type="namer.response")
    panel = ResponsesPanel(fake, live=False)
    try:
        # this run only, by default: what was answered before the panel opened is not shown
        assert "no responses yet since this panel opened" in panel.table.value
        panel.scope.value = "everything"
        assert panel.output.outputs == () and "4</b> responses" in panel.counts.value
        assert bytes(panel.class_plot.value).startswith(b"\x89PNG")
    finally:
        panel.close()


def test_fake_panel_errors_are_shown_once_and_cleared_by_the_next_action(fake):
    panel = DeployPanel(fake)
    panel.name.value = "Not_A_Valid_Name"
    panel.deploy_button.click()
    panel.deploy_button.click()
    texts = [o.get("text", "") for o in panel.output.outputs]
    assert len(texts) == 1 and "metadata.name" in texts[0]  # once, not twice
    assert not panel.deploy_button.disabled  # enabled again after the action
    fake.ensure_broker()
    panel.name.value = "iris"
    panel.deploy_button.click()
    assert panel.output.outputs == ()  # the next action cleared it
    assert "metadata.name" not in panel.status.value


def send_panel(fake, takes: str, typed: str) -> SendPanel:
    """A Send panel with `typed` as its type, on a broker whose one Trigger takes `takes`."""
    from seldon_jupyter import resources

    fake.ensure_broker()
    fake.apply(resources.trigger("to-sink", namespace="fast", service="sink",
                                 filter={"type": takes}))
    send = SendPanel(fake)
    send.type.value = typed
    return send


def test_fake_send_runs_in_the_background_and_cancels(fake):
    send = send_panel(fake, "slow.type", "slow.type")
    send.count.value = 400
    send.rate.value = 40.0  # 10 s at this rate: cancelled long before
    worker = send.start_send()
    assert worker is not None and worker.is_alive()  # the call returned: the kernel is free
    assert send.send_button.disabled and not send.cancel_button.disabled
    assert send.start_send() is None  # one send at a time
    wait_for(lambda: send.progress.value >= 5, timeout=10)
    send.cancel_button.click()
    worker.join(10)
    assert not worker.is_alive()
    assert not send.send_button.disabled and send.cancel_button.disabled
    sent = len(fake.events(type="slow.type"))
    assert 5 <= sent < 400
    assert f"sent {sent} events" in send.status.value
    assert f"{400 - sent} cancelled" in send.status.value
    assert send.warning.value == ""  # a Trigger takes slow.type


def test_fake_send_says_what_will_happen_to_unanswered_events(fake):
    from seldon_jupyter import resources

    send = send_panel(fake, "seldon.iris.fast.request", "seldon.iri.fast.request")
    send.start_send().join(10)
    assert "accepted, and dropped: no Trigger matches; nearest fast/to-sink" in \
        send.warning.value
    assert "(HTTP 202)" in send.status.value  # the broker took it all the same
    fake.apply(resources.seldon_deployment("broken", model_uri="/no/such/model",
                                           namespace="fast"))
    send.refresh()
    send.deployment.value = "broken"
    send.start_send().join(10)
    assert "deployment broken is Failed" in send.warning.value
    assert "/no/such/model does not exist" in send.warning.value


def test_fake_responses_panel_bounds_rows_and_plots_transparently(fake):
    request = iris_to_collector(fake)
    panel = ResponsesPanel(fake, live=False)
    try:
        fake.send_many([[1, 2, 3, 4]] * 40, type=request)
        panel.refresh()
        assert "40</b> responses (newest 15 shown)" in panel.counts.value
        assert panel.table.value.count("<tr>") == 15  # the newest 15 (the header row is styled)
        png = bytes(panel.latency_plot.value)
        import io

        import matplotlib.image as mpimg
        pixels = mpimg.imread(io.BytesIO(png))
        assert pixels.shape[2] == 4 and pixels[0, 0, 3] == 0.0  # a transparent corner
    finally:
        panel.close()
