"""Posting CloudEvents to a broker: one at a time (requests) or in bulk (the lean http1
client over plain http, aiohttp for https and proxies).

The broker's answer is translated here: 202 is success, 400/404/405/413 become a
`SendError` or `NotFoundError` that repeats the broker's reason and says what to do.
Bulk sending keeps a bounded number of requests in flight and can hold a target rate.
"""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_module
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from seldon_jupyter import event_http, http1
from seldon_jupyter.backends.base import SendTarget
from seldon_jupyter.errors import NotFoundError, SendError
from seldon_jupyter.events import Event


@dataclass(frozen=True)
class SendResult:
    id: str
    type: str
    status: int
    seq: int | None = None


@dataclass(frozen=True)
class SendSummary:
    sent: int
    failed: int
    elapsed_s: float
    ids: list[str] = field(repr=False)  # accepted events, in the order they were given
    errors: list[str] = field(default_factory=list, repr=False)
    cancelled: int = 0  # events not sent because the send was cancelled

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def encode(event: Event, structured: bool) -> tuple[dict[str, str], bytes]:
    """Headers and body of one send; the Idempotency-Key lets the local broker take a
    retried send once (Knative itself ignores it and passes it to nobody)."""
    headers, body = event_http.to_structured(event) if structured else event_http.to_binary(event)
    return {**headers, "Idempotency-Key": event.id}, body


def check_answer(target: SendTarget, status: int, text: str) -> None:
    if 200 <= status < 300:
        return
    reason = text.strip() or f"HTTP {status}"
    refused = status_message(text)  # the API server's own answer, through its service proxy
    if refused and status in (401, 403):
        raise SendError(f"the Kubernetes API server refused the send ({status}): "
                        f"{refused}", status=status,
                        hint="your credentials were refused or expired: log in again"
                        if status == 401 else "grant create on services/proxy for the "
                        "broker ingress (seldon-jupyter doctor names the rule)")
    if status == 404:
        raise NotFoundError(f"no broker at {target.url}: {reason}",
                            hint="apply a Broker first, e.g. session.apply(resources.broker())")
    if status == 400:
        raise SendError(f"the broker refused the event: {reason}", status=status,
                        hint="check the CloudEvent attributes (id, source, type, specversion)")
    if status == 413:
        raise SendError(f"the event is too large for the broker: {reason}", status=status,
                        hint="send smaller batches of rows per event")
    raise SendError(f"the broker answered HTTP {status}: {reason}", status=status)


def status_of(body: str | None) -> dict[str, Any]:
    """A Kubernetes API server's Status object, or {} when the body is not one (text/plain
    404, a broker's own answer): the one reader for the sender, the doctor and the API."""
    try:
        found = json.loads(body or "")
    except ValueError:
        return {}
    return found if isinstance(found, dict) and found.get("kind") == "Status" else {}


def status_message(text: str) -> str:
    """The message of a Kubernetes Status body, or "" when the body is not one."""
    return str(status_of(text).get("message") or "")


class _ServerNameAdapter(HTTPAdapter):
    """Verifies the server's certificate against a given name (tls-server-name)."""

    def __init__(self, server_hostname: str) -> None:
        self.server_hostname = server_hostname
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.server_hostname
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # through a proxy (a kubeconfig's proxy-url) requests builds another pool manager,
        # which would verify the server against the URL's host instead
        proxy_kwargs["server_hostname"] = self.server_hostname
        return super().proxy_manager_for(proxy, **proxy_kwargs)


def _requests_options(http: requests.Session, target: SendTarget) -> dict[str, Any]:
    if target.server_hostname:
        prefix = "/".join(target.url.split("/", 3)[:3]) + "/"
        mounted = http.adapters.get(prefix)
        if not (isinstance(mounted, _ServerNameAdapter) and
                mounted.server_hostname == target.server_hostname):
            # once per server: a new adapter is a new connection pool (a new TLS handshake)
            http.mount(prefix, _ServerNameAdapter(target.server_hostname))
    options: dict[str, Any] = {"verify": target.verify}
    if target.cert:
        options["cert"] = target.cert
    if target.proxy:
        options["proxies"] = {"http": target.proxy, "https": target.proxy}
    return options


def ssl_context(target: SendTarget) -> bool | ssl_module.SSLContext:
    """aiohttp's TLS settings for `target` (CA, client certificate)."""
    if target.verify is False and not target.cert:
        return False
    ctx = ssl_module.create_default_context(
        cafile=target.verify if isinstance(target.verify, str) else None)
    if target.verify is False:
        ctx.check_hostname, ctx.verify_mode = False, ssl_module.CERT_NONE
    if target.cert:
        ctx.load_cert_chain(*target.cert)
    return ctx


BUSY_TRIES = 6  # 429 answers (API Priority and Fairness, a busy broker) before giving up


