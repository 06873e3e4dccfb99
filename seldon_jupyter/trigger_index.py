"""Which Triggers can take an event, without testing every Trigger's filter.

A broker with a thousand Triggers should not run a thousand filters per event. A Trigger
whose filter requires an exact `type` (what `filters.attributes_of` finds: a non-empty
`filter.attributes.type`, or an `exact` on `type` at the top of `spec.filters`) can only
pass events of that type, so it is filed under that value; every other Trigger is a
candidate for every event. The candidates are then tested with their full filter, in the
Triggers' own order, so the answer is exactly what a scan of all of them would give.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from seldon_jupyter.filters import Attributes, Filter, attributes_of

T = TypeVar("T")
_Entry = tuple[int, Filter, Any]


class TriggerIndex(Generic[T]):
    """Items (routes, triggers) with their spec and compiled filter, indexed by type."""

    def __init__(self, items: Iterable[tuple[T, Mapping[str, Any], Filter]]) -> None:
        self.by_type: dict[str, list[_Entry]] = {}
        self.rest: list[_Entry] = []
        self.size = 0
        for order, (item, spec, compiled) in enumerate(items):
            wanted = attributes_of(spec).get("type")
            entry = (order, compiled, item)
            (self.by_type.setdefault(wanted, []) if wanted else self.rest).append(entry)
            self.size += 1

    def matching(self, attrs: Attributes) -> list[T]:
        """Every item whose filter passes `attrs`, in the order they were given."""
        typed = self.by_type.get(attrs.get("type", ""), [])
        if not self.rest:
            candidates: Iterable[_Entry] = typed
        elif not typed:
            candidates = self.rest
        else:
            candidates = heapq.merge(typed, self.rest, key=lambda entry: entry[0])
        return [item for _, compiled, item in candidates if compiled.matches(attrs)]
