"""Delivering one event to one trigger's subscriber, the way Knative's dispatcher does.

knative/eventing `pkg/broker/filter/filter_handler.go` and `pkg/kncloudevents/`: a
binary-mode POST (structured with `delivery.format: json`) with `Prefer: reply`,
`Kn-Namespace` and the pass-through headers the ingress received; a 2xx ends the
delivery, and a CloudEvent in the answer becomes a reply for the broker, while a non-empty
2xx body that is not a CloudEvent is a 502 and is retried like one. Network errors,
timeouts, 5xx, 404, 408, 409 and 429 are retried with the Trigger's backoff; what still
fails goes to the dead-letter sink as it was delivered (arrival time and TTL kept) with
knativeerrordest / knativeerrorcode / knativeerrordata, or is recorded as failed.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from seldon_jupyter import event_http, http1
from seldon_jupyter.backends.local.serve import DEADLINE_HEADER
from seldon_jupyter.errors import EventError
from seldon_jupyter.events import Event
from seldon_jupyter.filters import Filter
from seldon_jupyter.journal import DEAD_LETTERED, DELIVERED, FAILED

RETRYABLE = frozenset({404, 408, 409, 429})
ERROR_DATA_LIMIT = 1024  # base64 characters of knativeerrordata
NOT_A_CLOUDEVENT = 502


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
    format: str | None = None  # "json": structured mode; otherwise binary

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
    tries: tuple[Try, ...] = ()  # every attempt, the dead-letter sink's included


@dataclass(frozen=True)
class Try:
    """One HTTP attempt, as the trace shows it."""

    target: str  # "subscriber" or "dead-letter"
    url: str
    number: int
    started_at: float
    duration_ms: float
    waited_s: float  # the backoff slept before this attempt
    code: int | None
    error: str | None
    answer: bytes  # what the subscriber answered (or the error text), at most SNIPPET bytes


SNIPPET = 768  # bytes: what 1024 base64 characters of knativeerrordata hold


def retryable(code: int | None) -> bool:
    return code is None or code >= 500 or code in RETRYABLE


class Dispatcher:
    """POSTs events with retries; one instance per broker process. Plain http:// goes
    through the lean keep-alive client (`http1`), anything else (https://) through aiohttp."""

    def __init__(self, http: aiohttp.ClientSession, *, token: str = "",
                 owned: Callable[[], set[str]] = set, lean: http1.Client | None = None
                 ) -> None:
        self.http = http
        self.lean = lean
        self.token = token
        self.owned = owned  # host:port of the cluster's own servers: they get the token

    async def _post(self, url: str, event: Event, namespace: str, delivery: Delivery,
                    passed: Mapping[str, str]) -> _Attempt:
        headers, body = (event_http.to_structured(event) if delivery.format == "json"
                         else event_http.to_binary(event))
        headers = {**passed, **headers, "Prefer": "reply", "Kn-Namespace": namespace}
        timeout = delivery.attempt_timeout
        if self.token and urlsplit(url).netloc in self.owned():
            headers["Authorization"] = f"Bearer {self.token}"  # never to anybody else's server
            # when this attempt gives up, so the cluster's model servers do not start work
            # nobody will wait for (Knative sends no such header; this is only for our own)
            headers[DEADLINE_HEADER] = f"{time.time() + timeout:.3f}"
        try:
            status, answer, data = await self._exchange(url, body, headers, timeout)
        except TimeoutError:
            return _Attempt(None, b"", {}, f"dispatch error: no answer from {url} within "
                            f"{timeout:g}s")
        except (aiohttp.ClientError, http1.HttpError) as exc:
            return _Attempt(None, b"", {}, f"dispatch error: {type(exc).__name__}: {exc}")
        if not 200 <= status < 300:
            return _Attempt(status, data, answer, f"{url} answered HTTP {status}")
        if event_http.content_mode(answer) in ("binary", "structured"):
            try:
                return _Attempt(status, data, answer, None, event_http.from_http(answer, data))
            except EventError as exc:
                return _Attempt(NOT_A_CLOUDEVENT, data, answer,
                                f"the reply is not a valid CloudEvent: {exc.message}",
                                converted=True)
        if data:
            return _Attempt(NOT_A_CLOUDEVENT, data, answer,
                            f"{url} answered {status} with a body that is not a CloudEvent "
                            "(a sink must answer an empty body or a CloudEvent)",
                            converted=True)
        return _Attempt(status, b"", answer, None)

    async def _exchange(self, url: str, body: bytes, headers: dict[str, str], timeout: float
                        ) -> tuple[int, dict[str, str], bytes]:
        if self.lean is not None and http1.target(url) is not None:
            answer = await self.lean.post(url, body, headers, timeout)
            return answer.status, answer.headers, answer.body
        async with self.http.post(url, data=body, headers=headers,
                                  timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            return resp.status, dict(resp.headers), await resp.read()

    async def _attempts(self, url: str, event: Event, namespace: str, delivery: Delivery,
                        passed: Mapping[str, str], tries: list[Try], target: str
                        ) -> tuple[int, _Attempt]:
        attempts, last = 0, _Attempt(None, b"", {}, "not attempted")
        for number in range(delivery.retry + 1):
            waited = delivery.backoff(number) if number else 0.0
            if waited:
                await asyncio.sleep(waited)
            attempts += 1
            started, clock = time.time(), time.perf_counter()
            last = await self._post(url, event, namespace, delivery, passed)
            answer = last.body if last.code is not None else (last.error or "").encode()
            tries.append(Try(target, url, attempts, started,
                             (time.perf_counter() - clock) * 1000.0, waited, last.code,
                             last.error, answer[:SNIPPET]))
            if last.error is None or not retryable(last.code):
                break
        return attempts, last

    async def deliver(self, event: Event, route: Route, ttl: int,
                      passed: Mapping[str, str] | None = None) -> Outcome:
        assert route.subscriber is not None
        tries: list[Try] = []
        attempts, last = await self._attempts(route.subscriber, event, route.namespace,
                                              route.delivery, passed or {}, tries, "subscriber")
        if last.error is None:
            return Outcome(DELIVERED, attempts, last.code, None, last.reply, tuple(tries))
        sink = route.delivery.dead_letter
        if not sink:
            return Outcome(FAILED, attempts, last.code, last.error, tries=tuple(tries))
        letter = event.with_attributes(knativebrokerttl=str(ttl))
        if not last.converted:  # Knative's own 502 for a non-CloudEvent reply has none
            data = last.body if last.code is not None else last.error.encode()
            letter = letter.with_attributes(
                knativeerrordest=route.subscriber,
                knativeerrorcode=str(last.code if last.code is not None else 500),
                knativeerrordata=base64.b64encode(data).decode()[:ERROR_DATA_LIMIT] or None)
        _, dead = await self._attempts(sink, letter, route.namespace, route.delivery,
                                       passed or {}, tries, "dead-letter")
        if dead.error is None:
            return Outcome(DEAD_LETTERED, attempts, last.code, last.error, tries=tuple(tries))
        return Outcome(FAILED, attempts, last.code,
                       f"{last.error}; dead-letter sink failed: {dead.error}", tries=tuple(tries))


@dataclass(frozen=True)
class _Attempt:
    code: int | None  # None: no HTTP answer (connection error or timeout)
    body: bytes
    headers: dict[str, str]
    error: str | None  # None: delivered
    reply: Event | None = None
    converted: bool = False  # a 2xx whose body is not a CloudEvent, turned into a 502
