"""What the sidebar draws: broker -> triggers -> subscribers, with state and a send snippet.

Built from `Session.status()` alone, so it is the same for the local backend and a cluster.
A reply trigger is one whose filter matches the response type of a deployment in the same
namespace; it is drawn under that deployment.
"""

from __future__ import annotations

import json
from typing import Any

from seldon_jupyter.backends import Resource
from seldon_jupyter.session import response_type

SAMPLE = {"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}


def send_snippet(trigger: Resource) -> str:
    """A %%seldon_send cell that the trigger would route (its filter as the attributes)."""
    attrs = ((trigger.manifest.get("spec") or {}).get("filter") or {}).get("attributes") or {}
    options = " ".join(f"--{k} {v}" for k, v in (("type", attrs.get("type")),
                                                  ("source", attrs.get("source"))) if v)
    return f"%%seldon_send {options or '--type <type>'}\n{json.dumps(SAMPLE)}"


def _node(r: Resource) -> dict[str, Any]:
    return {"kind": r.kind, "namespace": r.namespace, "name": r.name, "state": r.state,
            "ready": r.ready, "reason": r.reason, "address": r.address}


def _subscriber(trigger: Resource) -> dict[str, Any]:
    sub = (trigger.manifest.get("spec") or {}).get("subscriber") or {}
    ref = sub.get("ref") or {}
    return {"kind": ref.get("kind"), "name": ref.get("name"), "uri": sub.get("uri")}


def build(found: list[Resource]) -> dict[str, Any]:
    """{brokers: [{..., triggers: [{..., subscriber, filter, replies: [...]}]}], others}."""
    triggers = [r for r in found if r.kind == "Trigger"]
    deployments = {(r.namespace, r.name): r for r in found if r.kind == "SeldonDeployment"}

    def describe(t: Resource) -> dict[str, Any]:
        spec = t.manifest.get("spec") or {}
        sub = _subscriber(t)
        item = {**_node(t), "broker": spec.get("broker", "default"),
                "filter": (spec.get("filter") or {}).get("attributes") or {},
                "subscriber": sub, "snippet": send_snippet(t), "replies": []}
        target = deployments.get((t.namespace, sub["name"])) if sub["kind"] == \
            "SeldonDeployment" else None
        if target is not None:
            item["subscriber"]["state"] = target.state
            reply = response_type(target.name, target.namespace)
            item["replies"] = [describe(o) for o in triggers
                               if o.namespace == t.namespace and o.name != t.name and
                               ((o.manifest.get("spec") or {}).get("filter") or {})
                               .get("attributes", {}).get("type") == reply]
        return item

    described = [describe(t) for t in triggers]
    replies = {(o["namespace"], o["name"]) for item in described for o in item["replies"]}
    brokers = []
    for b in (r for r in found if r.kind == "Broker"):
        brokers.append({**_node(b), "triggers": [
            item for item in described if item["namespace"] == b.namespace and
            item["broker"] == b.name and (item["namespace"], item["name"]) not in replies]})
    return {"brokers": brokers,
            "deployments": [_node(d) for d in deployments.values()],
            "others": [_node(r) for r in found if r.kind not in
                       ("Broker", "Trigger", "SeldonDeployment")]}
