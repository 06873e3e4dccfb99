"""Which Triggers would take an event, and why the others would not: `Session.explain`.

The verdicts come from the broker's own filter engine (`filters`) run against the Triggers
the backend reports, so on a cluster this is a client-side evaluation of the Triggers'
specs (said in the result). Misses are ranked by how near they came: an attribute that
differs by one word ranks above a CESQL expression that is false.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seldon_jupyter import filters
from seldon_jupyter.backends.base import Resource
from seldon_jupyter.errors import ManifestError
from seldon_jupyter.states import COLOURS


@dataclass(frozen=True)
class Verdict:
    trigger: str  # namespace/name
    broker: str
    takes: bool
    why: str  # empty when it takes the event
    nearness: float  # 1.0 takes it; otherwise how close the first failing filter came
    subscriber: str


def _subscriber(spec: Mapping[str, Any]) -> str:
    sub = spec.get("subscriber") or {}
    ref = sub.get("ref") or {}
    target = f"{ref.get('kind')} {ref.get('name')}" if ref else ""
    return " + ".join(p for p in (target, sub.get("uri") or "") if p) or "?"


def verdict(trigger: Resource, attributes: Mapping[str, str]) -> Verdict:
    """One Trigger's verdict on an event's attributes."""
    spec = trigger.manifest.get("spec") or {}
    key = f"{trigger.namespace}/{trigger.name}"
    broker = str(spec.get("broker", "default"))
    try:
        compiled = filters.compile_filter(spec)
    except ManifestError as exc:
        return Verdict(key, broker, False, f"its filter is invalid: {exc}", 0.0,
                       _subscriber(spec))
    miss = compiled.why_not(attributes)
    if miss is None:
        return Verdict(key, broker, True, "", 1.0, _subscriber(spec))
    near = 0.0
    if miss.actual is not None and miss.expected:
        near = difflib.SequenceMatcher(None, miss.expected, miss.actual).ratio()
    return Verdict(key, broker, False, str(miss), near, _subscriber(spec))


@dataclass(frozen=True)
class Explanation:
    attributes: dict[str, str]
    broker: str
    verdicts: tuple[Verdict, ...]
    client_side: bool
    failed: Mapping[str, str] = field(default_factory=dict)  # subscriber -> why it Failed

    @property
    def takers(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.takes]

    def dropped_warning(self, create_with: str = "%seldon_trigger") -> str:
        """What to tell a sender when no Trigger takes this event ("" when one does): the
        broker accepts it (202) and drops it, so nothing will ever answer."""
        if self.takers:
            broken = [v for v in self.takers if v.subscriber in self.failed]
            if broken and len(broken) == len(self.takers):
                v = broken[0]
                return (f"accepted, and unanswered: Trigger {v.trigger} takes it to "
                        f"{v.subscriber}, which is Failed ({self.failed[v.subscriber]})")
            return ""
        if not self.verdicts:
            return (f"accepted, and dropped: no Trigger on broker {self.broker}; create one "
                    f"with {create_with}")
        near = self.verdicts[0]
        return f"accepted, and dropped: no Trigger matches; nearest {near.trigger}: {near.why}"

    def __str__(self) -> str:
        head = (f"event type={self.attributes.get('type')!r} "
                f"source={self.attributes.get('source')!r} on broker {self.broker}")
        lines = [head, ("  evaluated client-side from the Triggers' specs"
                        if self.client_side else "  evaluated with the broker's filter engine")]
        if not self.verdicts:
            lines.append("  no Trigger on this broker: the broker accepts the event and "
                         "drops it")
        for v in self.verdicts:
            mark = "takes it" if v.takes else f"no: {v.why}"
            lines.append(f"  Trigger {v.trigger} -> {v.subscriber}: {mark}")
        if self.verdicts and not self.takers:
            lines.append("  => accepted, and dropped: no Trigger matches")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><b>{html.escape(v.trigger)}</b></td><td>{html.escape(v.subscriber)}</td>"
            f"<td style='color:{COLOURS['ok' if v.takes else 'warn']}'>"
            f"{'takes it' if v.takes else html.escape(v.why)}</td></tr>" for v in self.verdicts)
        note = ("evaluated client-side from the Triggers' specs" if self.client_side
                else "evaluated with the broker's filter engine")
        verdict_line = ("" if self.takers or not self.verdicts else
                        f"<p style='color:{COLOURS['error']}'><b>accepted, and dropped: no "
                        "Trigger matches</b></p>")
        return (f"<div><p>event <code>{html.escape(str(self.attributes.get('type')))}</code>"
                f" from <code>{html.escape(str(self.attributes.get('source')))}</code> on "
                f"broker <b>{html.escape(self.broker)}</b> ({note})</p>{verdict_line}"
                "<table><tr><th>Trigger</th><th>subscriber</th><th>verdict</th></tr>"
                f"{rows}</table></div>")


def explain(triggers: Iterable[Resource], attributes: Mapping[str, str], *, namespace: str,
            broker: str, client_side: bool, others: Iterable[Resource] = ()) -> Explanation:
    """Verdicts of every Trigger on `namespace/broker`, takers first, then nearest misses;
    `others` (the namespace's SeldonDeployments) say which subscribers are Failed."""
    mine = [t for t in triggers if t.kind == "Trigger" and t.namespace == namespace and
            (t.manifest.get("spec") or {}).get("broker", "default") == broker]
    verdicts = sorted((verdict(t, attributes) for t in mine),
                      key=lambda v: (-v.nearness, v.trigger))
    failed = {f"{r.kind} {r.name}": r.reason or r.state for r in others
              if r.failed and r.namespace == namespace}
    return Explanation(dict(attributes), f"{namespace}/{broker}", tuple(verdicts), client_side,
                       failed)
