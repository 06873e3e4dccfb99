"""Pull the response events that cluster-side sinks received into the local SQLite journal.

Two kinds of sink are read, both through the API server (no port-forward, no kubectl):
the kit's own collector (`resources.collector`), whose `GET /events?after=N` is reached
through the Service proxy (by port name when the Service names its ports), and Knative's
event_display, whose pod log is parsed. The event-display container is picked by name
(under a mesh the proxy is the pod's first container) and read with `timestamps=true`
from `sinceTime` = the last line already taken, so log rotation loses nothing that was
still in the current file and nothing is read twice; after a restart the container's
previous instance (`previous=true`) is finished first. A pod not started yet or a
Service without endpoints is "not yet", not an error. Each sink's read position is kept
in the journal's `cursors` table and moved in the same transaction that inserts the
events, and the journal skips an event whose (source, id) it already holds, so a response
lands exactly once even when several kernels collect at the same time.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from seldon_jupyter import event_http, journal_collected, journal_reader, resources
from seldon_jupyter.backends.kubernetes import routing
from seldon_jupyter.backends.kubernetes.api import Api
from seldon_jupyter.backends.kubernetes.eventlog import parse
from seldon_jupyter.errors import EventError

log = logging.getLogger(__name__)
PAGE = 1000
MAX_PAGES = 100  # per sink and call: at most 100k events, the rest on the next call
NOT_YET = (400, 404, 503)  # waiting to start, no pod yet, no ready endpoint


def _rfc3339(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return pd.Timestamp(value).timestamp()
    except ValueError:
        return None


def _nanos(stamp: str) -> int:
    return int(pd.Timestamp(stamp).value)


def _since(nanos: int) -> str:
    """sinceTime has second precision: the second the last taken line is in."""
    return pd.Timestamp(nanos, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _is_display(image: str) -> bool:
    return "event_display" in image or "event-display" in image


class Collector:
    """Reads the sinks of one namespace into one journal file."""

    def __init__(self, api: Api, journal_path: Path) -> None:
        self.api = api
        self.path = journal_path

    # -- discovery --------------------------------------------------------------------------

    def sinks(self, namespace: str
              ) -> list[tuple[str, str, dict[str, Any], dict[str, Any] | None]]:
        """(kind 'sink'|'event-display', journal sink name, deployment, service) per sink."""
        deployments = self.api.request(
            "GET", routing.path("Deployment", namespace)).get("items", [])
        services = self.api.request("GET", routing.path("Service", namespace)).get("items", [])
        found = []
        for dep in deployments:
            template = dep.get("spec", {}).get("template", {})
            labels = template.get("metadata", {}).get("labels") or {}
            images = [c.get("image", "") for c in template.get("spec", {}).get("containers", [])]
            if labels.get(resources.COLLECTOR_LABEL) == "sink":
                kind = "sink"
            elif any(_is_display(i) for i in images):
                kind = "event-display"
            else:
                continue
            service = next((s for s in services
                            if _matches(s.get("spec", {}).get("selector") or {}, labels)), None)
            name = service["metadata"]["name"] if service else dep["metadata"]["name"]
            found.append((kind, f"{namespace}/{name}", dep, service))
        return found

    # -- reading ----------------------------------------------------------------------------

    def collect(self, namespace: str) -> int:
        """Pull what every sink in `namespace` holds beyond its cursor; returns how many."""
        added = 0
        for kind, sink, dep, service in self.sinks(namespace):
            if kind == "sink" and service is not None:
                added += self._pull_sink(namespace, sink, service)
            elif kind == "event-display":
                added += self._pull_logs(namespace, sink, dep)
        return added

    def _pull_sink(self, namespace: str, sink: str, service: dict[str, Any]) -> int:
        ports = service.get("spec", {}).get("ports") or [{"port": 80}]
        segment = routing.port_segment(service, int(ports[0].get("port", 80)))
        base = f"/api/v1/namespaces/{namespace}/services/{segment}/proxy/events"
        added = 0
        for _ in range(MAX_PAGES):
            origin = journal_reader.cursor_origin(self.path, sink)
            position = journal_reader.cursor_position(self.path, sink, origin) if origin else 0
            code, page = self.api.attempt("GET", base, [("after", str(position)),
                                                        ("limit", str(PAGE))])
            if code in NOT_YET:
                return added  # no ready endpoint yet
            if code >= 300:
                raise self.api.translate(code, page, "GET", base)
            instance = page.get("instance", "")
            if instance != origin:
                # a new sink instance numbers from 1 again
                journal_collected.forget_cursor(self.path, sink, instance)
                continue
            records = page.get("events", [])
            batch = []
            for record in records:
                try:
                    event = event_http.from_http(record["headers"],
                                                 base64.b64decode(record["body"]))
                except (EventError, KeyError, ValueError) as exc:
                    log.warning("sink %s event %s is not a CloudEvent: %s", sink,
                                record.get("seq"), exc)
                    continue
                batch.append((event, float(record.get("time") or time.time())))
            added += journal_collected.store_collected(self.path, sink, instance, position,
                                                       position + len(records), batch)
            if len(records) < PAGE:
                return added
        return added

    def _container(self, dep: dict[str, Any]) -> str:
        containers = dep.get("spec", {}).get("template", {}).get("spec", {}).get(
            "containers") or [{}]
        return str(next((c.get("name", "") for c in containers
                         if _is_display(c.get("image", ""))), containers[0].get("name", "")))

    def _pull_logs(self, namespace: str, sink: str, dep: dict[str, Any]) -> int:
        selector = dep.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        query = [("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(selector.items())))]
        pods = self.api.request("GET", routing.path("Pod", namespace), query=query
                                ).get("items", [])
        container = self._container(dep)
        added = 0
        for pod in pods:
            uid = pod["metadata"].get("uid") or pod["metadata"]["name"]
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            restarts = next((int(s.get("restartCount", 0)) for s in statuses
                             if s.get("name") == container), 0)
            if restarts and journal_reader.cursor_position(
                    self.path, sink, f"{uid}/{container}/{restarts - 1}"):
                added += self._read(namespace, pod, container, sink,
                                    f"{uid}/{container}/{restarts - 1}", previous=True)
            added += self._read(namespace, pod, container, sink,
                                f"{uid}/{container}/{restarts}")
        return added

    def _read(self, namespace: str, pod: dict[str, Any], container: str, sink: str,
              origin: str, *, previous: bool = False) -> int:
        name = pod["metadata"]["name"]
        last = journal_reader.cursor_position(self.path, sink, origin)
        query = [("container", container), ("timestamps", "true")]
        if last:
            query.append(("sinceTime", _since(last)))
        if previous:
            query.append(("previous", "true"))
        where = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
        code, text = self.api.attempt("GET", where, query, text=True)
        if code in NOT_YET:
            return 0  # ContainerCreating, or gone: not yet
        if code >= 300:
            raise self.api.translate(code, text, "GET", where)
        stamped = []
        for line in str(text).splitlines(keepends=True):
            stamp, _, rest = line.partition(" ")
            try:
                nanos = _nanos(stamp)
            except ValueError:
                continue
            if nanos > last:
                stamped.append((nanos, rest))
        parsed = parse("".join(rest for _, rest in stamped))
        if not parsed.consumed:
            return 0
        end = stamped[parsed.consumed - 1][0]
        fresh = [(e, _rfc3339(e.attributes.get("knativearrivaltime")) or
                  _rfc3339(e.attributes.get("time")) or time.time())
                 for e in parsed.blocks if e is not None]
        return journal_collected.store_collected(self.path, sink, origin, last, end, fresh)
