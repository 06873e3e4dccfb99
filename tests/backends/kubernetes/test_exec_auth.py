"""An exec-plugin kubeconfig whose tokens expire during a long send (PROTOCOL.md: "Exec/OIDC
tokens expire: refresh them during a long send"), and a kubeconfig `proxy-url` that API
calls and sends alike must go through.

The plugin is a real process the official client runs (client.authentication.k8s.io
ExecCredential); each token it prints is signed by the double and expires LIFETIME seconds
later, as an OIDC ID token does. A send that outlasts several lifetimes succeeds only if
every request asks the client for a current token.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time

from seldon_jupyter.backends.kubernetes import KubernetesBackend
from seldon_jupyter.session import Session
from tests.kube.tls import kubeconfig

LIFETIME = 1.5


def plugin(tmp_path, key: bytes):
    runs = tmp_path / "runs"
    script = tmp_path / "plugin.py"
    script.write_text(textwrap.dedent(f"""
        import hashlib, hmac, json, time
        from datetime import datetime, timezone
        expires = time.time() + {LIFETIME}
        body = f"tester.{{int(expires * 1000)}}"
        mac = hmac.new(bytes.fromhex("{key.hex()}"), body.encode(), hashlib.sha256)
        with open({str(runs)!r}, "a") as log:
            log.write("run\\n")
        stamp = datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1",
                           "kind": "ExecCredential",
                           "status": {{"token": f"{{body}}.{{mac.hexdigest()}}",
                                      "expirationTimestamp": stamp}}}}))
    """))
    return script, runs


def test_tokens_are_refreshed_during_a_long_send(cluster, tmp_path):
    server, cert_session, _ = cluster
    cert_session.ensure_broker()
    cert_session.wait_ready(("Broker", "default"), timeout=30)
    script, runs = plugin(tmp_path, server.auth.key)
    path = kubeconfig(tmp_path / "exec-config", f"https://127.0.0.1:{server.port}",
                      server.pki, namespace=cert_session.namespace, auth="exec",
                      exec_script=script)
    assert json.loads((tmp_path / "exec-config").read_text())["users"][0]["user"]["exec"][
        "command"] == sys.executable
    backend = KubernetesBackend(kubeconfig=path, home=tmp_path / "exec-home")
    session = Session(backend)
    try:
        started = time.monotonic()
        summary = session.send_many([[5.1, 3.5, 1.4, 0.2]] * 12, type="seldon.iris.request",
                                    rate=3.0, concurrency=2)
        took = time.monotonic() - started
        one = session.send([[6.0, 3.0, 4.8, 1.8]], type="seldon.iris.request")
    finally:
        backend.close()
    assert took > 2.5 * LIFETIME  # the send outlived its first tokens
    assert summary.sent == 12 and not summary.errors, summary
    assert one.status == 202
    assert len(runs.read_text().splitlines()) >= 3  # the plugin was asked again
    assert len(server.auth.seen) >= 3  # and the API server saw fresh tokens


def test_a_proxy_url_carries_api_calls_and_sends(cluster, tmp_path):
    from tests.kube.connect_proxy import ConnectProxy

    server, cert_session, mirror = cluster
    cert_session.ensure_broker()
    cert_session.wait_ready(("Broker", "default"), timeout=30)
    proxy = ConnectProxy()
    path = server.kubeconfig(tmp_path / "proxied", cert_session.namespace,
                             proxy_url=proxy.url)
    backend = KubernetesBackend(kubeconfig=path, home=tmp_path / "proxied-home")
    session = Session(backend)
    try:
        assert [r.name for r in session.status("broker")] == ["default"]
        listed = len(proxy.tunnels)
        assert listed >= 1
        sent = session.send([[1, 2, 3, 4]], type="via.proxy")
        many = session.send_many([[1, 2, 3, 4]] * 5, type="via.proxy", concurrency=2)
    finally:
        backend.close()
        proxy.close()
    assert sent.status == 202
    assert many.sent == 5 and not many.errors, many.errors
    assert len(proxy.tunnels) > listed  # the send went through the proxy too
    assert set(proxy.tunnels) == {f"127.0.0.1:{server.port}"}
    assert sorted(mirror.events(type="via.proxy")["id"]) == sorted([sent.id, *many.ids])
