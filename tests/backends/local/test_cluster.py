"""Control plane: validation at apply, status like the CRDs, token, state file, restarts."""

from __future__ import annotations

import os
import signal
import stat

import pytest
import requests

from seldon_jupyter import resources
from seldon_jupyter.backends.local.backend import LocalBackend
from seldon_jupyter.backends.local.serve import check_loopback
from seldon_jupyter.backends.local.state import read_state
from seldon_jupyter.errors import BackendError, ManifestError, NotFoundError, NotReadyError
from seldon_jupyter.session import Session
from tests.helpers import pid_listening_on, wait_for


def test_state_file_is_private_and_the_control_api_needs_its_token(backend, local_home):
    path = local_home / "state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    state = read_state(local_home)
    assert requests.get(f"{state.control_url}/v1/resources", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.get(f"{state.control_url}/v1/resources", headers=wrong,
                        timeout=5).status_code == 401
    ok = {"Authorization": f"Bearer {state.token}"}
    assert requests.get(f"{state.control_url}/v1/resources", headers=ok,
                        timeout=5).status_code == 200
    reload = requests.post(f"{state.broker_url}/control/reload", headers=wrong, timeout=5)
    assert reload.status_code == 401


def test_a_second_client_finds_the_same_cluster(backend, local_home):
    other = LocalBackend(local_home)
    assert other.running().pid == backend.running().pid
    other.close()


def test_servers_refuse_non_loopback_binds():
    with pytest.raises(BackendError, match="loopback only"):
        check_loopback("0.0.0.0")
    assert check_loopback("127.0.0.1") == "127.0.0.1"


def test_invalid_manifest_is_refused_with_the_field(session):
    bad = resources.trigger("t", namespace=session.namespace, uri="http://x")
    bad["spec"]["delivery"] = {"backoffDelay": "two seconds"}
    with pytest.raises(ManifestError, match="spec.delivery.backoffDelay"):
        session.apply(bad)
    assert not [r for r in session.status("trigger") if r.namespace == session.namespace]


def test_container_images_other_than_event_display_are_refused(session):
    m = resources.event_display("web", namespace=session.namespace)[0]
    m["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:latest"
    with pytest.raises(ManifestError, match="cannot run container image") as info:
        session.apply(m)
    assert info.value.field == "spec.template.spec.containers"


def test_failed_model_reports_the_reason_and_wait_ready_raises_it(session):
    session.apply(resources.seldon_deployment("missing-model", model_uri="/no/such/dir",
                                              namespace=session.namespace))
    with pytest.raises(NotReadyError, match="does not exist"):
        session.wait_ready(("sdep", "missing-model"), timeout=60)
    res = session.get("sdep", "missing-model")
    assert res.state == "Failed" and "/no/such/dir" in res.reason
    assert res.status["conditions"][0]["status"] == "False"


def test_wait_ready_times_out_with_what_is_missing(session):
    session.apply(resources.trigger("waits", namespace=session.namespace, deployment="later"))
    with pytest.raises(NotReadyError, match="Trigger .*waits is NotReady") as info:
        session.wait_ready(("trigger", "waits"), timeout=0.5)
    assert "SeldonDeployment" in str(info.value) and "not found" in str(info.value)


def test_trigger_status_follows_its_broker_and_subscriber(session, iris_model_dir):
    ns = session.namespace
    session.apply(resources.trigger("t", namespace=ns, broker="other", deployment="m"))
    trig = session.get("trigger", "t")
    conditions = {c["type"]: c for c in trig.status["conditions"]}
    assert conditions["BrokerReady"]["reason"] == "BrokerDoesNotExist"
    assert conditions["SubscriberResolved"]["status"] == "False"
    session.apply([resources.broker("other", namespace=ns),
                   resources.seldon_deployment("m", model_uri=str(iris_model_dir), namespace=ns)])
    ready = session.wait_ready(("trigger", "t"), timeout=60)[0]
    assert ready.ready and ready.status["subscriberUri"].endswith("/api/v1.0/predictions")
    sdep = session.get("sdep", "m")
    assert sdep.state == "Available" and sdep.address == ready.address


def test_a_cesql_filter_that_does_not_parse_is_refused_at_apply(session):
    # Knative's Trigger webhook parses spec.filters[].cesql and refuses what does not parse
    m = resources.trigger("sql", namespace=session.namespace, uri="http://127.0.0.1:9/")
    m["spec"]["filters"] = [{"cesql": "type = 'x' AND"}]
    with pytest.raises(ManifestError, match="cannot parse CESQL") as info:
        session.apply(m)
    assert info.value.field == "spec.filters[0].cesql"
    with pytest.raises(NotFoundError):
        session.get("trigger", "sql")


def test_delete_and_not_found(session):
    session.apply(resources.trigger("gone", namespace=session.namespace, uri="http://x.y/"))
    session.delete("trigger", "gone")
    with pytest.raises(NotFoundError):
        session.get("trigger", "gone")
    with pytest.raises(NotFoundError):
        session.delete("trigger", "gone")


def test_killed_predictor_is_restarted_on_the_same_port(session, backend):
    sdep = session.deploy("restartable")
    port = int(sdep.address.split(":")[2].split("/")[0])
    assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=5).ok
    pid = pid_listening_on(port)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid_listening_on(port) not in (None, pid), timeout=60)
    again = session.wait_ready(("sdep", "restartable"), timeout=60)[0]
    assert again.address == sdep.address


@pytest.mark.slow
def test_resources_survive_a_supervisor_restart(tmp_path):
    first = Session(home=tmp_path, namespace="keep")
    try:
        first.ensure_broker()
        first.deploy("persisted")
        first.backend.down()
        second = Session(home=tmp_path, namespace="keep")
        back = second.wait_ready(("sdep", "persisted"), ("broker", "default"), timeout=90)
        assert [r.ready for r in back] == [True, True]
        second.close()
    finally:
        first.backend.down()
        first.close()
