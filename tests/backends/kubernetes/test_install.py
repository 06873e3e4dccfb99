"""The README's "Run it on a real cluster" and RBAC sections say what the code does: the
pinned install commands are the doctor's fixes, the Role YAML is `rbac.role()`'s rules,
and `seldon-jupyter rbac` prints what an admin applies."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from seldon_jupyter import cli, resources
from seldon_jupyter.backends.kubernetes import install, rbac

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.S)


def test_readme_installs_the_versions_the_doctor_names():
    for line in install.KNATIVE_INSTALL.splitlines():
        assert line in README
    assert install.SELDON_INSTALL in README
    assert f"Knative Eventing {install.KNATIVE_EVENTING}" in README
    assert f"Seldon Core v{install.SELDON_CORE}" in README


def test_readme_role_is_the_code_role():
    role = next(yaml.safe_load(b) for b in yaml_blocks() if "kind: Role\n" in b)
    assert role["rules"] == rbac.role("x")["rules"]
    ingress = next(yaml.safe_load(b) for b in yaml_blocks() if b.startswith("- apiGroups"))
    assert ingress == rbac.ingress_role()["rules"]
    cluster_role = next(yaml.safe_load(b) for b in yaml_blocks() if "kind: ClusterRole" in b)
    expected = resources.addressable_clusterrole()
    assert cluster_role["rules"] == expected["rules"]
    assert cluster_role["metadata"]["name"] == expected["metadata"]["name"]


def test_cli_rbac_prints_roles_bindings_and_the_addressable_role(capsys):
    assert cli.main(["-n", "team-a", "rbac", "--user", "alice"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [(d["kind"], d["metadata"].get("namespace")) for d in docs] == [
        ("Role", "team-a"), ("RoleBinding", "team-a"), ("Role", "knative-eventing"),
        ("RoleBinding", "knative-eventing"), ("ClusterRole", None)]
    assert docs[1]["subjects"][0]["name"] == "alice"
    assert docs[1]["roleRef"]["name"] == docs[0]["metadata"]["name"]
    assert docs[4]["metadata"]["labels"]["duck.knative.dev/addressable"] == "true"
