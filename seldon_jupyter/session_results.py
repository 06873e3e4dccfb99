"""The reading half of `Session`: responses, events and deliveries as DataFrames, the
sidebar's feed, and pruning; all from the journal, after collecting what a cluster's
sinks hold.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from seldon_jupyter import journal_reader, journal_responses, journal_retention
from seldon_jupyter.backends.base import Backend
from seldon_jupyter.errors import SeldonJupyterError

FEED_LIMIT = 200
POLL = 0.05


class Results:
    """Mixed into `Session`, which sets `backend` and `namespace`."""

    backend: Backend
    namespace: str

    def responses(self, *, type: str | None = None, source: str | None = None,  # noqa: A002
                  since: Any = None, sink: str | None = None, wait: float | None = None,
                  count: int | None = None, explode: bool = False,
                  all_namespaces: bool = False) -> pd.DataFrame:
        """Response events collected in this namespace as a DataFrame.

        `wait` seconds for at least `count` of them (1 if not given) before reading.
        """
        path = self.backend.journal_path()
        namespace = None if all_namespaces else self.namespace
        self.backend.collect(namespace, force=True)
        if wait:
            deadline = time.monotonic() + wait
            need = count or 1
            while (journal_reader.count_responses(path, type=type, since=since, sink=sink,
                                                  namespace=namespace) < need
                   and time.monotonic() < deadline):
                time.sleep(POLL)
                self.backend.collect(namespace)
        return journal_responses.responses(path, type=type, source=source, since=since,
                                        sink=sink, namespace=namespace, explode=explode)

    def events(self, **filters: Any) -> pd.DataFrame:
        """Everything the brokers of this namespace took in (and dropped), from the journal."""
        filters.setdefault("namespace", self.namespace)
        return journal_reader.events(self.backend.journal_path(), **filters)

    def deliveries(self, **filters: Any) -> pd.DataFrame:
        """Per trigger delivery outcomes in this namespace: delivered, dead-lettered,
        failed, pending."""
        filters.setdefault("namespace", self.namespace)
        return journal_reader.deliveries(self.backend.journal_path(), **filters)

    def prune(self, older_than: float | str | None = None, max_size: int | str | None = None,
              *, compact: bool = False) -> journal_retention.Pruned:
        """Drop journaled events and responses older than `older_than` (seconds or '7d'),
        then the oldest until the journal's rows fit `max_size` (bytes or '500MB'); with
        neither, the retention defaults the local broker keeps. Events still owed to a
        subscriber stay. `compact` also shrinks the file (it is rewritten)."""
        age, size = journal_retention.parse_age(older_than), journal_retention.parse_size(
            max_size)
        if age is None and size is None:
            age, size = journal_retention.from_env()
        return journal_retention.prune_file(self.backend.journal_path(), max_age=age,
                                            max_bytes=size, compact=compact)

    def heads(self) -> tuple[int, int]:
        """The journal's newest (event, response) positions after collecting: a stream
        compares them to know whether `feed` has anything new, without reading it."""
        self._collect_quietly()
        return journal_reader.heads(self.backend.journal_path())

    def _collect_quietly(self) -> None:
        try:
            self.backend.collect(self.namespace)
        except SeldonJupyterError:
            pass  # unreachable now: the feed shows what the journal has; status() says why

    def feed(self, after_event: int = 0, after_response: int = 0, *,
             limit: int = FEED_LIMIT) -> dict[str, Any]:
        """The newest events and responses past two cursors (what the sidebar streams):
        `{"items": [...], "after_event": n, "after_response": m}`, oldest first."""
        self._collect_quietly()
        return journal_reader.recent(self.backend.journal_path(), after_event=after_event,
                                     after_response=after_response, limit=limit,
                                     namespace=self.namespace)
