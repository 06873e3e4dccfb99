"""PodSecurity `restricted` as the doctor reads a pod template."""

from __future__ import annotations

from seldon_jupyter import resources
from seldon_jupyter.backends.kubernetes.podsecurity import violations


def template(manifests):
    return next(m for m in manifests if m["kind"] == "Deployment")["spec"]["template"]


def test_the_kits_sinks_pass_restricted():
    assert violations(template(resources.collector())) == []
    assert violations(template(resources.event_display())) == []


def test_a_bare_container_breaks_four_rules():
    found = violations({"spec": {"containers": [{"name": "app", "image": "x"}]}})
    assert [f.split(" (")[0] for f in found] == [
        "allowPrivilegeEscalation != false", "unrestricted capabilities",
        "runAsNonRoot != true", "seccompProfile"]
    assert all('"app"' in f for f in found)


def test_pod_level_settings_count_and_root_or_host_paths_do_not_pass():
    spec = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {
                "type": "RuntimeDefault"}},
            "containers": [{"name": "app", "securityContext": {
                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}
    assert violations({"spec": spec}) == []
    spec["containers"][0]["securityContext"]["runAsUser"] = 0
    spec["volumes"] = [{"name": "host", "hostPath": {"path": "/"}}]
    found = violations({"spec": spec})
    assert [f.split(" (")[0] for f in found] == ["runAsUser=0", "restricted volume types"]
    spec["containers"][0]["securityContext"].update(
        runAsUser=1000, capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]})
    assert "may add only NET_BIND_SERVICE" in violations({"spec": spec})[0]
