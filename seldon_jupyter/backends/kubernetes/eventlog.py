"""Read CloudEvents back out of an event-display pod log.

Knative's event_display prints every event it receives as a block:

    ☁️  cloudevents.Event
    Validation: valid
    Context Attributes,
      specversion: 0.3
      type: seldon.iris-deployment.default.response
      ...
    Extensions,
      knativearrivaltime: ...
    Data,
      {
        "data": ...
      }

This module turns such a log into `Event`s (attributes as strings, the data re-compacted
when it is JSON), skipping lines that belong to no block. A block cut off at the end of the
log (the pod is still writing it: no trailing newline, or JSON data that does not parse
yet) is left for the next read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from seldon_jupyter.events import Event, is_json_type

HEADER = "cloudevents.Event"
SECTIONS = {"Context Attributes,": "context", "Extensions,": "extensions", "Data,": "data"}
REQUIRED = ("id", "source", "specversion", "type")


@dataclass(frozen=True)
class Parsed:
    """One entry per complete block of a log: its Event, or None if it was not one;
    `consumed` is how many lines of the log those blocks (and what precedes them) cover."""

    blocks: list[Event | None]
    consumed: int = 0

    @property
    def events(self) -> list[Event]:
        return [e for e in self.blocks if e is not None]


def _attribute(line: str) -> tuple[str, str] | None:
    name, sep, value = line.strip().partition(":")
    if not sep or not name:
        return None
    return name.strip(), value.strip()


def _block(lines: list[str], *, last: bool) -> Event | None | bool:
    """The event of one block; False if it is the last one and looks unfinished."""
    attributes: dict[str, str] = {}
    data: list[str] = []
    section = ""
    for line in lines:
        if line.strip() in SECTIONS:
            section = SECTIONS[line.strip()]
        elif section in ("context", "extensions") and line.startswith("  "):
            pair = _attribute(line)
            if pair:
                attributes[pair[0]] = pair[1]
        elif section == "data" and (line.startswith("  ") or not line.strip()):
            data.append(line[2:])
        elif not line.startswith("Validation:"):
            section = ""  # a line from something else in the pod's log
    if any(not attributes.get(k) for k in REQUIRED):
        return False if last else None
    text = "\n".join(data).strip("\n")
    body = text.encode()
    if text and is_json_type(attributes.get("datacontenttype") or "application/json"):
        try:
            body = json.dumps(json.loads(text), separators=(",", ":")).encode()
        except ValueError:
            if last:
                return False
    return Event(attributes, body)


def parse(log: str) -> Parsed:
    """The blocks of `log` (an unfinished last one is left out)."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADER in line]
    blocks: list[Event | None] = []
    consumed = starts[0] if starts else len(lines)
    for n, start in enumerate(starts):
        last = n + 1 == len(starts)
        end = starts[n + 1] if not last else len(lines)
        event = _block(lines[start + 1:end], last=last)
        if event is False or (last and not log.endswith("\n")):
            break
        blocks.append(event if isinstance(event, Event) else None)
        consumed = end
    return Parsed(blocks, consumed)
