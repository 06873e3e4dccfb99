"""The events of one `send_many`, built as the sender takes them.

Building 10k events (an id, a body, the attributes) took a tenth of a bulk send, all of
it before the first request left. Rows the kit converted from an array are JSON-safe by
construction (tables refuses NaN, nested and non-plain values up front), so their events
are built lazily, one as each is sent, while the broker is busy with the ones before:
the first is still built and validated in full before anything is sent, and every event
is built (and kept) once. Anything else (the user's dicts, Events) is built up front, so
a bad item fails the call before a single event leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, overload

from seldon_jupyter import events
from seldon_jupyter.events import Event
from seldon_jupyter.tables import Tag

Items = list[tuple[Any, Tag | None]]


def new_event(body: Any, tag: Tag | None, **attrs: Any) -> Event:
    """One event for a body; its id is stamped into the body by `tag` (Seldon's meta.puid,
    a V2 request's id)."""
    event_id = attrs.pop("id", None) or str(uuid.uuid4())
    if tag is not None:
        body = tag(body, event_id)
    return events.new_event(body, id=event_id, **attrs)


def build(items: Items, *, lazy: bool = False, **attrs: Any) -> Sequence[Event]:
    """One event per item: the first built and validated in full, the others made like it
    with their own id and body (only those differ); `lazy` (JSON-safe rows only) builds
    those as they are read."""
    if lazy and items and "id" not in attrs and all(
            item is not None and not isinstance(item, Event) for item, _ in items):
        return Rows(items, attrs)
    template: Event | None = None
    out: list[Event] = []
    ids = iter(events.new_ids(len(items)))
    for item, tag in items:
        if isinstance(item, Event):
            out.append(item)
        elif template is None or "id" in attrs or item is None:
            template = new_event(item, tag, **attrs)
            out.append(template)
        else:
            event_id = next(ids)
            out.append(events.like(template, tag(item, event_id) if tag else item,
                                   id=event_id))
    return out


class Rows(Sequence[Event]):
    """Events made like the first, each built the first time it is read."""

    def __init__(self, items: Items, attrs: dict[str, Any]) -> None:
        self._items = items
        first, tag = items[0]
        self._template = new_event(first, tag, **attrs)
        self._built: list[Event | None] = [self._template] + [None] * (len(items) - 1)
        self._ids = events.new_ids(len(items))

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        event = self._built[index]
        if event is None:
            item, tag = self._items[index]
            event_id = self._ids[index]
            event = events.like(self._template, tag(item, event_id) if tag else item,
                                id=event_id)
            self._built[index] = event
        return event
