from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_jupyter.filters import compile_filter
from seldon_jupyter.trigger_index import TriggerIndex

TYPES = ["a", "b", "c", ""]
SOURCES = ["s1", "s2"]


def _spec(draw: st.DrawFn) -> dict:
    shape = draw(st.sampled_from(["attributes", "exact", "prefix", "cesql", "any", "none"]))
    t, src = draw(st.sampled_from(TYPES)), draw(st.sampled_from(SOURCES))
    if shape == "attributes":
        return {"filter": {"attributes": {"type": t, "source": src}}}
    if shape == "exact":
        return {"filters": [{"exact": {"type": t or "a"}}, {"exact": {"source": src}}]}
    if shape == "prefix":
        return {"filters": [{"prefix": {"type": t or "a"}}]}
    if shape == "cesql":
        return {"filters": [{"cesql": f"type = '{t}' OR source = '{src}'"}]}
    if shape == "any":
        return {"filters": [{"any": [{"exact": {"type": t or "b"}}, {"exact": {"source": src}}]}]}
    return {}


specs = st.lists(st.composite(_spec)(), max_size=12)
attrs = st.fixed_dictionaries({"type": st.sampled_from(TYPES[:3]),
                               "source": st.sampled_from(SOURCES),
                               "id": st.just("1"), "specversion": st.just("1.0")})


@settings(max_examples=300, deadline=None)
@given(specs, st.lists(attrs, min_size=1, max_size=5))
def test_the_index_finds_exactly_what_a_scan_of_every_filter_finds_in_the_same_order(
        drawn, events):
    compiled = [(i, spec, compile_filter(spec)) for i, spec in enumerate(drawn)]
    index = TriggerIndex(compiled)
    for event in events:
        scan = [i for i, _, f in compiled if f.matches(event)]
        assert index.matching(event) == scan


def test_a_trigger_with_an_exact_type_is_filed_under_it_and_others_are_checked_always():
    items = [("typed", {"filter": {"attributes": {"type": "a"}}}),
             ("any-type", {"filter": {"attributes": {"type": ""}}}),
             ("exact", {"filters": [{"exact": {"type": "b"}}]}),
             ("cesql", {"filters": [{"cesql": "type = 'a'"}]})]
    index = TriggerIndex((name, spec, compile_filter(spec)) for name, spec in items)
    assert sorted(index.by_type) == ["a", "b"]
    assert [entry[2] for entry in index.rest] == ["any-type", "cesql"]
    assert index.matching({"type": "a", "source": "x", "id": "1",
                           "specversion": "1.0"}) == ["typed", "any-type", "cesql"]
    assert index.matching({"type": "z", "source": "x", "id": "1",
                           "specversion": "1.0"}) == ["any-type"]
