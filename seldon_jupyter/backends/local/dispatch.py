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
from seldon_jupyter.events import Event
from seldon_jupyter.filters import Filter
from seldon_jupyter.journal import DEAD_LETTERED, DELIVERED, FAILED

RETRYABLE = frozenset({404, 408, 409, 429})
ERROR_DATA_LIMIT = 1024


@dataclass(frozen=True)
class Delivery:
    """A resolved `spec.delivery`: durations in seconds, dead-letter sink as a URL."""

    retry: int = 10
    policy: str = "exponential"
    delay: float = 0.2
    timeout: float = 60.0
    dead_letter: str | None = None

    def backoff(self, retry_number: int) -> float:
        if self.policy == "linear":
            return self.delay * retry_number
        return self.delay * (2 ** retry_number)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Delivery:
        return cls(**raw) if raw else cls()


# Knative's default for MT brokers (config-br-defaults): retry 10, exponential, PT0.2S.
DEFAULT_DELIVERY = Delivery()


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
        attempts, code, body, headers, error = 0, None, b"", {}, None
        for number in range(delivery.retry + 1):
            if number:
                await asyncio.sleep(delivery.backoff(number))
            attempts += 1
            code, body, headers, error = await self._post(url, event, namespace, delivery.timeout)
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
                except events.EventError as exc:
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
