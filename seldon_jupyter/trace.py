"""Why an event went where it went: `Session.trace`, read from the local journal.

A Trace is one event (attributes, arrival), the verdict of every Trigger on its broker
(taken, or the first filter that failed, from `explain.verdict`), each HTTP attempt of
each delivery (time, target, status, duration, what came back, the wait before it), where
collectors took it, the dead-letter outcome, and the replies it caused, each traced the
same way, so request -> model -> response -> next Trigger reads as one tree.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from seldon_jupyter.backends.base import Resource
from seldon_jupyter.explain import verdict
from seldon_jupyter.states import COLOURS

REPLAY_OF = "replayof"  # the extension a replayed event carries: the original's id
MAX_DEPTH = 8


@dataclass(frozen=True)
class Attempt:
    trigger: str
    target: str  # subscriber or dead-letter
    number: int
    url: str
    at: float
    duration_ms: float
    waited_s: float
    code: int | None
    error: str | None
    answer: str


@dataclass(frozen=True)
class Route:
    trigger: str
    subscriber: str
    taken: bool
    why: str
    state: str | None  # delivered / dead-lettered / failed / pending, or None if not taken
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class Trace:
    seq: int
    id: str
    type: str
    source: str
    broker: str
    arrived_at: float
    attributes: dict[str, str]
    data: str
    status: str
    reason: str | None
    routes: tuple[Route, ...]
    collected: tuple[str, ...]
    replies: tuple[Trace, ...] = field(default=())

    @property
    def replay_of(self) -> str | None:
        return self.attributes.get(REPLAY_OF)

    def walk(self, depth: int = 0) -> list[tuple[int, Trace]]:
        out = [(depth, self)]
        for reply in self.replies:
            out.extend(reply.walk(depth + 1))
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per HTTP attempt in the whole tree."""
        rows = [{"depth": d, "event_id": t.id, "event_type": t.type, "trigger": a.trigger,
                 "target": a.target, "attempt": a.number, "url": a.url,
                 "at": pd.Timestamp(a.at, unit="s", tz="UTC"), "duration_ms": a.duration_ms,
                 "waited_s": a.waited_s, "code": a.code, "error": a.error, "answer": a.answer}
                for d, t in self.walk() for r in t.routes for a in r.attempts]
        return pd.DataFrame(rows, columns=["depth", "event_id", "event_type", "trigger",
                                           "target", "attempt", "url", "at", "duration_ms",
                                           "waited_s", "code", "error", "answer"])

    def __str__(self) -> str:
        lines: list[str] = []
        for depth, t in self.walk():
            pad = "    " * depth
            lines.append(f"{pad}{'reply ' if depth else ''}event {t.id} type={t.type} "
                         f"source={t.source} on {t.broker} at {_clock(t.arrived_at)}"
                         + (f" (replay of {t.replay_of})" if t.replay_of else ""))
            if t.status != "accepted":
                lines.append(f"{pad}  {t.status}: {t.reason}")
            if not t.routes:
                lines.append(f"{pad}  no Trigger on this broker: dropped")
            for r in t.routes:
                if not r.taken:
                    lines.append(f"{pad}  x {r.trigger}: {r.why}")
                    continue
                lines.append(f"{pad}  -> {r.trigger} ({r.subscriber}): {r.state}")
                for a in r.attempts:
                    wait = f" after {a.waited_s:g}s" if a.waited_s else ""
                    result = a.code if a.code is not None else "no answer"
                    lines.append(f"{pad}       {a.target} attempt {a.number}{wait}: {result} "
                                 f"in {a.duration_ms:.1f} ms" + (f" - {a.error}" if a.error
                                                                  else ""))
            for sink in t.collected:
                lines.append(f"{pad}  collected by {sink}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(str(self))  # IPython's text/plain: the tree, not the dataclass repr

    def _repr_html_(self) -> str:
        parts = []
        for depth, t in self.walk():
            items = []
            for r in t.routes:
                tone = ("ok" if r.state == "delivered" else "error" if r.state in (
                    "failed", "dead-lettered") else "warn") if r.taken else "none"
                bar = "".join(
                    f"<span title='{html.escape(a.error or '')}' style='display:inline-block;"
                    f"margin-right:4px;padding:0 4px;border-radius:3px;color:white;background:"
                    f"{COLOURS['ok' if a.code and 200 <= a.code < 300 else 'error']}'>"
                    f"{a.target[0]}{a.number}: {a.code or '-'} {a.duration_ms:.0f}ms</span>"
                    for a in r.attempts)
                what = html.escape(r.state or "") if r.taken else html.escape(r.why)
                items.append(f"<li><b>{html.escape(r.trigger)}</b> "
                             f"<span style='color:{COLOURS[tone]}'>{what}</span> {bar}</li>")
            if not t.routes:
                items.append(f"<li style='color:{COLOURS['error']}'>no Trigger on this broker"
                             ": dropped</li>")
            items += [f"<li>collected by <b>{html.escape(s)}</b></li>" for s in t.collected]
            parts.append(f"<div style='margin-left:{depth * 1.5}em'>"
                         f"{'&#8627; reply ' if depth else ''}<code>{html.escape(t.type)}"
                         f"</code> <small>{html.escape(t.id)} at {_clock(t.arrived_at)}"
                         f"</small><ul>{''.join(items)}</ul></div>")
        return "<div class='sj-trace'>" + "".join(parts) + "</div>"


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]


