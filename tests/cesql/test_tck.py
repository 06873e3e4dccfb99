"""The CloudEvents SQL conformance kit (../shared/data/cesql_tck/), every case, as tests.

Each case gives an expression, an event (or overrides of one) and the expected value or
error kind. Timestamps in the YAML stay strings, as CESQL represents them (spec 3.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from seldon_jupyter.cesql import CesqlSyntaxError, compile_expression

TCK = Path(__file__).resolve().parents[3] / "shared" / "data" / "cesql_tck"


class _StringTimes(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type."""


_StringTimes.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

BASE_EVENT = {"specversion": "1.0", "id": "123", "source": "tck.example", "type": "tck.case"}


def _sources(text: str) -> list[str]:
    """Each case's expression as written (YAML would turn `TRUE` or `0` into a bool or int)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    tests = next(v for k, v in root.value if k.value == "tests")
    return [next(v.value for k, v in case.value if k.value == "expression")
            for case in tests.value]


def _cases() -> list:
    files = sorted(TCK.glob("*.yaml"))
    assert files, f"the CESQL TCK is missing at {TCK}"
    out = []
    for path in files:
        text = path.read_text()
        suite = yaml.load(text, Loader=_StringTimes)  # noqa: S506 - a SafeLoader subclass
        for number, (case, source) in enumerate(zip(suite["tests"], _sources(text),
                                                    strict=True)):
            case["expression"] = source
            out.append(pytest.param(case, id=f"{path.stem}:{number}:{case['name']}"))
    return out


def _event(case: dict) -> dict:
    event = dict(case["event"]) if "event" in case else dict(BASE_EVENT)
    event.pop("data", None)
    event.update(case.get("eventOverrides") or {})
    return event


@pytest.mark.parametrize("case", _cases())
def test_tck_case(case: dict) -> None:
    if case.get("error") == "parse":
        with pytest.raises(CesqlSyntaxError):
            compile_expression(case["expression"])
        return
    value, errors = compile_expression(case["expression"]).evaluate(_event(case))
    if "result" in case:
        assert value == case["result"] and type(value) is type(case["result"]), (value, errors)
    if "error" in case:
        assert errors, f"expected a {case['error']} error, got none (value {value!r})"
        assert errors[0].kind == case["error"], errors
    else:
        assert errors == []
