"""The Backend protocol and the small values that cross it.

Backends take manifests as plain dicts and return frozen dataclasses; no client-library
object crosses this seam, and errors arrive already translated into the package's tree.
`summarize` reads a stored object's status the way the controllers write it, so both
backends report state with one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from seldon_jupyter.events import Event


@dataclass(frozen=True)
class Resource:
    """One object and a summary of its status, whatever its kind."""

    kind: str
    namespace: str
    name: str
    api_version: str
    ready: bool
    state: str
    reason: str
    address: str | None
    status: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    manifest: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        return self.state == "Failed"


@dataclass(frozen=True)
class SendTarget:
    """Where and how to POST events for one broker, with the TLS identity to present.

    `verify` is the TLS check (or a CA bundle path), `cert` a client certificate and key
    file, `server_hostname` the name to verify the server's certificate against (a
    kubeconfig's tls-server-name), `proxy` an HTTP(S) proxy URL, and `auth` a callable
    that returns fresh auth headers for each request (tokens that expire are refreshed).
    """

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    verify: bool | str = True
    cert: tuple[str, str] | None = None
    server_hostname: str | None = None
    proxy: str | None = None
    auth: Callable[[], dict[str, str]] | None = field(default=None, compare=False)

    def request_headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {**self.headers, **(self.auth() if self.auth else {}), **extra}


def _ready_condition(status: dict[str, Any]) -> tuple[bool, str, str]:
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Ready", "Available"):
            ok = cond.get("status") == "True"
            reason = ": ".join(p for p in (cond.get("reason"), cond.get("message")) if p)
            return ok, "Ready" if ok else ("NotReady" if cond.get("status") == "False"
                                           else "Unknown"), reason
    return False, "Unknown", "no Ready condition reported yet"


def summarize(obj: dict[str, Any]) -> Resource:
    """Read a status the way the controllers write it (Seldon state, Knative conditions)."""
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    kind = obj["kind"]
    if kind == "SeldonDeployment":
        state = status.get("state") or "Creating"
        ready, reason = state == "Available", status.get("description") or ""
        address = (status.get("address") or {}).get("url")
    elif kind in ("Service", "ConfigMap", "ClusterRole"):
        ready, state, reason = True, "Ready", ""
        address = (status.get("address") or {}).get("url")
    else:
        ready, state, reason = _ready_condition(status)
        address = status.get("subscriberUri") if kind == "Trigger" else (
            status.get("address") or {}).get("url")
        if kind == "Deployment":
            state = "Available" if ready else "Progressing"
    return Resource(kind=kind, namespace=meta.get("namespace", "default"), name=meta["name"],
                    api_version=obj.get("apiVersion", ""), ready=ready, state=state,
                    reason=reason, address=address, status=status,
                    manifest={k: v for k, v in obj.items() if k != "status"})


@dataclass(frozen=True)
class Check:
    """One line of a diagnosis: what was checked, ok / warn / fail, what was seen, and the
    fix (a command or a call) when it is not ok."""

    area: str
    check: str
    state: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.state not in ("ok", "warn", "fail"):
            raise ValueError(f"a check is ok, warn or fail, not {self.state!r}")


class Backend(Protocol):
    """What `Session` needs from a place that runs SeldonDeployments and brokers.

    Namespaces, the same on every backend: `list(namespace)` returns the objects of that
    namespace, `list(None)` those of every namespace the backend can see (on a cluster,
    the cluster-wide list path, which needs cluster-wide list rights). `collect(namespace)`
    pulls what the sinks of that namespace received into the journal, `collect(None)` what
    every namespace's sinks received; `force=True` skips any rate limit. `describe()` says
    where the backend runs without starting anything: at least `home` (where its journal
    lives), `host` (where its API is) and `running` (whether it answers now). `start()`
    brings the backend up where the kit runs it (the local cluster) and returns
    `describe()`; `stop()` stops what `start()` started (False when nothing was running).
    """

    name: str
    default_namespace: str

    def apply(self, manifests: list[dict[str, Any]]) -> list[Resource]: ...

    def get(self, kind: str, namespace: str, name: str) -> Resource: ...

    def list(self, namespace: str | None = None) -> list[Resource]: ...

    def delete(self, kind: str, namespace: str, name: str) -> None: ...

    def record_sent(self, namespace: str, broker: str, sent: Sequence[Event],
                    at: float) -> None:
        """Note events the kit sent, where the broker does not journal them itself."""
        ...

    def wait_for_change(self, waiting: Sequence[Resource], timeout: float) -> None:
        """Block until one of `waiting` may have changed, or `timeout` seconds (a watch on
        a cluster, a short pause where reads are cheap)."""
        ...

    def send_target(self, namespace: str, broker: str) -> SendTarget: ...

    def journal_path(self) -> Path: ...

    def collect(self, namespace: str | None = None, *, force: bool = False) -> int: ...

    def describe(self) -> dict[str, Any]: ...

    def start(self) -> dict[str, Any]: ...

    def stop(self) -> bool: ...

    def doctor(self, namespace: str, found: Sequence[Resource]) -> Sequence[Check]:
        """What this backend can say about its own health and the namespace's (its
        installation, rights, sinks), each as ok / warn / fail with the fix; `found` is
        what `list(namespace)` returned (empty when it failed)."""
        ...

    def close(self) -> None: ...
