"""Fixtures of the protocol suite: a recording subscriber and Triggers that feed it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from seldon_jupyter import resources
from tests.protocol.recorder import Answer, Recorder


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def to_recorder(session: Any, recorder: Recorder, name: str = "rec", *,
                filter: dict[str, str] | None = None,  # noqa: A002
                delivery: dict[str, Any] | None = None) -> None:
    """A Trigger on the session's broker whose subscriber is the recorder (by uri)."""
    session.apply(resources.trigger(name, namespace=session.namespace, uri=recorder.url,
                                    filter=filter, delivery=delivery), wait=True, timeout=60)


def settled(session: Any, state: str, count: int = 1, timeout: float = 30.0) -> Any:
    """The deliveries in `state` once there are `count` of them (a DataFrame)."""
    from tests.helpers import wait_for

    return wait_for(lambda: [f] if len(f := session.deliveries(state=state)) >= count
                    else None, timeout=timeout)[0]


def binary(**attrs: str) -> dict[str, str]:
    """ce-* headers of a minimal valid binary-mode event, with overrides."""
    base = {"id": "e1", "source": "proto", "type": "proto.test", "specversion": "1.0"}
    return {f"ce-{k}": v for k, v in {**base, **attrs}.items()}


__all__ = ["Answer", "binary", "settled", "to_recorder"]
