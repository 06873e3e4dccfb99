"""The server extension's handlers in a real Jupyter server (pytest-jupyter)."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError
from tornado.simple_httpclient import HTTPStreamClosedError

from seldon_jupyter import resources
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config(local_home):
    return {"ServerApp": {"jpserver_extensions": {"seldon_jupyter": True}},
            "SeldonJupyter": {"home": str(local_home), "namespace": "sidebar"}}


@pytest.fixture
def deployed(backend):
    session = Session(backend, namespace="sidebar")
    session.apply([resources.broker(namespace="sidebar"),
                   resources.seldon_deployment("iris", namespace="sidebar"),
                   resources.trigger("to-iris", namespace="sidebar", deployment="iris",
                                     filter={"type": request_type("iris", "sidebar")}),
                   *resources.collector_manifests("display", namespace="sidebar",
                                                  filter={"type": response_type("iris",
                                                                                "sidebar")})],
                  wait=True, timeout=120)
    yield session
    session.close()


async def _get(jp_fetch, path, **params):
    response = await jp_fetch("seldon-jupyter", "api", path, params=params)
    return json.loads(response.body)


async def test_topology_draws_broker_triggers_deployment_and_reply_trigger(jp_fetch, deployed):
    shown = await _get(jp_fetch, "topology")
    assert shown["running"] and shown["namespace"] == "sidebar"
    (broker,) = shown["brokers"]
    assert broker["name"] == "default" and broker["state"] == "Ready"
    (trigger,) = broker["triggers"]  # the reply trigger hangs under the deployment
    assert trigger["name"] == "to-iris"
    assert trigger["subscriber"] == {"kind": "SeldonDeployment", "name": "iris", "uri": None,
                                     "state": "Available", "tone": "ok"}
    assert [r["name"] for r in trigger["replies"]] == ["display"]
    assert trigger["snippet"].startswith(
        "%%seldon_send --type seldon.iris.sidebar.request\n")


async def test_events_feed_pages_by_cursor(jp_fetch, deployed):
    sent = deployed.send([[5.1, 3.5, 1.4, 0.2]], type=request_type("iris", "sidebar"))
    deployed.responses(wait=20, count=1)
    first = await _get(jp_fetch, "events")
    ids = {item["id"] for item in first["items"]}
    assert sent.id in ids
    replies = [i for i in first["items"] if i["type"] == response_type("iris", "sidebar")]
    assert len(replies) == 1  # the broker's copy; the sink's copy of it is not repeated
    assert replies[0]["table"] == "events" and replies[0]["latency_ms"] > 0
    again = await _get(jp_fetch, "events", after_event=first["after_event"],
                       after_response=first["after_response"])
    assert again["items"] == []


async def test_bad_cursor_is_a_400_with_the_reason(jp_fetch):
    with pytest.raises(HTTPClientError) as info:
        await _get(jp_fetch, "events", after_event="soon")
    assert info.value.code == 400
    assert "after_event must be an integer" in info.value.response.reason
    for huge in ("1e23", str(10**23), "-1"):
        with pytest.raises(HTTPClientError) as info:
            await _get(jp_fetch, "events", after_event=huge)
        assert info.value.code == 400, huge  # was a 500 from SQLite's integer overflow


async def test_handlers_need_jupyters_authentication(jp_fetch, jp_serverapp):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("seldon-jupyter", "api", "topology", headers={"Authorization": ""})
    assert info.value.code == 403


async def test_stream_sends_topology_then_events(jp_fetch, deployed, jp_http_port, jp_base_url,
                                                 jp_auth_header):
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    chunks: list[str] = []
    deployed.send([[6.3, 3.3, 6.0, 2.5]], type=request_type("iris", "sidebar"))

    def on_chunk(chunk: bytes) -> None:
        chunks.append(chunk.decode())
        if "event: events" in "".join(chunks):
            raise StopStream

    class StopStream(Exception):
        pass

    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}seldon-jupyter/api/stream"
    # the stream is endless: the callback stops it at the first `events` message, and
    # tornado's client then reports the stream it closed
    with pytest.raises((StopStream, HTTPStreamClosedError)):
        await AsyncHTTPClient().fetch(HTTPRequest(url, headers=jp_auth_header,
                                                  streaming_callback=on_chunk,
                                                  request_timeout=20))
    text = "".join(chunks)
    assert text.startswith("event: topology\ndata: ")
    assert "event: events\ndata: " in text


async def test_trace_and_replay_for_the_inspector(jp_fetch, deployed):
    sent = deployed.send([[5.1, 3.5, 1.4, 0.2]], type=request_type("iris", "sidebar"))
    deployed.responses(wait=20, count=1)
    shown = await _get(jp_fetch, "trace", id=sent.id)
    trace = shown["trace"]
    assert trace["id"] == sent.id
    assert any(r["taken"] and r["state"] == "delivered" for r in trace["routes"])
    assert trace["replies"][0]["type"] == response_type("iris", "sidebar")
    missing = await _get(jp_fetch, "trace", id="no-such-event")
    assert "no event 'no-such-event'" in missing["error"]
    response = await jp_fetch("seldon-jupyter", "api", "replay", method="POST",
                              body=json.dumps({"id": sent.id}))
    replayed = json.loads(response.body)
    assert replayed["sent"] == 1 and replayed["ids"][0] != sent.id
    with pytest.raises(HTTPClientError) as info:
        await _get(jp_fetch, "trace")
    assert info.value.code == 400


async def test_the_feed_flags_unrouted_events(jp_fetch, deployed):
    nobody = deployed.send({"x": 1}, type="nobody.listens")
    feed = await _get(jp_fetch, "events")
    (item,) = [i for i in feed["items"] if i["id"] == nobody.id]
    assert item["flags"] == ["unrouted"]
    shown = await _get(jp_fetch, "topology")
    to_iris = shown["brokers"][0]["triggers"][0]
    assert to_iris["counts"].get("delivered", 0) >= 1


async def test_the_sidebar_settings_pick_the_namespace_and_are_checked(jp_fetch, deployed):
    other = await _get(jp_fetch, "topology", namespace="elsewhere")
    assert other["namespace"] == "elsewhere" and other["brokers"] == []
    mine = await _get(jp_fetch, "topology", namespace="sidebar", backend="local")
    assert [b["name"] for b in mine["brokers"]] == ["default"]
    for bad, words in ((dict(namespace="Not_A_Label"), "is not a DNS label"),
                       (dict(backend="mainframe"), "backend must be local or kubernetes")):
        with pytest.raises(HTTPClientError) as info:
            await _get(jp_fetch, "topology", **bad)
        assert info.value.code == 400 and words in info.value.response.reason


async def test_backend_start_is_the_palette_command(jp_fetch, deployed):
    response = await jp_fetch("seldon-jupyter", "api", "backend", method="POST",
                              body=json.dumps({"action": "start"}))
    started = json.loads(response.body)
    assert started["started"] and started["running"]  # already running: nothing new
    assert started["broker_url"].startswith("http://127.0.0.1:")
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("seldon-jupyter", "api", "backend", method="POST",
                       body=json.dumps({"action": "explode"}))
    assert info.value.code == 400 and '"start" | "stop"' in info.value.response.reason


async def test_twenty_idle_streams_share_one_poller(jp_fetch, deployed, jp_serverapp,
                                                    jp_http_port, jp_base_url, jp_auth_header):
    """Each stream used to read the feed twice a second and the topology every two seconds
    on its own: 50 idle sidebars cost a CPU core."""
    import asyncio

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    state = jp_serverapp.web_app.settings["seldon_jupyter"]
    calls = {"events": 0, "topology": 0}

    def counting(name):
        real = getattr(state, name)

        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return call

    state.events, state.topology = counting("events"), counting("topology")
    chunks: list[list[str]] = [[] for _ in range(20)]
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}seldon-jupyter/api/stream"
    client = AsyncHTTPClient(force_instance=True, max_clients=32)
    try:
        results = await asyncio.gather(*(client.fetch(HTTPRequest(
            url, headers=jp_auth_header, request_timeout=4,
            streaming_callback=lambda chunk, i=i: chunks[i].append(chunk.decode())))
            for i in range(20)), return_exceptions=True)
    finally:
        client.close()
    assert all("event: topology\ndata: " in "".join(c) for c in chunks), results[:2]
    assert calls["topology"] <= 4, calls  # one poller: every 2 s, not 20 streams x 2
    assert calls["events"] <= 25, calls  # each stream reads its first page, then on change