def retry_after(status: int, headers: Any, attempt: int) -> float | None:
    """Seconds to wait before trying again after a 429 (the answer's Retry-After, at most
    10 s; without one 0.5 s doubling), or None to take the answer: the one rule for the
    broker sends and the kubernetes backend's API calls."""
    if status != 429 or attempt == BUSY_TRIES - 1:
        return None
    value = str(headers.get("Retry-After") or "")
    return min(float(value), 10.0) if value.isdigit() else 0.5 * 2 ** attempt


def send_one(http: requests.Session, target: SendTarget, event: Event, *,
             structured: bool = False, timeout: float = 30.0) -> SendResult:
    headers, body = encode(event, structured)
    try:
        for attempt in range(BUSY_TRIES):
            resp = http.post(target.url, data=body, headers=target.request_headers(headers),
                             timeout=timeout, **_requests_options(http, target))
            wait = retry_after(resp.status_code, resp.headers, attempt)
            if wait is None:
                break
            time.sleep(wait)
    except requests.RequestException as exc:
        raise SendError(f"could not reach the broker at {target.url}: {exc}",
                        hint="is the backend running? try session.status()") from exc
    check_answer(target, resp.status_code, resp.text)
    seq = resp.headers.get("X-Seldon-Jupyter-Seq")
    return SendResult(event.id, event.type, resp.status_code, int(seq) if seq else None)


def probe(http: requests.Session, target: SendTarget, *, timeout: float = 10.0
          ) -> tuple[int, str]:
    """(status, text) of POSTing an empty body that is no CloudEvent to `target`: a
    broker ingress answers 400 without routing anything, so 400 means "reachable"."""
    try:
        resp = http.post(target.url, data=b"",
                         headers=target.request_headers({"Content-Type": "text/plain"}),
                         timeout=timeout, **_requests_options(http, target))
    except requests.RequestException as exc:
        raise SendError(f"could not reach the broker at {target.url}: {exc}") from exc
    return resp.status_code, resp.text


def lean_enough(target: SendTarget) -> bool:
    """Whether the lean HTTP/1.1 client can send to `target`: plain http, no proxy."""
    return target.proxy is None and http1.target(target.url) is not None


async def send_bulk(target: SendTarget, batch: Sequence[Event], *, structured: bool = False,
                    concurrency: int = 32, rate: float | None = None, timeout: float = 30.0,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: threading.Event | None = None) -> SendSummary:
    """Send every event, at most `concurrency` in flight, at most `rate` per second;
    once `cancel` is set, the events not yet started are not sent (counted `cancelled`)."""
    if concurrency < 1:
        raise SendError("concurrency must be at least 1")
    if rate is not None and rate <= 0:
        raise SendError("rate must be a positive number of events per second")
    start = time.perf_counter()
    errors: list[str] = []
    done = cancelled = 0
    ok = [False] * len(batch)
    lean = http1.Client() if lean_enough(target) else None
    http = None if lean is not None else aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency, ssl=ssl_context(target)),
        timeout=aiohttp.ClientTimeout(total=timeout))

    async def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any, str]:
        if lean is not None:
            answer = await lean.post(target.url, body, target.request_headers(headers),
                                     timeout)
            return answer.status, {"Retry-After": answer.header("Retry-After")}, answer.text
        assert http is not None
        async with http.post(target.url, data=body, headers=target.request_headers(headers),
                             server_hostname=target.server_hostname,
                             proxy=target.proxy) as resp:
            return resp.status, resp.headers, await resp.text()

    async def one(i: int, event: Event) -> None:
        nonlocal done, cancelled
        if rate is not None:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await _sleep_unless(cancel, delay)
        if cancel is not None and cancel.is_set():
            cancelled += 1
            return
        headers, body = encode(event, structured)
        try:
            for attempt in range(BUSY_TRIES):
                status, answered, text = await post(body, headers)
                wait = retry_after(status, answered, attempt)
                if wait is None:
                    check_answer(target, status, text)
                    break
                await asyncio.sleep(wait)
            ok[i] = True
        except (aiohttp.ClientError, http1.HttpError, TimeoutError, SendError,
                NotFoundError) as exc:
            errors.append(f"{event.id}: {exc}")
        done += 1
        if progress is not None:
            progress(done, len(batch))

    # `concurrency` workers take the events in order (paced ones wait for their slot):
    # as many requests in flight as workers, and no task or semaphore per event
    order = iter(range(len(batch)))

    async def worker() -> None:
        for i in order:
            await one(i, batch[i])

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(batch)))))
    finally:
        if lean is not None:
            lean.close()
        if http is not None:
            await http.close()
    ids = [e.id for e, sent in zip(batch, ok, strict=True) if sent]
    return SendSummary(sent=len(ids), failed=len(errors),
                       elapsed_s=time.perf_counter() - start, ids=ids, errors=errors,
                       cancelled=cancelled)


async def _sleep_unless(cancel: threading.Event | None, delay: float) -> None:
    """Sleep `delay` seconds, or less once `cancel` is set (checked every 0.1 s)."""
    end = time.perf_counter() + delay
    while (left := end - time.perf_counter()) > 0:
        if cancel is not None and cancel.is_set():
            return
        await asyncio.sleep(min(left, 0.1))
