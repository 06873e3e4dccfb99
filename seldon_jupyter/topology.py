"""The topology model: broker -> triggers -> subscribers -> reply triggers, with state.

One function builds it from `Session.status()` (so it is the same for the local backend
and a cluster), and both the sidebar (through the server extension, as JSON) and the
dashboard's Topology tab draw it. A reply trigger is one whose filter (evaluated with
`filters`, as the broker would) takes the answers of a deployment it is drawn under;
a trigger whose broker does not exist is listed under `orphans` with the reason.
"""

from __future__ import annotations

import html
import json
from typing import Any

from seldon_jupyter import filters, naming
from seldon_jupyter.backends.base import Resource
from seldon_jupyter.errors import ManifestError
from seldon_jupyter.states import badge, tone

SAMPLE = {"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}


def send_snippet(spec: dict[str, Any]) -> str:
    """A %%seldon_send cell whose event the trigger would route (its exact attributes)."""
    pairs = filters.attributes_of(spec)
    options = [f"--{k} {pairs[k]}" for k in ("type", "source") if pairs.get(k)]
    return f"%%seldon_send {' '.join(options) or '--type <type>'}\n{json.dumps(SAMPLE)}"


def _node(r: Resource) -> dict[str, Any]:
    return {"kind": r.kind, "namespace": r.namespace, "name": r.name, "state": r.state,
            "tone": tone(r.state), "ready": r.ready, "reason": r.reason, "address": r.address}


def _takes(trigger: Resource, attributes: dict[str, str]) -> bool:
    spec = trigger.manifest.get("spec") or {}
    if not (spec.get("filters") or (spec.get("filter") or {}).get("attributes")):
        return False  # a catch-all is drawn at the top, not as anybody's reply
    try:
        return filters.compile_filter(spec).matches(attributes)
    except ManifestError:
        return False


def build(found: list[Resource], counts: dict[str, dict[str, int]] | None = None
          ) -> dict[str, Any]:
    """{brokers: [{..., triggers: [{..., filter, subscriber, snippet, replies, counts}]}],
    deployments, others, orphans} for the resources given (any namespaces); `counts` are
    the deliveries per Trigger and state (journal_reader.trigger_counts)."""
    triggers = [r for r in found if r.kind == "Trigger"]
    deployments = {(r.namespace, r.name): r for r in found if r.kind == "SeldonDeployment"}
    brokers = {(r.namespace, r.name): r for r in found if r.kind == "Broker"}

    def describe(t: Resource, seen: frozenset[str]) -> dict[str, Any]:
        spec = t.manifest.get("spec") or {}
        sub = spec.get("subscriber") or {}
        ref = sub.get("ref") or {}
        item: dict[str, Any] = {
            **_node(t), "broker": spec.get("broker", "default"),
            "filter": filters.describe(spec), "filter_attributes": filters.attributes_of(spec),
            "subscriber": {"kind": ref.get("kind"), "name": ref.get("name"),
                           "uri": sub.get("uri")},
            "snippet": send_snippet(spec), "replies": [],
            "counts": (counts or {}).get(f"{t.namespace}/{t.name}", {})}
        target = deployments.get((t.namespace, str(ref.get("name")))) if ref.get(
            "kind") == "SeldonDeployment" else None
        if target is not None:
            item["subscriber"].update(state=target.state, tone=tone(target.state))
            answer = naming.response_attributes(target.name, target.namespace)
            item["reply_type"] = answer["type"]
            item["replies"] = [describe(o, seen | {t.name}) for o in triggers
                               if o.namespace == t.namespace and o.name not in seen | {t.name}
                               and _takes(o, answer)]
        return item

    described = [describe(t, frozenset()) for t in triggers]
    replies = {(o["namespace"], o["name"]) for item in described for o in item["replies"]}
    model_brokers = [{**_node(b), "triggers": [
        item for item in described if (item["namespace"], item["broker"]) == key
        and (item["namespace"], item["name"]) not in replies]} for key, b in brokers.items()]
    orphans = [{**item, "problem": f"Broker {item['namespace']}/{item['broker']} does not exist"}
               for item in described if (item["namespace"], item["broker"]) not in brokers]
    return {"brokers": model_brokers, "orphans": orphans,
            "deployments": [_node(d) for d in deployments.values()],
            "others": [_node(r) for r in found if r.kind not in
                       ("Broker", "Trigger", "SeldonDeployment")]}


def _trigger_html(item: dict[str, Any], depth: int = 0) -> str:
    sub = item["subscriber"]
    target = f"{sub['kind']} {sub['name']}" if sub.get("kind") else (sub.get("uri") or "?")
    line = (f"Trigger <b>{html.escape(item['name'])}</b> {badge(item['state'])} "
            f"[{html.escape(item['filter'])}] &rarr; {html.escape(target)}")
    if item.get("counts"):
        line += " <small>(" + ", ".join(f"{n} {state}" for state, n in sorted(
            item["counts"].items())) + ")</small>"
    if sub.get("state"):
        line += f" {badge(sub['state'])}"
    if item.get("reason") and not item["ready"]:
        line += f" <i>{html.escape(item['reason'])}</i>"
    inner = "".join(f"<li>&#8627; reply <code>{html.escape(item.get('reply_type', ''))}</code> "
                    f"{_trigger_html(r, depth + 1)}</li>" for r in item["replies"])
    return line + (f"<ul>{inner}</ul>" if inner else "")


def to_html(model: dict[str, Any]) -> str:
    """The model as nested lists (the dashboard's Topology tab)."""
    parts = []
    for b in model["brokers"]:
        items = "".join(f"<li>{_trigger_html(t)}</li>" for t in b["triggers"])
        parts.append(f"<div>Broker <b>{html.escape(b['name'])}</b> {badge(b['state'])} "
                     f"<code>{html.escape(b['address'] or '')}</code><ul>{items}</ul></div>")
    for o in model["orphans"]:
        parts.append(f"<div>{_trigger_html(o)} <b>{html.escape(o['problem'])}</b></div>")
    return "".join(parts) or "<i>no broker in this namespace</i>"
