"""Pull the response events that cluster-side sinks received into the local SQLite journal.

Two kinds of sink are read, both through the API server (no port-forward, no kubectl):
the kit's own collector (`resources.collector`), whose `GET /events?after=N` is reached
through the Service proxy, and Knative's event_display, whose pod log is parsed. Each
sink's read position is kept in the journal's `cursors` table and moved in the same
transaction that inserts the events, so a response lands in the journal exactly once even
when several kernels collect at the same time.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from seldon_jupyter import events, journal, journal_reader, resources
from seldon_jupyter.backends.kubernetes.api import Api
from seldon_jupyter.backends.kubernetes.eventlog import parse
from seldon_jupyter.errors import EventError, NotFoundError

log = logging.getLogger(__name__)
PAGE = 1000
MAX_PAGES = 100  # per sink and call: at most 100k events, the rest on the next call


def _rfc3339(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return pd.Timestamp(value).timestamp()
    except ValueError:
        return None


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Collector:
    """Reads the sinks of one namespace into one journal file."""

    def __init__(self, api: Api, journal_path: Path) -> None:
        self.api = api
        self.path = journal_path

    # -- discovery --------------------------------------------------------------------------

    def sinks(self, namespace: str) -> list[tuple[str, str, dict[str, Any], str]]:
        """(kind 'sink'|'event-display', journal sink name, deployment, service) per sink."""
        deployments = self.api.request(
            "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments").get("items", [])
        services = self.api.request(
            "GET", f"/api/v1/namespaces/{namespace}/services").get("items", [])
        found = []
        for dep in deployments:
            template = dep.get("spec", {}).get("template", {})
            labels = template.get("metadata", {}).get("labels") or {}
            images = [c.get("image", "") for c in template.get("spec", {}).get("containers", [])]
            if labels.get(resources.COLLECTOR_LABEL) == "sink":
                kind = "sink"
            elif any("event_display" in i or "event-display" in i for i in images):
                kind = "event-display"
            else:
                continue
            service = next((s["metadata"]["name"] for s in services
                            if _matches(s.get("spec", {}).get("selector") or {}, labels)),
                           dep["metadata"]["name"])
            found.append((kind, f"{namespace}/{service}", dep, service))
        return found

    # -- reading ----------------------------------------------------------------------------

    def collect(self, namespace: str) -> int:
        """Pull what every sink in `namespace` holds beyond its cursor; returns how many."""
        added = 0
        for kind, sink, dep, service in self.sinks(namespace):
            if kind == "sink":
                added += self._pull_sink(namespace, sink, service)
            else:
                added += self._pull_logs(namespace, sink, dep)
        return added

    def _pull_sink(self, namespace: str, sink: str, service: str) -> int:
        base = f"/api/v1/namespaces/{namespace}/services/{service}/proxy/events"
        added = 0
        for _ in range(MAX_PAGES):
            origin = journal_reader.cursor_origin(self.path, sink)
            position = journal_reader.cursor_position(self.path, sink, origin) if origin else 0
            try:
                page = self.api.request("GET", base, query=[("after", str(position)),
                                                            ("limit", str(PAGE))])
            except NotFoundError:
                return added  # no ready endpoint yet
            instance = page.get("instance", "")
            if instance != origin:
                # a new sink instance numbers from 1 again
                journal.forget_cursor(self.path, sink, instance)
                continue
            records = page.get("events", [])
            batch = []
            for record in records:
                try:
                    event = events.from_http(record["headers"],
                                             base64.b64decode(record["body"]))
                except (EventError, KeyError, ValueError) as exc:
                    log.warning("sink %s event %s is not a CloudEvent: %s", sink,
                                record.get("seq"), exc)
                    continue
                batch.append((event, float(record.get("time") or time.time())))
            added += journal.store_collected(self.path, sink, instance, position,
                                             position + len(records), batch)
            if len(records) < PAGE:
                return added
        return added

    def _pull_logs(self, namespace: str, sink: str, dep: dict[str, Any]) -> int:
        selector = dep.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        query = [("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(selector.items())))]
        pods = self.api.request("GET", f"/api/v1/namespaces/{namespace}/pods",
                                query=query).get("items", [])
        added = 0
        for pod in pods:
            name = pod["metadata"]["name"]
            origin = pod["metadata"].get("uid") or name
            containers = pod.get("spec", {}).get("containers") or [{}]
            try:
                text = self.api.request(
                    "GET", f"/api/v1/namespaces/{namespace}/pods/{name}/log",
                    query=[("container", containers[0].get("name", ""))], text=True)
            except NotFoundError:
                continue
            blocks = parse(text or "").blocks
            position = journal_reader.cursor_position(self.path, sink, origin)
            if len(blocks) <= position:
                continue
            fresh = [(e, _rfc3339(e.attributes.get("knativearrivaltime")) or
                      _rfc3339(e.attributes.get("time")) or time.time())
                     for e in blocks[position:] if e is not None]
            added += journal.store_collected(self.path, sink, origin, position, len(blocks), fresh)
        return added
