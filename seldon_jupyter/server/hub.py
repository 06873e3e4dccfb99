"""One poller per (backend, namespace) shared by every open sidebar stream.

Each stream used to poll the journal twice a second and the topology every two seconds on
its own, so 50 idle sidebars cost a CPU core. Now a `Watch` polls what is cheap to compare
(the topology as JSON, the journal's newest positions) once for all of them, and a stream
reads its own page of the feed only when those positions moved past what it has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)
POLL = 0.5  # seconds between two looks at the journal's newest positions
TOPOLOGY_EVERY = 4  # polls between two topology reads
Where = tuple[str, str]  # (backend, namespace) as the sidebar's settings give them


class Source(Protocol):
    def topology(self, backend: str = "", namespace: str = "") -> dict[str, Any]: ...

    def heads(self, backend: str = "", namespace: str = "") -> tuple[int, int] | None: ...


class Watch:
    """What every stream of one (backend, namespace) is shown; `version` moves on change."""

    def __init__(self, where: Where) -> None:
        self.where = where
        self.version = 0
        self.topology = ""
        self.heads: tuple[int, int] | None = None
        self.streams = 0
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    async def wait(self, seen: int, timeout: float) -> None:
        """Until `version` differs from `seen`, at most `timeout` seconds."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version != seen), timeout)

    async def run(self, source: Source, poll: float) -> None:
        tick = 0
        while self.streams > 0:
            try:
                changed = await self._look(source, tick % TOPOLOGY_EVERY == 0)
            except Exception:  # noqa: BLE001 - the streams keep their keep-alives; look again
                log.exception("the sidebar's poller for %s failed", self.where)
                changed = False
            if changed:
                async with self._changed:
                    self.version += 1
                    self._changed.notify_all()
            tick += 1
            await asyncio.sleep(poll)

    async def _look(self, source: Source, topology: bool) -> bool:
        changed = False
        if topology:
            shown = json.dumps(await asyncio.to_thread(source.topology, *self.where))
            changed, self.topology = shown != self.topology, shown
        heads = await asyncio.to_thread(source.heads, *self.where)
        if heads != self.heads:
            self.heads, changed = heads, True
        return changed


class Hub:
    """The watches of one Jupyter server, started by the first stream, stopped after the
    last one leaves."""

    def __init__(self, source: Source, poll: float = POLL) -> None:
        self.source = source
        self.poll = poll
        self.watches: dict[Where, Watch] = {}

    def join(self, where: Where) -> Watch:
        watch = self.watches.setdefault(where, Watch(where))
        watch.streams += 1
        if watch.task is None or watch.task.done():
            watch.task = asyncio.create_task(watch.run(self.source, self.poll))
        return watch

    def leave(self, watch: Watch) -> None:
        watch.streams -= 1  # its poller ends at its next tick once nobody watches
