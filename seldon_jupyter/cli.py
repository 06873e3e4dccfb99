"""The `seldon-jupyter` command: manage the local cluster and drive a Session from a shell.

`local up|down|status` starts, stops and shows the embedded cluster; `apply`, `get`,
`delete`, `send` and `responses` are the Session methods for scripts and CI; `doctor`
checks what the walkthrough needs (exit 1 when a check fails); `rbac` prints the
rights a cluster admin grants; `journal prune` keeps the journal bounded. Errors are
printed as one readable message (exit code 1), never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from seldon_jupyter import doctor, resources, settings
from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.session import Session


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing)"
    return pd.DataFrame(rows).to_string(index=False)


def _resources(session: Session, kind: str | None) -> str:
    return _table([{"KIND": r.kind, "NAMESPACE": r.namespace, "NAME": r.name,
                    "STATE": r.state, "ADDRESS": r.address or "", "REASON": r.reason[:60]}
                   for r in session.status(kind, all_namespaces=True)])


def cmd_local(args: argparse.Namespace) -> int:
    session = settings.from_arguments(args).changed(backend="local").session(start=False)
    if args.action == "up":
        described = session.start()
        print(f"local cluster running: control {described['host']}, broker "
              f"{described['broker_url']} (home {described['home']})")
    elif args.action == "down":
        print("stopped" if session.stop() else "no local cluster was running")
    else:
        described = session.describe()
        if not described["running"]:
            print(f"no local cluster running (home {described['home']})")
            return 3
        print(f"running: pid {described['pid']}, broker {described['broker_url']}, journal "
              f"{described['home']}/journal.sqlite")
        print(_resources(session, None))
    return 0


def _session(args: argparse.Namespace) -> Session:
    return settings.from_arguments(args).session()


def cmd_apply(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.filename == "-" else Path(args.filename).read_text()
    for res in _session(args).apply(text, wait=args.wait, timeout=args.timeout):
        print(f"{res.kind.lower()}/{res.name} applied ({res.state})")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    print(_resources(_session(args), args.kind))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    _session(args).delete(args.kind, args.name)
    print(f"{args.kind}/{args.name} deleted")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.data)
    except ValueError as exc:
        print(f"error: --data is not JSON: {exc}", file=sys.stderr)
        return 2
    result = _session(args).send(data, type=args.type, source=args.source,
                                 specversion=args.specversion, structured=args.structured)
    print(f"sent {result.id}: HTTP {result.status}")
    return 0


def cmd_responses(args: argparse.Namespace) -> int:
    frame = _session(args).responses(type=args.type, wait=args.wait, count=args.count)
    columns = [c for c in frame.columns if c not in ("attributes", "data")]
    print(frame[columns].tail(args.limit).to_string(index=False) if len(frame) else "(none)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Exit 0 when nothing failed (warnings allowed), 1 when a check failed."""
    session = settings.from_arguments(args).session(start=False)
    diagnosis = session.doctor()
    if args.json:
        print(json.dumps({"backend": diagnosis.backend, "namespace": diagnosis.namespace,
                          "ok": diagnosis.ok, "checks": doctor.as_rows(diagnosis)}, indent=2))
    else:
        print(diagnosis)
    return 0 if diagnosis.ok else 1


def cmd_rbac(args: argparse.Namespace) -> int:
    """The YAML a cluster admin applies: the kit's Roles and bindings for --user, and the
    addressable ClusterRole (`seldon-jupyter rbac --user me | kubectl apply -f -`)."""
    from seldon_jupyter.backends.kubernetes import rbac

    namespace = args.namespace or "default"
    print(resources.to_yaml([*rbac.grants(namespace, args.user),
                             resources.addressable_clusterrole()]), end="")
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    session = settings.from_arguments(args).session(start=False)
    print(session.prune(args.older_than, args.max_size, compact=args.compact))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seldon-jupyter", description=__doc__.split("\n")[0])
    settings.add_arguments(p)
    sub = p.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="start, stop or show the local cluster")
    local.add_argument("action", choices=["up", "down", "status"])
    local.set_defaults(func=cmd_local)
    kept = sub.add_parser("journal", help="keep the journal bounded")
    kept.add_argument("action", choices=["prune"])
    kept.add_argument("--older-than", help="drop what is older, e.g. 7d, 12h (default: "
                      "the retention setting, 30d)")
    kept.add_argument("--max-size", help="then drop the oldest until the rows fit, e.g. "
                      "500MB (default: the retention setting, 4GiB)")
    kept.add_argument("--compact", action="store_true",
                      help="give the freed space back to the disk (rewrites the file)")
    kept.set_defaults(func=cmd_journal)
    apply = sub.add_parser("apply", help="apply manifests from a YAML file (- for stdin)")
    apply.add_argument("-f", "--filename", required=True)
    apply.add_argument("--wait", action="store_true")
    apply.set_defaults(func=cmd_apply)
    get = sub.add_parser("get", help="list resources with their state")
    get.add_argument("kind", nargs="?")
    get.set_defaults(func=cmd_get)
    delete = sub.add_parser("delete", help="delete a resource")
    delete.add_argument("kind")
    delete.add_argument("name")
    delete.set_defaults(func=cmd_delete)
    send = sub.add_parser("send", help="send one CloudEvent to the broker")
    send.add_argument("--type", required=True)
    send.add_argument("--source", default="seldon-jupyter.cli")
    send.add_argument("--data", default='{"data": {"ndarray": [[1, 2, 3, 4]]}}')
    send.add_argument("--specversion", default="1.0", choices=["1.0", "0.3"])
    send.add_argument("--structured", action="store_true")
    send.set_defaults(func=cmd_send)
    responses = sub.add_parser("responses", help="print collected response events")
    responses.add_argument("--type")
    responses.add_argument("--wait", type=float)
    responses.add_argument("--count", type=int)
    responses.add_argument("--limit", type=int, default=20)
    responses.set_defaults(func=cmd_responses)
    diagnose = sub.add_parser("doctor", help="check what the walkthrough needs (CRDs, RBAC, "
                              "broker, sinks, mesh, PodSecurity) with the fix for each")
    diagnose.add_argument("--json", action="store_true", help="the checks as JSON")
    diagnose.set_defaults(func=cmd_doctor)
    grants = sub.add_parser("rbac", help="print the Roles, RoleBindings and addressable "
                            "ClusterRole a cluster admin applies for a user of the kit")
    grants.add_argument("--user", required=True, help="the user to bind (kubectl auth whoami)")
    grants.set_defaults(func=cmd_rbac)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except SeldonJupyterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
