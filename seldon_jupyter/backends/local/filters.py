"""Trigger filters with Knative's semantics, compiled once per trigger.

`spec.filter.attributes`: every listed attribute must equal the event's exactly (an empty
value matches anything; an empty filter matches all). `spec.filters` (the newer
Subscriptions API dialects exact/prefix/suffix/all/any/not) takes precedence when set.
CESQL is not available locally and is reported as such in the trigger's status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from seldon_jupyter.events import Event

Matcher = Callable[[Event], bool]


class UnsupportedFilter(ValueError):
    """A filter dialect the local broker cannot evaluate."""


def _attribute_filter(attributes: Mapping[str, str]) -> Matcher:
    wanted = [(k, v) for k, v in attributes.items() if v != ""]
    anything = [k for k, v in attributes.items() if v == ""]

    def match(event: Event) -> bool:
        attrs = event.attributes
        return all(attrs.get(k) == v for k, v in wanted) and all(k in attrs for k in anything)

    return match


def _expression(expr: Mapping[str, Any]) -> Matcher:
    dialect, body = next(iter(expr.items()))
    if dialect in ("exact", "prefix", "suffix"):
        (name, value), = body.items()
        test: Callable[[str], bool] = {
            "exact": lambda got: got == value,
            "prefix": lambda got: got.startswith(value),
            "suffix": lambda got: got.endswith(value),
        }[dialect]
        return lambda event: name in event.attributes and test(event.attributes[name])
    if dialect in ("all", "any"):
        parts = [_expression(sub) for sub in body]
        combine = all if dialect == "all" else any
        return lambda event: combine(p(event) for p in parts)
    if dialect == "not":
        inner = _expression(body)
        return lambda event: not inner(event)
    raise UnsupportedFilter(
        f"the {dialect!r} filter dialect is not supported by the local broker; "
        "use exact, prefix, suffix, all, any or not")


def compile_filter(spec: Mapping[str, Any]) -> Matcher:
    """A predicate for a Trigger spec; raises UnsupportedFilter for CESQL."""
    filters = spec.get("filters")
    if filters:
        parts = [_expression(expr) for expr in filters]
        return lambda event: all(p(event) for p in parts)
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    return _attribute_filter(attributes)
