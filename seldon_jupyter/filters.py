"""Knative Trigger filters: the one home of their semantics, for every part of the kit.

The local broker routes with it, the kubernetes backend and `explain` evaluate a cluster's
Triggers client-side with it, the topology finds reply Triggers with it, and manifest
validation refuses what Knative's webhook refuses through it.

Semantics (knative/eventing `pkg/eventfilter/`, knative-v1.22):
- `spec.filter.attributes`: every listed attribute must equal the event's value; the
  value "" means "any value", and the core context attributes (type, source, subject, id,
  time, ...) always count as present there, extensions only when the event has them.
- `spec.filters` (when non-empty, `filter` is ignored): ANDed expressions of the dialects
  exact / prefix / suffix (one attribute, a non-empty value), all, any, not and cesql
  (CloudEvents SQL, `seldon_jupyter.cesql`). Results are three-valued as in Knative: an
  empty `all`/`any` is "no filter" (passes), and only a failure stops an event.
Every compiled filter can say why an event does not pass (`why_not`), naming the dialect,
the attribute, what was expected and what the event had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seldon_jupyter.cesql import CesqlSyntaxError, Expression, compile_expression
from seldon_jupyter.errors import ManifestError

Attributes = Mapping[str, str]
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
# Context attributes Knative's attributes filter always has (an absent one compares as "").
CORE = ("specversion", "type", "source", "subject", "id", "time", "schemaurl",
        "datacontenttype", "datamediatype", "datacontentencoding")
PASS, FAIL, NONE = "pass", "fail", "none"


@dataclass(frozen=True)
class Miss:
    """Why one filter did not pass: `dialect`, the attribute, expected vs actual."""

    dialect: str
    attribute: str | None
    expected: str
    actual: str | None
    detail: str = ""

    def __str__(self) -> str:
        if self.dialect == "cesql":
            return f"cesql {self.expected!r} did not pass: {self.detail}"
        if self.dialect == "not":
            return f"not: the inner filter passed ({self.detail})"
        if self.dialect == "any":
            return f"any: none of its filters passed ({self.detail})"
        have = "the event has no such attribute" if self.actual is None else (
            f"you have {self.actual!r}")
        verb = {"exact": "expected", "attributes": "expected", "prefix": "expected prefix",
                "suffix": "expected suffix"}.get(self.dialect, "expected")
        return f"{self.attribute} differs ({self.dialect}): {verb} {self.expected!r}, {have}"


class Filter:
    """A compiled filter expression: `result` is pass / fail / none, `why_not` a Miss."""

    def result(self, attrs: Attributes) -> str:
        raise NotImplementedError

    def why_not(self, attrs: Attributes) -> Miss | None:
        raise NotImplementedError

    def matches(self, attrs: Attributes) -> bool:
        return self.result(attrs) != FAIL


class _Attributes(Filter):
    def __init__(self, wanted: Mapping[str, str], dialect: str = "attributes") -> None:
        self.wanted = dict(wanted)
        self.dialect = dialect

    def result(self, attrs: Attributes) -> str:
        return FAIL if self.why_not(attrs) else PASS

    def why_not(self, attrs: Attributes) -> Miss | None:
        for name, value in self.wanted.items():
            actual = attrs.get(name)
            if actual is None and name in CORE:
                actual = ""
            if actual is None or (value != "" and actual != value):
                return Miss(self.dialect, name, value or "(any value)", actual)
        return None


class _Affix(Filter):
    def __init__(self, dialect: str, name: str, value: str) -> None:
        self.dialect, self.name, self.value = dialect, name, value

    def result(self, attrs: Attributes) -> str:
        actual = attrs.get(self.name)
        if actual is None:
            return FAIL
        ok = actual.startswith(self.value) if self.dialect == "prefix" else actual.endswith(
            self.value)
        return PASS if ok else FAIL

    def why_not(self, attrs: Attributes) -> Miss | None:
        if self.result(attrs) == PASS:
            return None
        return Miss(self.dialect, self.name, self.value, attrs.get(self.name))


class _All(Filter):
    def __init__(self, parts: Sequence[Filter]) -> None:
        self.parts = list(parts)

    def result(self, attrs: Attributes) -> str:
        outcome = NONE
        for part in self.parts:
            got = part.result(attrs)
            if got == FAIL:
                return FAIL
            if got == PASS:
                outcome = PASS
        return outcome

    def why_not(self, attrs: Attributes) -> Miss | None:
        for part in self.parts:
            if part.result(attrs) == FAIL:
                return part.why_not(attrs)
        return None


class _Any(Filter):
    def __init__(self, parts: Sequence[Filter]) -> None:
        self.parts = list(parts)

    def result(self, attrs: Attributes) -> str:
        outcomes = {part.result(attrs) for part in self.parts}
        if PASS in outcomes:
            return PASS
        return FAIL if FAIL in outcomes else NONE

    def why_not(self, attrs: Attributes) -> Miss | None:
        if self.result(attrs) != FAIL:
            return None
        misses = [str(m) for m in (p.why_not(attrs) for p in self.parts) if m]
        return Miss("any", None, "", None, "; ".join(misses))


class _Not(Filter):
    def __init__(self, inner: Filter) -> None:
        self.inner = inner

    def result(self, attrs: Attributes) -> str:
        return {PASS: FAIL, FAIL: PASS}.get(self.inner.result(attrs), NONE)

    def why_not(self, attrs: Attributes) -> Miss | None:
        if self.result(attrs) != FAIL:
            return None
        return Miss("not", None, "", None, "the event matches what `not` excludes")


class _Cesql(Filter):
    def __init__(self, expression: Expression) -> None:
        self.expression = expression

    def result(self, attrs: Attributes) -> str:
        return PASS if self.expression.matches(attrs) else FAIL

    def why_not(self, attrs: Attributes) -> Miss | None:
        if self.expression.matches(attrs):
            return None
        return Miss("cesql", None, self.expression.source, None,
                    self.expression.why_not(attrs))


class _Nothing(Filter):
    def result(self, attrs: Attributes) -> str:
        return NONE

    def why_not(self, attrs: Attributes) -> Miss | None:
        return None


def _bad(field: str, message: str, hint: str | None = None) -> ManifestError:
    return ManifestError(message, field=field, hint=hint)


def _single(dialect: str, body: Any, field: str) -> tuple[str, str]:
    if not isinstance(body, Mapping) or len(body) != 1:
        raise _bad(f"{field}.{dialect}", f"{dialect} must name exactly one attribute",
                   hint=f"e.g. {dialect}: {{type: com.example.event}}")
    (name, value), = body.items()
    if not isinstance(value, str) or not name or not value:
        raise _bad(f"{field}.{dialect}.{name}", "invalid arguments, attribute and value can't "
                   "be empty", hint="a value must be a non-empty string")
    return str(name), value


def _compile(expr: Any, field: str) -> Filter:
    if not isinstance(expr, Mapping) or len(expr) != 1 or next(iter(expr)) not in DIALECTS:
        raise _bad(field, "each filter must have exactly one dialect",
                   hint=f"one of {', '.join(DIALECTS)}")
    dialect, body = next(iter(expr.items()))
    if dialect == "exact":
        name, value = _single(dialect, body, field)
        return _Attributes({name: value}, "exact")
    if dialect in ("prefix", "suffix"):
        return _Affix(dialect, *_single(dialect, body, field))
    if dialect in ("all", "any"):
        if not isinstance(body, list):
            raise _bad(f"{field}.{dialect}", f"{dialect} must be a list of filters")
        parts = [_compile(sub, f"{field}.{dialect}[{i}]") for i, sub in enumerate(body)]
        return _All(parts) if dialect == "all" else _Any(parts)
    if dialect == "not":
        return _Not(_compile(body, f"{field}.not"))
    if not isinstance(body, str):
        raise _bad(f"{field}.cesql", "cesql must be a string expression")
    if not body:
        return _Nothing()
    try:
        return _Cesql(compile_expression(body))
    except CesqlSyntaxError as exc:
        raise _bad(f"{field}.cesql", str(exc),
                   hint="CESQL reference: CloudEvents SQL v1.0, e.g. "
                        "\"type LIKE 'seldon.%.request' AND source = 'app'\"") from None


def compile_filter(spec: Mapping[str, Any]) -> Filter:
    """The filter of a Trigger `spec` (ManifestError naming the field when invalid)."""
    filters = spec.get("filters")
    if filters:
        if not isinstance(filters, list):
            raise _bad("spec.filters", "must be a list of filter expressions")
        return _All([_compile(expr, f"spec.filters[{i}]") for i, expr in enumerate(filters)])
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    return _Attributes(attributes)


def attributes_of(spec: Mapping[str, Any]) -> dict[str, str]:
    """The exact attribute pairs a Trigger requires (for snippets and the index)."""
    filters = spec.get("filters")
    if filters:
        pairs: dict[str, str] = {}
        for expr in filters:
            if isinstance(expr, Mapping) and isinstance(expr.get("exact"), Mapping):
                pairs.update({str(k): str(v) for k, v in expr["exact"].items()})
        return pairs
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    return {str(k): str(v) for k, v in attributes.items() if v != ""}


def describe(spec: Mapping[str, Any]) -> str:
    """A short human form of a Trigger's filter: `type=..., source=...` or the dialects."""
    filters = spec.get("filters")
    if filters:
        return " AND ".join(_text(expr) for expr in filters)
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    return ", ".join(f"{k}={v or '*'}" for k, v in attributes.items()) or "all events"


def _text(expr: Any) -> str:
    if not isinstance(expr, Mapping) or len(expr) != 1:
        return "?"
    dialect, body = next(iter(expr.items()))
    if dialect in ("exact", "prefix", "suffix") and isinstance(body, Mapping):
        return ", ".join(f"{dialect}({k}={v})" for k, v in body.items())
    if dialect in ("all", "any") and isinstance(body, list):
        return f"{dialect}(" + "; ".join(_text(sub) for sub in body) + ")"
    if dialect == "not":
        return f"not({_text(body)})"
    return f"cesql({body})"
