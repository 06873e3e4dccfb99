"""Every open stream of a namespace shares one poller (50 idle sidebars cost a core)."""

from __future__ import annotations

import asyncio

from seldon_jupyter.server.hub import Hub


class Counting:
    """A stand-in for the server's state: counts the reads a poller makes."""

    def __init__(self) -> None:
        self.topologies = self.head_reads = 0
        self.newest = (0, 0)

    def topology(self, backend: str = "", namespace: str = "") -> dict:
        self.topologies += 1
        return {"namespace": namespace, "brokers": []}

    def heads(self, backend: str = "", namespace: str = "") -> tuple[int, int]:
        self.head_reads += 1
        return self.newest


def test_fifty_streams_share_one_poller_and_all_hear_of_a_change():
    asyncio.run(_fifty_streams())


def test_a_failing_read_does_not_end_the_poller():
    asyncio.run(_failing_read())


async def _fifty_streams() -> None:
    source = Counting()
    hub = Hub(source, poll=0.05)
    watches = [hub.join(("local", "ns")) for _ in range(50)]
    assert len({id(w) for w in watches}) == 1 and watches[0].streams == 50
    await asyncio.sleep(0.5)  # about 10 polls
    assert source.head_reads <= 15 and source.topologies <= 5, (source.head_reads,
                                                                 source.topologies)
    seen = watches[0].version
    woke = asyncio.gather(*(w.wait(seen, timeout=5) for w in watches))
    source.newest = (7, 3)  # an event arrives
    await asyncio.wait_for(woke, timeout=2)
    assert watches[0].heads == (7, 3)
    other = hub.join(("local", "elsewhere"))
    assert other is not watches[0]
    for watch in [*watches, other]:
        hub.leave(watch)
    await asyncio.sleep(0.2)
    assert all(w.task.done() for w in (watches[0], other))  # nobody watches: polling stops
    reads = source.head_reads
    await asyncio.sleep(0.2)
    assert source.head_reads == reads


async def _failing_read() -> None:
    source = Counting()
    calls = {"n": 0}

    def flaky(backend: str = "", namespace: str = "") -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("journal busy")
        return (1, 1)

    source.heads = flaky  # type: ignore[method-assign]
    hub = Hub(source, poll=0.02)
    watch = hub.join(("local", "ns"))
    await watch.wait(0, timeout=2)
    assert watch.heads == (1, 1)
    hub.leave(watch)
