"""The diagnosis table and the checks both backends share (read from resources)."""

from __future__ import annotations

import pytest

from seldon_jupyter import doctor
from seldon_jupyter.backends.base import Check, summarize


def res(kind: str, name: str, *, ns: str = "team", spec: dict | None = None,
        status: dict | None = None):
    api = {"Broker": "eventing.knative.dev/v1", "Trigger": "eventing.knative.dev/v1",
           "SeldonDeployment": "machinelearning.seldon.io/v1"}[kind]
    return summarize({"apiVersion": api, "kind": kind,
                      "metadata": {"name": name, "namespace": ns},
                      "spec": spec or {}, "status": status or {}})


READY = {"conditions": [{"type": "Ready", "status": "True"}]}


def test_a_check_is_ok_warn_or_fail():
    with pytest.raises(ValueError, match="not 'error'"):
        Check("a", "b", "error", "c")


def test_diagnosis_renders_every_check_with_its_fix():
    d = doctor.Diagnosis("kubernetes", "team", (
        Check("cluster", "API server", "ok", "v1.33"),
        Check("rbac", "pods", "fail", "missing get", "kubectl create role a\nkubectl bind b"),
        Check("broker", "Broker default", "warn", "answered 500")))
    assert not d.ok and [c.check for c in d.failed] == ["pods"]
    assert [c.check for c in d.warnings] == ["Broker default"]
    text = str(d)
    assert text.splitlines()[0] == "doctor (kubernetes, namespace team): 1 ok, 1 warn, 1 fail"
    assert "  [FAIL] rbac: pods: missing get\n         fix: kubectl create role a\n" \
           "              kubectl bind b" in text
    frame = d.frame()
    assert list(frame["state"]) == ["ok", "fail", "warn"]
    html = d._repr_html_()
    assert html.count("<tr>") == 4 and "kubectl create role a" in html
    assert doctor.as_rows(d)[1]["fix"].startswith("kubectl create role")


def test_empty_namespace_wants_a_broker():
    checks = doctor.resource_checks([], "team")
    assert [(c.check, c.state) for c in checks] == [("Broker", "warn")]
    assert checks[0].fix == "session.ensure_broker()"


def test_broker_without_triggers_drops_events():
    checks = doctor.resource_checks([res("Broker", "default", status=READY)], "team")
    assert [(c.check, c.state) for c in checks] == [("Broker default", "warn")]


def test_trigger_on_a_missing_broker_fails_once():
    orphan = res("Trigger", "t", spec={"broker": "gone"}, status={"conditions": [
        {"type": "Ready", "status": "False", "reason": "BrokerDoesNotExist"}]})
    checks = doctor.resource_checks([res("Broker", "default", status=READY), orphan], "team")
    lines = [c for c in checks if c.check == "Trigger t"]
    assert len(lines) == 1 and lines[0].state == "fail"
    assert lines[0].fix == "session.ensure_broker('gone')"


def test_unresolved_seldon_subscriber_points_at_the_addressable_role():
    reason = ('failed to get object team/iris: seldondeployments.machinelearning.seldon.io '
              '"iris" is forbidden: User "system:serviceaccount:knative-eventing:'
              'eventing-controller" cannot get resource "seldondeployments"')
    trigger = res("Trigger", "to-iris", spec={"broker": "default"}, status={"conditions": [
        {"type": "Ready", "status": "False", "reason": "Unable to get the Subscriber's URI",
         "message": reason}]})
    checks = doctor.resource_checks([res("Broker", "default", status=READY), trigger], "team")
    line = next(c for c in checks if c.check == "Trigger to-iris")
    assert line.state == "warn" and "addressable_clusterrole()" in line.fix


def test_failed_model_is_a_failure_and_other_namespaces_are_not_read():
    failed = res("SeldonDeployment", "iris", status={"state": "Failed",
                                                     "description": "no such model"})
    elsewhere = res("SeldonDeployment", "x", ns="other", status={"state": "Failed"})
    checks = doctor.resource_checks([res("Broker", "default", status=READY), failed,
                                     elsewhere], "team")
    bad = [c for c in checks if c.state == "fail"]
    assert [(c.check, c.detail) for c in bad] == [("SeldonDeployment iris",
                                                  "Failed: no such model")]


def test_all_ready_is_one_ok_line():
    trigger = res("Trigger", "t", spec={"broker": "default"}, status=READY)
    checks = doctor.resource_checks([res("Broker", "default", status=READY), trigger], "team")
    assert [(c.check, c.state) for c in checks] == [("objects", "ok")]