def _snippet(raw: Any) -> str:
    text = bytes(raw or b"").decode("utf-8", errors="replace")
    return text if len(text) <= 200 else text[:200] + "..."


Story = Callable[[int], dict[str, Any] | None]


def build(story: Story, seq: int, triggers: list[Resource], depth: int = 0) -> Trace | None:
    """The trace of event `seq` (None if the journal does not have it)."""
    found = story(seq)
    if found is None:
        return None
    event = found["event"]
    attrs = {k: str(v) for k, v in event["attributes"].items()}
    delivered = {d["trigger"]: d for d in found["deliveries"]}
    tries: dict[str, list[Attempt]] = {}
    for a in found["attempts"]:
        tries.setdefault(a["trigger"], []).append(Attempt(
            a["trigger"], a["target"], a["number"], a["url"], a["started_at"],
            a["duration_ms"], a["waited_s"], a["code"], a["error"], _snippet(a["answer"])))
    routes = []
    keys = set()
    for t in triggers:
        spec = t.manifest.get("spec") or {}
        if t.kind != "Trigger" or t.namespace != event["namespace"] or spec.get(
                "broker", "default") != event["broker"]:
            continue
        key = f"{t.namespace}/{t.name}"
        keys.add(key)
        v = verdict(t, attrs)
        taken = key in delivered
        routes.append(Route(key, v.subscriber, taken, "" if taken else v.why,
                            delivered[key]["state"] if taken else None,
                            tuple(tries.get(key, ()))))
    for key, d in delivered.items():  # taken by a Trigger deleted since
        if key not in keys:
            routes.append(Route(key, "(Trigger deleted since)", True, "", d["state"],
                                tuple(tries.get(key, ()))))
    replies = tuple(r for r in (build(story, c, triggers, depth + 1)
                                for c in (found["children"] if depth < MAX_DEPTH else []))
                    if r is not None)
    data = _snippet(event["data"])
    try:
        data = json.dumps(json.loads(event["data"]))[:200] if event["data"] else ""
    except ValueError:
        pass
    return Trace(seq, event["id"], event["type"], event["source"],
                 f"{event['namespace']}/{event['broker']}", event["received_at"], attrs, data,
                 event["status"], event["reason"], tuple(routes),
                 tuple(c["sink"] for c in found["collected"]), replies)
