"""Every magic through a real IPython InteractiveShell against the real local cluster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from sklearn.datasets import load_iris

from seldon_jupyter import resources
from seldon_jupyter.results import BackendInfo, ResourceTable, SendReport, YamlText


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "seldon_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "seldon_jupyter")


@pytest.fixture
def ip(shell, session, local_home, ns):
    run(shell, f"%config SeldonMagics.home = '{local_home}'")
    run(shell, f"%config SeldonMagics.namespace = '{ns}'")
    return shell


def run(shell, code: str):
    """Run a cell; fail the test if it raised."""
    result = shell.run_cell(code, store_history=False)
    if not result.success:
        error = result.error_in_exec or result.error_before_exec
        raise AssertionError(f"cell failed: {code!r}: {error}")
    return result.result


def fails(shell, code: str):
    result = shell.run_cell(code, store_history=False)
    assert not result.success
    return result.error_in_exec or result.error_before_exec


def test_backend_magic_shows_and_sets(ip, ns, local_home):
    info = run(ip, "%seldon_backend local")
    assert isinstance(info, BackendInfo)
    assert info.namespace == ns and info.broker_url.endswith(f"/{ns}/default")
    assert str(local_home) in repr(info)
    error = fails(ip, "%seldon_backend mainframe")
    assert "invalid choice" in str(error)


def test_walkthrough_with_magics(ip, ns):
    applied = run(ip, "%%seldon_apply\napiVersion: eventing.knative.dev/v1\nkind: Broker\n"
                      "metadata:\n  name: default\n")
    assert isinstance(applied, ResourceTable) and applied.resources[0].ready
    deployed = run(ip, "%seldon_deploy iris-deployment")
    assert deployed.resources[0].state == "Available"
    trig = run(ip, f"%seldon_trigger to-iris --type seldon.iris-deployment.{ns}.request "
                   "--to iris-deployment")
    assert trig.resources[0].ready
    collected = run(ip, "%seldon_collect --source seldon.iris-deployment")
    assert [r.kind for r in collected.resources] == ["Deployment", "Service", "Trigger"]
    report = run(ip, '%%seldon_send --to iris-deployment --specversion 0.3 --wait 20\n'
                     '{"data": {"ndarray": [[1, 2, 3, 4]]}}')
    assert isinstance(report, SendReport) and report.sent == 1
    assert len(report.responses) == 1
    assert report.responses["request_id"][0] == report.ids[0]
    ip.user_ns["X"] = load_iris(as_frame=True).data.head(20)
    many = run(ip, "%seldon_send X --to iris-deployment --rate 200 --wait 20 -o sent")
    assert many.sent == 20 and ip.user_ns["sent"] is many
    assert len(many.responses) == 20
    frame = run(ip, "%seldon_responses --since last --wait 10 --count 20")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 20
    assert {"t:0", "t:1", "t:2", "latency_ms"} <= set(frame.columns)
    assert run(ip, "%seldon_responses -q -o everything") is None
    assert len(ip.user_ns["everything"]) == 21
    status = run(ip, "%seldon_status")
    kinds = {r.kind for r in status.resources}
    assert kinds == {"Broker", "SeldonDeployment", "Trigger", "Deployment", "Service"}
    assert "iris-deployment" in status._repr_html_()
    assert [r.kind for r in run(ip, "%seldon_status sdep").resources] == ["SeldonDeployment"]
    deleted = run(ip, "%seldon_delete trigger to-iris")
    assert "deleted trigger to-iris" in repr(deleted)
    assert "to-iris" not in {r.name for r in run(ip, "%seldon_status trigger").resources}


def test_batch_count_and_array_payloads(ip, ns):
    run(ip, "%seldon_collect everything")
    ip.user_ns["arr"] = np.arange(8).reshape(2, 4)
    one = run(ip, "%seldon_send arr --type arrays --batch --kind tensor --wait 10")
    assert one.sent == 1
    data = json.loads(one.responses["data"][0])
    # the kit sets meta.puid to the event's id on messages it builds (Seldon echoes it)
    assert data == {"data": {"tensor": {"shape": [2, 4], "values": list(range(8))}},
                    "meta": {"puid": one.ids[0]}}
    ip.user_ns["msg"] = {"hello": "world"}
    three = run(ip, "%seldon_send msg --type hello --count 3 --structured --wait 10")
    assert three.sent == 3 and len(three.responses) == 3


def test_dry_runs_print_yaml_and_apply_nothing(ip, ns):
    text = run(ip, "%seldon_deploy dry --model-uri /models/x --param method=predict --dry-run")
    assert isinstance(text, YamlText)
    assert "modelUri: /models/x" in repr(text) and "name: method" in repr(text)
    trig = run(ip, "%seldon_trigger t --type a --filter tenant=x --uri http://h/ --retry 2 "
                   "--backoff-delay PT0.1S --dead-letter http://dl/ --dry-run")
    assert "deadLetterSink" in repr(trig) and "tenant: x" in repr(trig)
    assert "<pre>" in trig._repr_html_()
    assert run(ip, "%seldon_status sdep").resources == []


@pytest.mark.parametrize(("code", "message"), [
    ("%seldon_send --type x", "give a payload"),
    ("%seldon_send nosuchvar --type x", "no variable named 'nosuchvar'"),
    ("%%seldon_send --type x\n{not json", "not JSON"),
    ("%seldon_send --count 2", "give --type TYPE or --to SDEP"),
    ("%seldon_trigger t --type x", "give a subscriber"),
    ("%seldon_deploy", "the following arguments are required: name"),
    ("%seldon_deploy x --param nokey", "key=value"),
    ("%seldon_responses --since someday", "--since"),
    ("%seldon_delete", "required"),
])
def test_bad_usage_is_a_usage_error(ip, code, message):
    error = fails(ip, code)
    assert type(error).__name__ == "UsageError"
    assert message in str(error)


def test_runtime_errors_show_the_reason_not_a_traceback(ip):
    error = fails(ip, "%seldon_deploy broken --model-uri /does/not/exist --timeout 30")
    assert type(error).__name__ == "NotReadyError"
    assert "does not exist" in str(error)
    lines = error._render_traceback_()
    assert lines[0].startswith("NotReadyError: SeldonDeployment")


def test_help_is_available(ip):
    assert "--to SDEP" in ip.find_line_magic("seldon_send").__doc__
    assert "YAML manifests" in ip.find_cell_magic("seldon_apply").__doc__


def test_config_traits_are_settable(ip):
    run(ip, "%config SeldonMagics.timeout = 5.0")
    magics = next(m for m in ip.configurables if type(m).__name__ == "SeldonMagics")
    assert magics.timeout == 5.0
    run(ip, "%config SeldonMagics.timeout = 120.0")


# -- the fast layer: usage errors and literals over the FakeBackend ----------------------------


@pytest.fixture
def fake_ip(shell, fake):
    from seldon_jupyter.magics import SeldonMagics

    magics = next(m for m in shell.configurables if isinstance(m, SeldonMagics))
    saved = magics._session
    magics._session = fake
    yield shell
    magics._session = saved


def test_send_takes_json_literals_on_the_line(fake_ip, fake):
    fake.ensure_broker()
    fake.apply(resources.trigger("all", namespace="fast", service="sink"))
    rows = run(fake_ip, "%seldon_send [[1, 2, 3, 4], [5, 6, 7, 8]] --type t")
    one = run(fake_ip, '%seldon_send {"data": {"ndarray": [[1, 2]]}} --type t')
    assert (rows.sent, one.sent) == (2, 1)
    sent = fake.responses(sink="fast/sink")
    # a SeldonMessage written by hand is sent as written, plus meta.puid = the event id
    # (Seldon echoes it, which ties the answer to its request on a cluster)
    last = sent.iloc[-1]
    assert json.loads(last["data"]) == {"data": {"ndarray": [[1, 2]]},
                                        "meta": {"puid": last["id"]}}


def test_send_builds_v2_inference_requests(fake_ip, fake):
    fake.ensure_broker()
    fake.apply(resources.trigger("all", namespace="fast", service="sink"))
    fake_ip.user_ns["frame"] = pd.DataFrame({"a": [1.5, 2.5], "b": [3, 4]})
    tensors = run(fake_ip, "%seldon_send frame --type t --protocol v2")
    columns = run(fake_ip, "%seldon_send frame --type t --protocol v2 --kind columns --batch")
    assert (tensors.sent, columns.sent) == (2, 1)
    sent = fake.responses(sink="fast/sink")
    bodies = {row.id: json.loads(row.data) for row in sent.itertuples()}
    rows = [b for b in bodies.values() if "parameters" not in b]  # sent concurrently
    assert all(body["id"] == event_id for event_id, body in bodies.items())
    assert sorted(b["inputs"][0]["data"] for b in rows) == [[1.5, 3.0], [2.5, 4.0]]
    assert all({k: v for k, v in b["inputs"][0].items() if k != "data"} == {
        "name": "predict", "shape": [1, 2], "datatype": "FP64"} for b in rows)
    (whole,) = [b for b in bodies.values() if "parameters" in b]
    assert [i["name"] for i in whole["inputs"]] == ["a", "b"]
    assert whole["parameters"] == {"content_type": "pd"}


@pytest.mark.parametrize(("line", "message"), [
    ("%seldon_send [[1]] --type t --kind columns", "add --protocol v2"),
    ("%seldon_send [[1, 2 --type t", "is not valid JSON"),
    ("%seldon_send nothing_here --type t", "no variable named 'nothing_here'"),
    ("%seldon_send [[1]] x --type t", "give one payload"),
    ("%seldon_send [[1]]", "give --type TYPE or --to SDEP"),
    ("%seldon_trigger t --type x", "give a subscriber"),
    ("%seldon_trigger t --filter nokey --uri http://x/", "key=value"),
    ("%seldon_responses --since yesterday-ish", "--since 'yesterday-ish'"),
])
def test_usage_errors_say_what_to_do(fake_ip, line, message):
    result = fake_ip.run_cell(line, store_history=False)
    assert not result.success
    assert message in str(result.error_in_exec or result.error_before_exec)


def test_debugging_magics_share_the_session(fake_ip, fake):
    fake.ensure_broker()
    fake.apply(resources.trigger("only-x", namespace="fast", service="sink",
                                 filter={"type": "x"}))
    why = run(fake_ip, "%seldon_why --type y --ext tenant=a")
    assert why.verdicts[0].why == "type differs (attributes): expected 'x', you have 'y'"
    sent = run(fake_ip, "%seldon_send [[1]] --type y")
    traced = run(fake_ip, "%seldon_trace")
    assert traced.id == sent.ids[0] and not traced.routes[0].taken
    failures = run(fake_ip, "%seldon_failures")
    assert list(failures["what"]) == ["unrouted"]
    assert run(fake_ip, "%seldon_dead_letters").empty
    assert "arguments are required: --type" in str(fails(fake_ip, "%seldon_why"))


def test_doctor_magic_renders_the_session_diagnosis(fake_ip, fake):
    diagnosis = run(fake_ip, "%seldon_doctor")
    assert diagnosis.namespace == "fast"
    broker = [c for c in diagnosis.checks if c.area == "resources"]
    assert broker[0].state == "warn" and "session.ensure_broker()" in broker[0].fix
    fake.ensure_broker()
    diagnosis = run(fake_ip, "%seldon_doctor")
    probe = [c for c in diagnosis.checks if c.area == "broker"]
    assert probe[0].state == "ok" and "got 400" in probe[0].detail
    assert "doctor (fake, namespace fast)" in diagnosis._repr_html_()
    assert run(fake_ip, "%seldon_doctor -n elsewhere").namespace == "elsewhere"


def test_send_warns_when_no_trigger_takes_the_type(fake_ip, fake):
    fake.ensure_broker()
    fake.apply(resources.trigger("to-iris", namespace="fast", service="sink",
                                 filter={"type": "seldon.iris.fast.request"}))
    report = run(fake_ip, "%seldon_send [[1, 2, 3, 4]] --type seldon.iri.fast.request")
    assert report.warning == ("accepted, and dropped: no Trigger matches; nearest fast/to-iris: "
                              "type differs (attributes): expected 'seldon.iris.fast.request', "
                              "you have 'seldon.iri.fast.request'")
    assert "warning: accepted, and dropped" in repr(report) and "sj-warning" in \
        report._repr_html_()
    assert run(fake_ip, "%seldon_send [[1, 2, 3, 4]] --type seldon.iris.fast.request"
               ).warning == ""


def test_send_warns_when_the_only_taker_feeds_a_failed_deployment(fake_ip, fake):
    fake.ensure_broker()
    fake.apply([resources.seldon_deployment("broken", namespace="fast",
                                            model_uri="/no/such/model"),
                resources.trigger("to-broken", namespace="fast", deployment="broken",
                                  filter={"type": "seldon.broken.fast.request"})])
    report = run(fake_ip, "%seldon_send [[1, 2, 3, 4]] --type seldon.broken.fast.request")
    assert report.warning.startswith("accepted, and unanswered: Trigger fast/to-broken takes "
                                     "it to SeldonDeployment broken, which is Failed (")
    assert "/no/such/model does not exist" in report.warning
    fake.apply(resources.trigger("also", namespace="fast", service="sink",
                                 filter={"type": "seldon.broken.fast.request"}))
    assert run(fake_ip, "%seldon_send [[1, 2, 3, 4]] --type seldon.broken.fast.request"
               ).warning == ""  # another Trigger takes it somewhere that answers


def test_an_empty_responses_result_says_why_and_stays_a_frame(fake_ip, fake, monkeypatch):
    shown = []
    monkeypatch.setattr("seldon_jupyter.magics.display", lambda obj, **_kw: shown.append(obj))
    frame = run(fake_ip, "%seldon_responses --type nobody.response")
    assert isinstance(frame, pd.DataFrame) and frame.empty
    (note,) = shown
    text = repr(note)
    assert text.startswith("no responses yet of type nobody.response in namespace fast.")
    assert "%seldon_why --type <request type>" in text and "%seldon_failures" in text
    shown.clear()
    assert run(fake_ip, "%seldon_responses -q") is None and shown == []  # -q: quiet
