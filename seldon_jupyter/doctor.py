"""`Session.doctor()`: what stands between this namespace and a working walkthrough.

A backend reports its own checks (a cluster: CRDs, RBAC, broker ingress, sinks, mesh and
PodSecurity; the local backend: its processes); this module adds the checks both share,
read from the namespace's resources (a Broker to send to, Triggers that take events,
objects that are not Ready and why), and shows the lot as one table: a DataFrame for
code, HTML in a notebook, plain text on a terminal. Nothing here changes the cluster.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import requests

from seldon_jupyter import sender
from seldon_jupyter.backends.base import Backend, Check, Resource, SendTarget
from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.states import COLOURS

TONE = {"ok": "ok", "warn": "warn", "fail": "error"}
STATES = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Diagnosis:
    """The checks of one `doctor()` run, in the order they were made."""

    backend: str
    namespace: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return not self.failed

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.state == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.state == "warn"]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(c) for c in self.checks],
                            columns=["area", "check", "state", "detail", "fix"])

    def summary(self) -> str:
        counts = {s: sum(c.state == s for c in self.checks) for s in STATES}
        return (f"doctor ({self.backend}, namespace {self.namespace}): {counts['ok']} ok, "
                f"{counts['warn']} warn, {counts['fail']} fail")

    def __str__(self) -> str:
        lines = [self.summary()]
        for c in self.checks:
            lines.append(f"  [{c.state.upper():4}] {c.area}: {c.check}: {c.detail}")
            if c.fix:
                lines.extend(f"         fix: {line}" if i == 0 else f"              {line}"
                             for i, line in enumerate(c.fix.splitlines()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        rows = []
        for c in self.checks:
            colour = COLOURS[TONE[c.state]]
            fix = (f"<pre style='margin:0;white-space:pre-wrap'>{html.escape(c.fix)}</pre>"
                   if c.fix else "")
            rows.append(f"<tr><td style='color:{colour};font-weight:bold'>{c.state}</td>"
                        f"<td>{html.escape(c.area)}</td><td>{html.escape(c.check)}</td>"
                        f"<td style='text-align:left'>{html.escape(c.detail)}</td>"
                        f"<td style='text-align:left'>{fix}</td></tr>")
        return (f"<div class='sj-doctor'><b>{html.escape(self.summary())}</b>"
                "<table><thead><tr><th>state</th><th>area</th><th>check</th><th>detail</th>"
                f"<th>fix</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def resource_checks(found: Sequence[Resource], namespace: str) -> list[Check]:
    """What the namespace's objects say: a Broker to send to, Triggers on it, and every
    object that is not Ready with the reason its controller gave."""
    mine = [r for r in found if r.namespace == namespace]
    brokers = {r.name: r for r in mine if r.kind == "Broker"}
    triggers = [r for r in mine if r.kind == "Trigger"]
    checks: list[Check] = []
    if not brokers:
        checks.append(Check("resources", "Broker", "warn", f"no Broker in {namespace}: "
                            "events have nowhere to go", "session.ensure_broker()"))
    for name in sorted(brokers):
        taking = [t for t in triggers if _broker_of(t) == name]
        if not taking:
            checks.append(Check("resources", f"Broker {name}", "warn", "no Trigger on this "
                                "Broker: every event sent to it is accepted and dropped",
                                "session.collector() or apply a Trigger with "
                                f"spec.broker: {name}"))
    for t in triggers:
        if _broker_of(t) not in brokers:
            checks.append(Check("resources", f"Trigger {t.name}", "fail",
                                f"its Broker {_broker_of(t)!r} does not exist in {namespace}",
                                f"session.ensure_broker({_broker_of(t)!r})"))
    for r in mine:
        if r.ready:
            continue
        if r.kind == "Trigger" and _broker_of(r) not in brokers:
            continue  # said above
        state = "fail" if r.failed else "warn"
        checks.append(Check("resources", f"{r.kind} {r.name}", state,
                            f"{r.state}" + (f": {r.reason}" if r.reason else ""),
                            _fix_for(r)))
    if mine and not checks:
        checks.append(Check("resources", "objects", "ok",
                            f"{len(mine)} object(s) in {namespace}, all Ready"))
    return checks


def _broker_of(trigger: Resource) -> str:
    return str((trigger.manifest.get("spec") or {}).get("broker") or "default")


def _fix_for(r: Resource) -> str:
    if "SubscriberResolved" in r.reason or "Subscriber's URI" in r.reason:
        if "forbidden" in r.reason and "seldondeployments" in r.reason:
            return ("a cluster admin applies the addressable ClusterRole once: "
                    "session.apply(resources.addressable_clusterrole())")
        return "create the subscriber first, or fix spec.subscriber"
    return f"session.wait_ready(({r.kind!r}, {r.name!r})) shows how it goes"


def examine(backend: Backend, namespace: str) -> Diagnosis:
    """The backend's checks, then what the namespace's resources say: the order to fix
    them in (a cluster that is not there first, a Trigger that is not Ready last)."""
    if not backend.describe().get("running"):
        # nothing to read (and listing would start a local cluster): the backend says why
        return Diagnosis(backend.name, namespace, tuple(backend.doctor(namespace, [])))
    try:
        found = backend.list(namespace)
        listed: Check | None = None
    except SeldonJupyterError as exc:
        found = []
        listed = Check("resources", "list", "fail", f"cannot list {namespace}: {exc}",
                       getattr(exc, "hint", "") or "")
    checks = list(backend.doctor(namespace, found))
    if listed is not None:
        if not any(c.state == "fail" for c in checks):
            checks.append(listed)
    else:
        checks.extend(resource_checks(found, namespace))
    return Diagnosis(backend.name, namespace, tuple(checks))


def as_rows(d: Diagnosis) -> list[dict[str, Any]]:
    """The checks as JSON-able rows (the server extension and the CLI's --json)."""
    return [asdict(c) for c in d.checks]


def ingress_checks(target_of: Callable[[str, str], SendTarget], namespace: str,
                   found: Sequence[Resource]) -> list[Check]:
    """Each Ready Broker: its class, and whether its ingress answers where the kit sends
    (an empty POST, which a broker ingress refuses with 400 without routing anything)."""
    checks: list[Check] = []
    http = requests.Session()
    try:
        for broker in (r for r in found if r.kind == "Broker" and r.namespace == namespace):
            cls = ((broker.manifest.get("metadata") or {}).get("annotations") or {}).get(
                "eventing.knative.dev/broker.class", "the cluster default class")
            what = f"Broker {broker.name}"
            if not broker.ready:
                continue  # the resource checks say why
            try:
                target = target_of(namespace, broker.name)
                code, text = sender.probe(http, target)
            except SeldonJupyterError as exc:
                checks.append(Check("broker", what, "fail", f"{cls}: its ingress cannot be "
                                    f"reached: {exc}", getattr(exc, "hint", "") or ""))
                continue
            checks.append(_ingress_verdict(what, cls, broker.address or "", code, text))
    finally:
        http.close()
    return checks


def _ingress_verdict(what: str, cls: str, address: str, code: int, text: str) -> Check:
    if code in (400, 405, 415):
        return Check("broker", what, "ok", f"{cls}, ingress {address} answers (an empty "
                     f"POST got {code}, nothing was routed)")
    if code == 503:
        return Check("broker", what, "fail", f"{cls}: the ingress {address} has no ready "
                     "endpoints (503)", "kubectl -n knative-eventing get pods: the broker "
                     "ingress must be Running")
    if code in (401, 403):
        return Check("broker", what, "fail", f"{cls}: sending through the API server is "
                     f"refused ({code}): {_message(text)}",
                     "grant create on services/proxy for the ingress in knative-eventing "
                     "(see the rbac lines), or pass broker_url=")
    return Check("broker", what, "warn", f"{cls}: the ingress {address} answered {code} "
                 f"to an empty POST: {_message(text)}")


def _message(text: str) -> str:
    """A Kubernetes Status's message, or the start of a plain-text answer."""
    return sender.status_message(text) or text.strip()[:300]
