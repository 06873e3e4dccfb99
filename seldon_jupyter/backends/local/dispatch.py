"""Delivering one event to one trigger's subscriber, the way Knative's dispatcher does.

Binary-mode POST to the subscriber; 2xx ends the delivery, and a CloudEvent in the
answer becomes a reply for the broker; network errors, 5xx, 404, 408, 409 and 429 are
retried with linear or exponential backoff; what still fails goes to the dead-letter
sink with the knativeerror* extensions, or is recorded as failed.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

import aiohttp

from seldon_jupyter import events
from seldon_jupyter.errors import EventError
from seldon_jupyter.events import Event
from seldon_jupyter.filters import Filter
from seldon_jupyter.journal import DEAD_LETTERED, DELIVERED, FAILED

RETRYABLE = frozenset({404, 408, 409, 429})
ERROR_DATA_LIMIT = 1024


# No per-attempt timeout unless `delivery.timeout` says so (Knative has no default); the
# local broker still gives up on an attempt after this long, so nothing hangs forever.
ATTEMPT_CAP = 300.0


@dataclass(frozen=True)
class Delivery:
    """A resolved `spec.delivery`: durations in seconds, dead-letter sink as a URL.

    As `pkg/kncloudevents/retries.go` computes it: `retry` retries after the first attempt;
    the wait before retry n (n = 1, 2, ...) is `delay * 2^(n-1)` (exponential) or
    `delay * (n-1)` (linear, so the first retry is immediate), and no wait at all unless
    both `policy` and `delay` are set.
    """

    retry: int = 0
    policy: str | None = None
    delay: float | None = None
    timeout: float | None = None
    dead_letter: str | None = None

    def backoff(self, retry_number: int) -> float:
        if self.policy is None or self.delay is None:
            return 0.0
        if self.policy == "linear":
            return self.delay * (retry_number - 1)
        return self.delay * float(2 ** (retry_number - 1))

    @property
    def attempt_timeout(self) -> float:
        return self.timeout if self.timeout is not None else ATTEMPT_CAP

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Delivery:
        return cls(**raw) if raw else DEFAULT_DELIVERY


# Every Broker gets these (config/core/configmaps/default-broker.yaml, config-br-defaults):
# retry 10, exponential, PT0.2S; a Trigger without `delivery` inherits its Broker's.
DEFAULT_DELIVERY = Delivery(retry=10, policy="exponential", delay=0.2)


@dataclass(frozen=True)
class Route:
    """A Ready trigger as the broker sees it."""

    key: str
    namespace: str
    broker: str
    subscriber: str | None
    delivery: Delivery
    filter: Filter
    sink: str | None = None  # "ns/name" when the subscriber is this broker's own collector


@dataclass(frozen=True)
class Outcome:
    state: str
    attempts: int
    code: int | None
    error: str | None
    reply: Event | None = None


def retryable(code: int | None) -> bool:
    return code is None or code >= 500 or code in RETRYABLE


class Dispatcher:
    """POSTs events with retries; one instance per broker process."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def _post(self, url: str, event: Event, namespace: str, timeout: float
                    ) -> tuple[int | None, bytes, dict[str, str], str | None]:
        headers, body = events.to_binary(event)
        headers["Prefer"] = "reply"
        headers["Kn-Namespace"] = namespace
        try:
            async with self.http.post(url, data=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                data = await resp.read()
                return resp.status, data, dict(resp.headers), None
        except TimeoutError:
            return None, b"", {}, f"no answer from {url} within {timeout:g}s"
        except aiohttp.ClientError as exc:
            return None, b"", {}, f"{type(exc).__name__}: {exc}"

    async def _attempts(self, url: str, event: Event, namespace: str, delivery: Delivery
                        ) -> tuple[int, int | None, bytes, dict[str, str], str | None]:
        attempts, code, body, error = 0, None, b"", None
        headers: dict[str, str] = {}
        for number in range(delivery.retry + 1):
            if number:
                await asyncio.sleep(delivery.backoff(number))
            attempts += 1
            code, body, headers, error = await self._post(url, event, namespace,
                                                          delivery.attempt_timeout)
            if code is not None and 200 <= code < 300:
                return attempts, code, body, headers, None
            if error is None:
                error = f"{url} answered HTTP {code}"
            if not retryable(code):
                break
        return attempts, code, body, headers, error

    async def deliver(self, event: Event, route: Route) -> Outcome:
        assert route.subscriber is not None
        attempts, code, body, headers, error = await self._attempts(
            route.subscriber, event, route.namespace, route.delivery)
        if error is None:
            mode = events.content_mode(headers)
            if mode in ("binary", "structured"):
                try:
                    return Outcome(DELIVERED, attempts, code, None,
                                   events.from_http(headers, body))
                except EventError as exc:
                    code, error = 502, f"reply is not a valid CloudEvent: {exc.message}"
            elif body:
                code, error = 502, ("subscriber answered with a non-empty body that is not a "
                                    "CloudEvent; the response must be empty or a CloudEvent")
            else:
                return Outcome(DELIVERED, attempts, code, None)
        return await self._dead_letter(event, route, attempts, code, body, error)

    async def _dead_letter(self, event: Event, route: Route, attempts: int, code: int | None,
                           body: bytes, error: str) -> Outcome:
        sink = route.delivery.dead_letter
        if not sink:
            return Outcome(FAILED, attempts, code, error)
        failed = event.with_attributes(
            knativeerrordest=route.subscriber,
            knativeerrorcode=str(code) if code is not None else None,
            knativeerrordata=base64.b64encode(body[:ERROR_DATA_LIMIT]).decode() if body else None,
        )
        _, dl_code, _, _, dl_error = await self._attempts(sink, failed, route.namespace,
                                                          route.delivery)
        if dl_error is None:
            return Outcome(DEAD_LETTERED, attempts, code, error)
        return Outcome(FAILED, attempts, code, f"{error}; dead-letter sink failed: {dl_error}")
