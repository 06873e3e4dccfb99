"""IPython magics: `%load_ext seldon_jupyter`, then %seldon_* line and cell magics.

Thin by design: each magic parses its arguments with IPython's magic_arguments (bad usage
is a UsageError; `%seldon_send?` shows the help), calls `Session`, and returns a rich
result object. Options are traitlets (`%config SeldonMagics.namespace = "demo"`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import observe

from seldon_jupyter import magic_args, resources, tables
from seldon_jupyter.backends.base import Resource
from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.events import Event
from seldon_jupyter.naming import request_type
from seldon_jupyter.results import BackendInfo, ResourceTable, SendReport, YamlText
from seldon_jupyter.session import Session
from seldon_jupyter.settings import SettingsTraits


@magics_class
class SeldonMagics(Magics, SettingsTraits):
    """The %seldon_* magics; their settings are `seldon_jupyter.settings`' traitlets."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._session: Session | None = None
        self._last_send: float | None = None

    @observe("backend", "namespace", "broker", "home", "context", "kubeconfig", "timeout")
    def _reset(self, _change: Any) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.settings().session()
        return self._session

    @property
    def _user_ns(self) -> dict[str, Any]:
        if self.shell is None:
            raise UsageError("these magics need an IPython shell")
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _result(self, args: Any, value: Any) -> Any:
        if getattr(args, "out", None):
            self._user_ns[args.out] = value
        return None if getattr(args, "quiet", False) else value

    def _apply(self, manifests: Any, args: Any) -> Any:
        if getattr(args, "dry_run", False):
            return self._result(args, YamlText(resources.to_yaml(resources.load(manifests))))
        wait = not getattr(args, "no_wait", False)
        handle = display(YamlText("applying..."), display_id=True) if wait else None
        started = time.monotonic()

        def progress(current: list[Resource]) -> None:
            if handle is not None:
                handle.update(ResourceTable(current, title=f"waiting for ready "
                                            f"({time.monotonic() - started:.1f}s)"))

        applied = self.session.apply(manifests, wait=wait, progress=progress,
                                     timeout=getattr(args, "timeout", None) or self.timeout)
        if handle is not None:
            handle.update(YamlText(f"ready after {time.monotonic() - started:.1f}s"))
        return self._result(args, ResourceTable(applied, title="applied"))

    @line_magic
    @magic_arguments()
    @argument("name", nargs="?", choices=["local", "kubernetes"], help="backend to use")
    @argument("-n", "--namespace", help="namespace to work in")
    @argument("--broker", help="broker to send to")
    @argument("--home", help="local backend workdir")
    @argument("--context", help="kubeconfig context (kubernetes)")
    @argument("--kubeconfig", help="kubeconfig file (kubernetes)")
    def seldon_backend(self, line: str) -> BackendInfo:
        """Choose (or show) the backend, namespace and broker used by the other magics."""
        args = parse_argstring(self.seldon_backend, line)
        for trait in ("name", "namespace", "broker", "home", "context", "kubeconfig"):
            value = getattr(args, trait)
            if value is not None:
                setattr(self, "backend" if trait == "name" else trait, value)
        session = self.session
        details = {k: str(v) for k, v in session.describe().items()
                   if k not in ("backend", "namespace", "broker")}
        try:
            url = session.broker_url()
        except SeldonJupyterError as exc:  # a cluster's Broker may not exist yet
            url = f"(not yet: {exc.message})"
        return BackendInfo(self.backend, session.namespace, self.broker, url, details)

    @cell_magic
    @magic_arguments()
    @argument("--no-wait", action="store_true", help="do not wait for Ready")
    @argument("--timeout", type=float, help="seconds to wait for Ready")
    @argument("--dry-run", action="store_true", help="show the manifests, apply nothing")
    @magic_args.quiet
    @magic_args.out
    def seldon_apply(self, line: str, cell: str) -> Any:
        """Apply the YAML manifests in the cell (one or more documents) and wait for Ready."""
        return self._apply(cell, parse_argstring(self.seldon_apply, line))

    @line_magic
    @magic_arguments()
    @argument("name", help="SeldonDeployment name")
    @argument("--model-uri", default=resources.IRIS_URI, help="model location")
    @argument("--implementation", default="SKLEARN_SERVER", help="prepackaged server")
    @argument("--predictor", default="default", help="predictor name")
    @argument("--param", action="append", help="graph parameter key=value (repeatable)")
    @argument("--no-wait", action="store_true", help="do not wait for Available")
    @argument("--timeout", type=float, help="seconds to wait")
    @argument("--dry-run", action="store_true", help="print the YAML instead of applying")
    @magic_args.quiet
    @magic_args.out
    def seldon_deploy(self, line: str) -> Any:
        """Deploy a SeldonDeployment serving one model (the built-in iris by default)."""
        args = parse_argstring(self.seldon_deploy, line)
        manifest = resources.seldon_deployment(
            args.name, model_uri=args.model_uri, implementation=args.implementation,
            namespace=self.session.namespace, predictor=args.predictor,
            parameters=magic_args.pairs(args.param, "--param") or None)
        return self._apply(manifest, args)

    @line_magic
    @magic_arguments()
    @argument("name", help="Trigger name")
    @argument("--type", help="filter: event type (exact)")
    @argument("--source", help="filter: event source (exact)")
    @argument("--filter", action="append", help="more filter attributes key=value")
    @argument("--to", metavar="SDEP", help="subscriber: a SeldonDeployment")
    @argument("--service", help="subscriber: a Service (e.g. event-display)")
    @argument("--uri", help="subscriber URI, or a path resolved against --to/--service")
    @argument("--retry", type=int, help="delivery retries")
    @argument("--backoff-delay", help="ISO-8601 delay, e.g. PT0.2S")
    @argument("--dead-letter", metavar="URI", help="dead-letter sink URI")
    @argument("--dry-run", action="store_true", help="print the YAML instead of applying")
    @magic_args.quiet
    @magic_args.out
    def seldon_trigger(self, line: str) -> Any:
        """Create a Trigger on the broker whose subscriber is a deployment, service or URI."""
        args = parse_argstring(self.seldon_trigger, line)
        if not (args.to or args.service or args.uri):
            raise UsageError("give a subscriber: --to SDEP, --service NAME or --uri URL")
        flt = {**magic_args.pairs(args.filter, "--filter"),
               **{k: v for k, v in (("type", args.type), ("source", args.source)) if v}}
        delivery = {k: v for k, v in (("retry", args.retry), ("backoffDelay", args.backoff_delay))
                    if v is not None}
        if args.dead_letter:
            delivery["deadLetterSink"] = {"uri": args.dead_letter}
        manifest = resources.trigger(args.name, broker=self.broker,
                                     namespace=self.session.namespace, filter=flt or None,
                                     deployment=args.to, service=args.service, uri=args.uri,
                                     delivery=delivery or None)
        return self._apply(manifest, args)

    @line_magic
    @magic_arguments()
    @argument("name", nargs="?", help="collector (Service) name")
    @argument("--kind", choices=sorted(resources.COLLECTORS), default="event-display",
              help="Knative's event-display (read from its log on a cluster) or the kit's sink")
    @argument("--type", help="collect events of this type")
    @argument("--source", help="collect events from this source")
    @argument("--dry-run", action="store_true", help="print the YAML instead of applying")
    @magic_args.quiet
    @magic_args.out
    def seldon_collect(self, line: str) -> Any:
        """Create a collector (event-display or the kit's sink) and a Trigger feeding it."""
        args = parse_argstring(self.seldon_collect, line)
        flt = {k: v for k, v in (("type", args.type), ("source", args.source)) if v}
        return self._apply(resources.collector_manifests(
            args.name, kind=args.kind, namespace=self.session.namespace, broker=self.broker,
            filter=flt), args)

    def _routing_warning(self, event_type: str, source: str | None) -> str:
        """Say so when no Trigger on the broker takes this type (before the user waits)."""
        return self.session.explain(type=event_type, source=source or self.session.source
                                    ).dropped_warning()

    def _payload(self, name: str | None, cell: str | None) -> Any:
        if cell is not None and cell.strip():
            try:
                return json.loads(cell)
            except ValueError as exc:
                raise UsageError(f"the cell body is not JSON: {exc}") from None
        if name is None:
            raise UsageError("give a payload: a variable name, or JSON in the cell body "
                             "(%%seldon_send)")
        if name not in self._user_ns:
            raise UsageError(f"no variable named {name!r} in this notebook; give a variable, "
                             "a JSON literal (%seldon_send [[1, 2, 3, 4]] --to iris) or JSON "
                             "in the cell body")
        return self._user_ns[name]

    @line_cell_magic
    @magic_arguments()
    @argument("payload", nargs="?", help="variable: dict, list of rows, array or DataFrame")
    @argument("--type", help="event type")
    @argument("--to", metavar="SDEP", help="shortcut for --type seldon.<SDEP>.<ns>.request")
    @argument("--source", help="event source")
    @argument("--id", help="event id (single events only)")
    @argument("--specversion", default="1.0", choices=["1.0", "0.3"])
    @argument("--structured", action="store_true", help="structured instead of binary mode")
    @argument("--batch", action="store_true", help="all rows in one event, not one per row")
    @argument("--kind", default="ndarray", choices=["ndarray", "tensor", "columns"],
              help="payload form for arrays: Seldon's ndarray or tensor; with --protocol v2 "
              "one tensor (the default) or one input per column")
    @argument("--protocol", default="seldon", choices=list(tables.PROTOCOLS),
              help="seldon (SeldonMessage) or v2 (Open Inference Protocol, MLServer/KServe)")
    @argument("--count", type=int, default=1, help="send the payload this many times")
    @argument("--rate", type=float, help="events per second")
    @argument("--wait", type=float, help="seconds to wait for the responses")
    @magic_args.quiet
    @magic_args.out
    def seldon_send(self, line: str, cell: str | None = None) -> Any:
        """Send CloudEvents to the broker: one per row of an array/DataFrame, or one payload."""
        literal, line = magic_args.leading_literal(line)
        args = parse_argstring(self.seldon_send, line)
        if literal is not magic_args.NONE:
            if args.payload is not None:
                raise UsageError(f"give one payload: a JSON literal or a variable, not both "
                                 f"({args.payload!r})")
            if cell is not None and cell.strip():
                raise UsageError("give the payload once: on the line or in the cell body")
        namespace = self.session.namespace
        event_type = args.type or (request_type(args.to, namespace) if args.to else None)
        if not event_type:
            raise UsageError("give --type TYPE or --to SDEP")
        if args.count < 1:
            raise UsageError("--count must be at least 1")
        payload = literal if literal is not magic_args.NONE else self._payload(args.payload, cell)
        if args.kind == "columns" and args.protocol != "v2":
            raise UsageError("--kind columns is a V2 form: add --protocol v2")
        attrs = {"source": args.source, "specversion": args.specversion,
                 "protocol": args.protocol}
        started = self._last_send = time.time()
        if tables.is_rows(payload) and not args.batch:
            outcome: Any = self.session.send_many(payload, type=event_type, rate=args.rate,
                                                  kind=args.kind, structured=args.structured,
                                                  **attrs)
        elif args.count > 1:
            outcome = self.session.send_many([payload] * args.count, type=event_type,
                                             rate=args.rate, structured=args.structured, **attrs)
        else:
            outcome = self.session.send(payload, type=event_type, id=args.id, kind=args.kind,
                                        structured=args.structured, **attrs) if not isinstance(
                payload, Event) else self.session.send(payload, structured=args.structured)
        warning = self._routing_warning(event_type, args.source)
        report = SendReport.of(outcome, event_type, warning=warning)
        if args.wait:
            frame = self.session.responses(since=started, wait=args.wait, count=report.sent)
            # replies point at the request; events collected as they were carry its id
            mine = frame["request_id"].isin(report.ids) | frame["id"].isin(report.ids)
            if frame["request_id"].isna().all() and not mine.any():
                mine[:] = True  # a cluster does not say which request a reply answers
            frame = frame[mine].reset_index(drop=True)
            report = SendReport.of(outcome, event_type, responses=frame, warning=warning)
        return self._result(args, report)

    @line_magic
    @magic_arguments()
    @argument("--type", help="only responses of this type")
    @argument("--source", help="only responses from this source")
    @argument("--since", help="'last' (the last %%seldon_send), 30s, 5min, epoch seconds or "
              "a timestamp")
    @argument("--wait", type=float, help="seconds to wait for --count responses")
    @argument("--count", type=int, help="how many responses to wait for")
    @argument("--explode", action="store_true", help="one row per prediction row")
    @argument("--all-namespaces", action="store_true", help="not only this namespace")
    @magic_args.quiet
    @magic_args.out
    def seldon_responses(self, line: str) -> Any:
        """The collected response events as a pandas DataFrame."""
        args = parse_argstring(self.seldon_responses, line)
        since = magic_args.since(args.since, self._last_send)
        frame = self.session.responses(type=args.type, source=args.source, since=since,
                                       wait=args.wait, count=args.count, explode=args.explode,
                                       all_namespaces=args.all_namespaces)
        if frame.empty and not args.quiet:
            display(YamlText(self._why_no_responses(args, since)))
        return self._result(args, frame)

    def _why_no_responses(self, args: Any, since: Any) -> str:
        """An empty result says so, and where to look (the frame itself stays a frame)."""
        where = "every namespace" if args.all_namespaces else \
            f"namespace {self.session.namespace}"
        what = f" of type {args.type}" if args.type else ""
        when = f" since {args.since}" if since is not None else ""
        waited = f" after waiting {args.wait:g}s" if args.wait else ""
        return (f"no responses yet{what} in {where}{when}{waited}. A response arrives when a "
                "Trigger takes the request to a model and another takes its reply to a "
                "collector: %seldon_why --type <request type> says which Triggers would "
                "take it, %seldon_failures what was sent and not delivered.")

    @line_magic
    @magic_arguments()
    @argument("kind", nargs="?", help="only this kind (sdep, trigger, broker, svc...)")
    @magic_args.quiet
    @magic_args.out
    def seldon_status(self, line: str) -> Any:
        """Brokers, triggers, deployments and sinks with their state and addresses."""
        args = parse_argstring(self.seldon_status, line)
        found = self.session.status(args.kind)
        title = f"namespace {self.session.namespace}"
        return self._result(args, ResourceTable(found, title=title))

    @line_magic
    @magic_arguments()
    @argument("kind", nargs="?", help="sdep, trigger, broker, service or deployment")
    @argument("names", nargs="*", help="resource name(s)")
    @argument("--all-managed", action="store_true",
              help="delete everything the kit created in this namespace (YAML you applied "
                   "yourself stays)")
    @magic_args.quiet
    def seldon_delete(self, line: str) -> Any:
        """Delete resources by kind and name, or --all-managed."""
        args = parse_argstring(self.seldon_delete, line)
        if args.all_managed:
            if args.kind or args.names:
                raise UsageError("--all-managed takes no kind or names")
            gone = self.session.cleanup()
            return self._result(args, ResourceTable(gone, title=f"deleted {len(gone)} "
                                                    "resource(s) the kit created"))
        if not args.kind or not args.names:
            raise UsageError("a kind and name(s) are required, e.g. %seldon_delete trigger "
                             "to-iris, or --all-managed")
        for name in args.names:
            self.session.delete(args.kind, name)
        return self._result(args, YamlText(f"deleted {args.kind} {', '.join(args.names)}"))


def load_ipython_extension(ipython: Any) -> None:
    from seldon_jupyter.magics_debug import SeldonDebugMagics

    magics = SeldonMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    ipython.register_magics(SeldonDebugMagics(ipython, magics))
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)


def unload_ipython_extension(ipython: Any) -> None:
    for magics in [m for m in ipython.configurables if isinstance(m, SeldonMagics)]:
        magics._reset(None)
        ipython.configurables.remove(magics)
