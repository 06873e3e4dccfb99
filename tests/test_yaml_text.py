"""YAML manifests: bombs refused in milliseconds, YAML-only types and deep nesting become the
kit's ManifestError with where they are (never TypeError, RecursionError or MemoryError)."""

from __future__ import annotations

import time

import pytest

from seldon_jupyter import resources, yaml_text
from seldon_jupyter.errors import ManifestError

LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_is_refused_quickly():
    assert len(LAUGHS) < 600
    started = time.monotonic()
    with pytest.raises(ManifestError, match="expands to more than 1,000,000 values"):
        resources.load(LAUGHS)
    assert time.monotonic() - started < 5


def test_many_aliases_are_refused_while_parsing():
    text = "base: &x {a: 1}\nitems:\n" + "".join("- *x\n" for _ in range(150))
    with pytest.raises(ManifestError, match="more than 100 aliases"):
        yaml_text.load_all(text)
    assert len(yaml_text.load_all("base: &x {a: 1}\nmore: *x\n")[0]["more"]) == 1


@pytest.mark.parametrize(("text", "words"), [
    ("metadata: {labels: {released: 2024-01-02}}", 'document 1.metadata.labels.released is a '
                                                    'YAML date (2024-01-02)'),
    ("spec: !!set {a, b}", "document 1.spec is a YAML !!set"),
    ("data: !!binary aGVsbG8=", "document 1.data is a YAML !!binary"),
    ("? [1, 2]\n: x", "YAML does not parse"),
    ("2024-01-02: x", "has a key of YAML type date"),
])
def test_yaml_types_a_manifest_cannot_hold_are_named(text, words):
    with pytest.raises(ManifestError) as info:
        resources.load(text)
    assert words in str(info.value)


def test_deep_nesting_is_a_manifest_error():
    deep = "a: " + "[" * 5000 + "]" * 5000
    with pytest.raises(ManifestError, match="nested"):
        resources.load(deep)
    shallow = "a: " + "[" * 150 + "]" * 150
    with pytest.raises(ManifestError, match="more than 100 levels"):
        resources.load(shallow)


def test_ordinary_manifests_still_load():
    docs = resources.load(resources.to_yaml([resources.broker(), resources.trigger("t")]))
    assert [d["kind"] for d in docs] == ["Broker", "Trigger"]
