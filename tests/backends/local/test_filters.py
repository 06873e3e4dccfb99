from __future__ import annotations

import pytest

from seldon_jupyter import events
from seldon_jupyter.backends.local.filters import UnsupportedFilter, compile_filter


def ev(**attrs):
    return events.new_event({}, type=attrs.pop("type", "seldon.iris.default.response"),
                            source=attrs.pop("source", "seldon.iris"), extensions=attrs)


def test_attribute_filter_is_exact_on_every_listed_attribute():
    match = compile_filter({"filter": {"attributes": {"type": "seldon.iris.default.response",
                                                      "source": "seldon.iris"}}})
    assert match(ev())
    assert not match(ev(source="seldon.iris2"))
    assert not match(ev(type="seldon.iris.default.response.x"))


def test_extensions_can_be_filtered_and_empty_value_means_any():
    match = compile_filter({"filter": {"attributes": {"tenant": "a", "region": ""}}})
    assert match(ev(tenant="a", region="eu"))
    assert not match(ev(tenant="b", region="eu"))
    assert not match(ev(tenant="a"))


def test_empty_filter_matches_all():
    assert compile_filter({})(ev())
    assert compile_filter({"filter": {"attributes": {}}})(ev())


def test_new_filter_dialects_and_precedence():
    spec = {"filter": {"attributes": {"type": "never"}},
            "filters": [{"all": [{"prefix": {"type": "seldon."}},
                                 {"suffix": {"type": ".response"}},
                                 {"not": {"exact": {"source": "seldon.blocked"}}}]},
                        {"any": [{"exact": {"source": "seldon.iris"}},
                                 {"exact": {"source": "seldon.other"}}]}]}
    match = compile_filter(spec)
    assert match(ev())
    assert not match(ev(source="seldon.blocked"))
    assert not match(ev(type="seldon.iris.default.request"))
    assert not match(ev(source="seldon.third"))


def test_cesql_is_reported_as_unsupported():
    with pytest.raises(UnsupportedFilter, match="cesql"):
        compile_filter({"filters": [{"cesql": "type = 'x'"}]})
