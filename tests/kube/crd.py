"""The SeldonDeployment, Broker and Trigger CRD schemas, applied as the API server does.

A structural schema rejects values of the wrong type or missing required fields (422
Invalid) and silently drops ("prunes") fields it does not declare, unless a subtree says
x-kubernetes-preserve-unknown-fields. `check` does both, so the double stores what a real
cluster would store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRDS = Path(__file__).resolve().parent / "crds"
ROOT = ("apiVersion", "kind", "metadata")  # the server's own, whatever the schema says


def load() -> dict[str, dict]:
    """plural -> kind, group, and per served version its openAPIV3Schema and subresources."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        versions = {v["name"]: {"schema": v["schema"]["openAPIV3Schema"],
                                "subresources": v.get("subresources") or {}}
                    for v in crd["spec"]["versions"] if v.get("served")}
        found[crd["spec"]["names"]["plural"]] = {
            "kind": crd["spec"]["names"]["kind"], "group": crd["spec"]["group"],
            "versions": versions}
    return found


def _where(error: jsonschema.ValidationError) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "".join(parts).lstrip(".")


def errors(schema: dict, obj: Any) -> list[str]:
    """API-server style messages for every violation (empty when valid)."""
    found = []
    for error in sorted(jsonschema.Draft7Validator(schema).iter_errors(obj),
                        key=lambda e: list(map(str, e.absolute_path))):
        where = _where(error)
        if error.validator == "required":
            missing = error.message.split("'")[1]
            found.append(f"{where + '.' if where else ''}{missing}: Required value")
        elif error.validator == "type":
            found.append(f"{where}: Invalid value: \"{type(error.instance).__name__}\": "
                         f"{where} in body must be of type {error.validator_value}")
        else:
            found.append(f"{where}: Invalid value: {error.message}")
    return found


def prune(schema: dict, obj: Any) -> Any:
    """`obj` without the fields `schema` does not declare (metadata is the server's own).

    As apiextensions' pruning/algorithm.go: a node with x-kubernetes-preserve-unknown-fields
    keeps the fields it does not declare, but the ones it declares are still pruned by
    their own schemas (skipPrune stops only at a node with nothing declared)."""
    keep = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    if keep and "properties" not in schema and "additionalProperties" not in schema:
        return obj
    if isinstance(obj, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is None and isinstance(extra, dict):
            return {k: prune(extra, v) for k, v in obj.items()}
        if props is None:
            return obj if schema.get("type") != "object" or not schema else {}
        return {k: prune(props[k], v) if k in props and k not in ROOT else v
                for k, v in obj.items() if k in props or k in ROOT or keep}
    if isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [prune(schema["items"], v) for v in obj]
    return obj


def dropped(schema: dict, obj: Any, where: str = "") -> list[str]:
    """Paths of the fields `prune` would drop."""
    keep = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    if keep and "properties" not in schema and "additionalProperties" not in schema:
        return []
    out: list[str] = []
    if isinstance(obj, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k, v in obj.items():
            path = f"{where}.{k}" if where else k
            if k in ROOT and not where:
                continue
            if props is not None and k in props:
                out += dropped(props[k], v, path)
            elif props is None and isinstance(extra, dict):
                out += dropped(extra, v, path)
            elif props is not None and k not in props and not keep:
                out.append(path)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(obj):
            out += dropped(schema["items"], v, f"{where}[{i}]")
    return out
