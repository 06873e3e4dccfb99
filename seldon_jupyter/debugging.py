"""The debugging verbs behind Session: trace, explain, dead letters, failures, replay.

They read the journal (`journal_reader`) and the backend's Triggers, and use the same
filter engine as the broker, so "why did my Trigger not fire?" has the broker's answer.
`Session` exposes each as a method; this module keeps Session itself small.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from seldon_jupyter import events, journal_reader, resources
from seldon_jupyter.errors import NotFoundError
from seldon_jupyter.explain import Explanation, explain
from seldon_jupyter.trace import REPLAY_OF, Trace, build

if TYPE_CHECKING:
    from seldon_jupyter.sender import SendSummary
    from seldon_jupyter.session import Session

DEAD_LETTER_SINK = "dead-letters"
DEAD_LETTER_COLUMNS = ["event_seq", "event_id", "type", "source", "trigger", "destination",
                       "knativeerrorcode", "knativeerrordata", "attempts", "first_attempt_at",
                       "dead_lettered_at", "event"]


def trace(session: Session, event: Any = "last") -> Trace:
    path = session.backend.journal_path()
    event_id = None if event in (None, "last") else str(getattr(event, "id", event))
    seq = journal_reader.find_event(path, event_id, namespace=session.namespace)
    if seq is None:
        what = "no event sent in this namespace yet" if event_id is None else (
            f"no event {event_id!r} in the journal of namespace {session.namespace}")
        raise NotFoundError(what, hint="trace reads the local broker's journal; on a cluster "
                            "use session.explain(type=...) for what the Triggers would do")
    found = build(lambda s: journal_reader.event_story(path, s), seq, session.status("trigger"))
    assert found is not None
    return found


def explain_event(session: Session, attributes: Mapping[str, str | None], broker: str | None
                  ) -> Explanation:
    attrs = {"specversion": "1.0", "id": "explain", **{k: str(v) for k, v in
                                                       attributes.items() if v is not None}}
    if not attrs.get("type") or not attrs.get("source"):
        attrs.setdefault("source", session.source)
        attrs.setdefault("type", "")
    found = session.status()
    return explain([r for r in found if r.kind == "Trigger"], attrs,
                   namespace=session.namespace, broker=broker or session.broker,
                   client_side=session.backend.name != "local",
                   others=[r for r in found if r.kind == "SeldonDeployment"])


def _decode(value: str | None) -> str | None:
    if not value:
        return value
    try:
        return base64.b64decode(value).decode("utf-8", errors="replace")
    except ValueError:
        return value


def dead_letters(session: Session) -> pd.DataFrame:
    """Dead-lettered events: from the local broker's deliveries, and from letters a
    collector received (a cluster's dead-letter sink), each once."""
    path = session.backend.journal_path()
    frame = session.deliveries(state="dead-lettered")
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for d in frame.itertuples():
        story = journal_reader.event_story(path, int(str(d.event_seq))) or {}
        tries = [a for a in story.get("attempts", []) if a["trigger"] == d.trigger]
        subscriber = [a for a in tries if a["target"] == "subscriber"]
        last = subscriber[-1] if subscriber else None
        data = (bytes(last["answer"] or b"").decode("utf-8", errors="replace")
                if last else None)
        event = story.get("event", {})
        seen.add((str(event.get("source")), str(d.event_id)))
        rows.append({"event_seq": d.event_seq, "event_id": d.event_id, "type": d.event_type,
                     "source": event.get("source"), "trigger": d.trigger,
                     "destination": last["url"] if last else None,
                     "knativeerrorcode": str(last["code"] if last and last["code"] else 500),
                     "knativeerrordata": data, "attempts": d.attempts,
                     "first_attempt_at": pd.Timestamp(tries[0]["started_at"], unit="s",
                                                      tz="UTC") if tries else pd.NaT,
                     "dead_lettered_at": d.updated_at,
                     "event": json.dumps(event.get("attributes", {}))})
    collected = session.responses(all_namespaces=False)
    for r in collected.itertuples():
        attrs = json.loads(str(r.attributes))
        if "knativeerrordest" not in attrs or (r.source, r.id) in seen:
            continue
        if journal_reader.find_event(path, str(r.id), namespace=session.namespace) is not None:
            continue  # the local broker has this event: its delivery row is the record
        rows.append({"event_seq": None, "event_id": r.id, "type": r.type, "source": r.source,
                     "trigger": None, "destination": attrs.get("knativeerrordest"),
                     "knativeerrorcode": attrs.get("knativeerrorcode"),
                     "knativeerrordata": _decode(attrs.get("knativeerrordata")),
                     "attempts": None, "first_attempt_at": pd.NaT,
                     "dead_lettered_at": r.received_at, "event": r.attributes})
    return pd.DataFrame(rows, columns=DEAD_LETTER_COLUMNS)


def failures(session: Session) -> pd.DataFrame:
    """Events nothing took (with the nearest Trigger's reason), dropped events, and
    deliveries that failed or were dead-lettered, with their reasons."""
    rows: list[dict[str, Any]] = []
    triggers = session.status("trigger")
    for e in journal_reader.unrouted(session.backend.journal_path(),
                                     namespace=session.namespace):
        if e["status"] != "accepted":
            what, reason = e["status"], e["reason"]
        else:
            attrs = json.loads(e["attributes"])
            near = explain(triggers, attrs, namespace=session.namespace, broker=session.broker,
                           client_side=False).verdicts
            what = "unrouted"
            reason = ("no Trigger on the broker" if not near else
                      f"no Trigger matches; nearest {near[0].trigger}: {near[0].why}")
        rows.append({"event_seq": e["seq"], "event_id": e["id"], "type": e["type"],
                     "what": what, "trigger": None, "reason": reason,
                     "at": pd.Timestamp(e["received_at"], unit="s", tz="UTC")})
    for state in ("failed", "dead-lettered"):
        for d in session.deliveries(state=state).itertuples():
            rows.append({"event_seq": d.event_seq, "event_id": d.event_id, "type": d.event_type,
                         "what": state, "trigger": d.trigger, "reason": d.error,
                         "at": d.updated_at})
    return pd.DataFrame(rows, columns=["event_seq", "event_id", "type", "what", "trigger",
                                       "reason", "at"]).sort_values("event_seq",
                                                                     ignore_index=True)


def replay(session: Session, items: Any, *, to: str | None = None, type: str | None = None,  # noqa: A002
           rate: float | None = None, new_ids: bool = True,
           progress: Callable[[int, int], None] | None = None) -> SendSummary:
    """Re-send journaled events (ids, a DataFrame with an `id`/`event_id` column, Events)."""
    path = session.backend.journal_path()
    if isinstance(items, pd.DataFrame):
        column = "event_id" if "event_id" in items.columns else "id"
        items = list(items[column])
    elif isinstance(items, str | events.Event):
        items = [items]
    out: list[events.Event] = []
    for item in items if isinstance(items, Iterable) else [items]:
        if isinstance(item, events.Event):
            original = item
        else:
            seq = journal_reader.find_event(path, str(item), namespace=session.namespace)
            story = journal_reader.event_story(path, seq) if seq is not None else None
            if story is None:
                raise NotFoundError(f"no event {item!r} in the journal to replay",
                                    hint="replay takes ids from session.events() or a trace")
            stored = story["event"]
            original = events.Event(stored["attributes"], stored["data"])
        drop = {k: None for k in original.attributes if k.startswith("knative")}
        changes: dict[str, str | None] = {**drop, REPLAY_OF: original.id}
        if new_ids:
            changes["id"] = str(uuid.uuid4())
        if type:
            changes["type"] = type
        out.append(original.with_attributes(**changes))
    return session.send_many(out, rate=rate, broker=to, progress=progress)


def dead_letter_sink(session: Session, triggers: Iterable[str] | None = None) -> list[Any]:
    """The kit's collector as a dead-letter sink, wired into the Triggers' delivery."""
    applied = session.apply(resources.collector(DEAD_LETTER_SINK, namespace=session.namespace),
                            wait=True)
    ref = {"ref": {"apiVersion": "v1", "kind": "Service", "name": DEAD_LETTER_SINK}}
    chosen = set(triggers) if triggers is not None else None
    wired = []
    for t in session.status("trigger"):
        if chosen is not None and t.name not in chosen:
            continue
        meta = t.manifest.get("metadata") or {}
        spec = {**(t.manifest.get("spec") or {})}
        spec["delivery"] = {**(spec.get("delivery") or {}), "deadLetterSink": ref}
        wired.append({"apiVersion": t.api_version or "eventing.knative.dev/v1",
                      "kind": "Trigger", "spec": spec,
                      "metadata": {k: meta[k] for k in ("name", "namespace", "labels",
                                                        "annotations") if k in meta}})
    return [*applied, *(session.apply(wired) if wired else [])]
