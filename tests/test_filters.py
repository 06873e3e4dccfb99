"""Knative's filter semantics (knative/eventing pkg/eventfilter, knative-v1.22), one test each."""

from __future__ import annotations

import pytest

from seldon_jupyter.errors import ManifestError
from seldon_jupyter.filters import compile_filter, describe

EVENT = {"specversion": "1.0", "id": "1", "type": "seldon.iris.default.response",
         "source": "seldon.iris"}


def attrs(**more: str) -> dict[str, str]:
    return {**EVENT, **more}


def test_attribute_filter_is_exact_on_every_listed_attribute():
    # pkg/eventfilter/attributes/filter.go: each listed attribute must equal the event's
    flt = compile_filter({"filter": {"attributes": {"type": "seldon.iris.default.response",
                                                    "source": "seldon.iris"}}})
    assert flt.matches(attrs())
    assert not flt.matches(attrs(source="seldon.iris2"))
    miss = flt.why_not(attrs(source="seldon.iris2"))
    assert miss is not None and miss.attribute == "source" and miss.actual == "seldon.iris2"
    assert "expected 'seldon.iris'" in str(miss)


def test_empty_value_means_any_and_core_attributes_always_count_as_present():
    # attributes/filter.go: "" is TriggerAnyFilter; the ce map always holds subject, time...
    flt = compile_filter({"filter": {"attributes": {"subject": "", "tenant": ""}}})
    assert flt.matches(attrs(tenant="a"))  # no subject on the event, still present
    assert not flt.matches(attrs())  # an extension must be there
    assert str(flt.why_not(attrs())).startswith("tenant differs")


def test_empty_filter_matches_all():
    assert compile_filter({}).matches(attrs())
    assert compile_filter({"filter": {}}).matches(attrs())


def test_filters_take_precedence_over_filter_and_are_anded():
    spec = {"filter": {"attributes": {"type": "nope"}},
            "filters": [{"prefix": {"type": "seldon."}}, {"suffix": {"type": ".response"}}]}
    flt = compile_filter(spec)
    assert flt.matches(attrs())
    assert not flt.matches(attrs(type="seldon.iris.default.request"))
    assert "suffix" in str(flt.why_not(attrs(type="seldon.iris.default.request")))


def test_any_all_not_and_cesql_dialects():
    spec = {"filters": [{"any": [{"exact": {"type": "a"}}, {"exact": {"source": "seldon.iris"}}]},
                        {"not": {"exact": {"tenant": "blocked"}}},
                        {"cesql": "source LIKE 'seldon.%' AND EXISTS tenant"}]}
    flt = compile_filter(spec)
    assert flt.matches(attrs(tenant="ok"))
    assert not flt.matches(attrs(tenant="blocked"))
    assert not flt.matches(attrs())  # EXISTS tenant is false
    assert "EXISTS tenant" in str(flt.why_not(attrs()))


def test_empty_any_is_no_filter_and_passes():
    # any_filter.go: res starts as NoFilter; a Trigger fails only on FailFilter
    assert compile_filter({"filters": [{"any": []}]}).matches(attrs())
    assert compile_filter({"filters": [{"not": {"any": []}}]}).matches(attrs())


def test_cesql_errors_fail_the_filter():
    # cesql_filter.go: an evaluation error is FailFilter
    flt = compile_filter({"filters": [{"cesql": "missing = 'x' OR TRUE"}]})
    assert not flt.matches(attrs())
    assert "missingAttribute" in str(flt.why_not(attrs()))


@pytest.mark.parametrize("expr, field", [
    ({"exact": {"type": ""}}, "spec.filters[0].exact.type"),
    ({"prefix": {"type": "a", "source": "b"}}, "spec.filters[0].prefix"),
    ({"cesql": "type = "}, "spec.filters[0].cesql"),
    ({"regex": "x"}, "spec.filters[0]"),
])
def test_invalid_filters_are_refused_naming_the_field(expr, field):
    with pytest.raises(ManifestError) as info:
        compile_filter({"filters": [expr]})
    assert info.value.field == field


def test_cesql_parse_error_carries_the_parser_message():
    with pytest.raises(ManifestError, match="cannot parse CESQL 'type = ' at"):
        compile_filter({"filters": [{"cesql": "type = "}]})


def test_describe_reads_as_the_filter():
    assert describe({"filter": {"attributes": {"type": "t", "x": ""}}}) == "type=t, x=*"
    assert describe({"filters": [{"prefix": {"type": "a"}}, {"cesql": "x = 1"}]}) == \
        "prefix(type=a) AND cesql(x = 1)"
