"""The debugging magics: %seldon_trace, %seldon_why, %seldon_failures, %seldon_dead_letters,
%seldon_doctor.

They use the Session of the main %seldon_* magics (same backend, namespace and broker), so
`%seldon_backend` switches them too; each returns the object Session returns (a Trace, an
Explanation, a Diagnosis or a DataFrame), which renders itself in the notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from seldon_jupyter import magic_args

if TYPE_CHECKING:
    from seldon_jupyter.magics import SeldonMagics


@magics_class
class SeldonDebugMagics(Magics):
    def __init__(self, shell: Any, core: SeldonMagics) -> None:
        super().__init__(shell=shell)
        self.core = core

    def _result(self, args: Any, value: Any) -> Any:
        return self.core._result(args, value)  # -o / -q exactly as the main magics

    @line_magic
    @magic_arguments()
    @argument("event", nargs="?", default="last", help="event id, or 'last' (the default)")
    @magic_args.quiet
    @magic_args.out
    def seldon_trace(self, line: str) -> Any:
        """Why an event went where it went: Triggers' verdicts, attempts, replies."""
        args = parse_argstring(self.seldon_trace, line)
        return self._result(args, self.core.session.trace(args.event))

    @line_magic
    @magic_arguments()
    @argument("--type", required=True, help="the event's type")
    @argument("--source", help="the event's source")
    @argument("--ext", action="append", help="an extension attribute key=value (repeatable)")
    @argument("--broker", help="the broker (default: the magics' broker)")
    @magic_args.quiet
    @magic_args.out
    def seldon_why(self, line: str) -> Any:
        """Which Triggers would take an event like this, and why the others would not."""
        args = parse_argstring(self.seldon_why, line)
        found = self.core.session.explain(type=args.type, source=args.source,
                                          broker=args.broker,
                                          extensions=magic_args.pairs(args.ext, "--ext"))
        return self._result(args, found)

    @line_magic
    @magic_arguments()
    @magic_args.quiet
    @magic_args.out
    def seldon_failures(self, line: str) -> Any:
        """Events nothing took, dropped events, failed and dead-lettered deliveries."""
        return self._result(parse_argstring(self.seldon_failures, line),
                            self.core.session.failures())

    @line_magic
    @magic_arguments()
    @magic_args.quiet
    @magic_args.out
    def seldon_dead_letters(self, line: str) -> Any:
        """The dead-lettered events with their knativeerror* attributes decoded."""
        return self._result(parse_argstring(self.seldon_dead_letters, line),
                            self.core.session.dead_letters())

    @line_magic
    @magic_arguments()
    @argument("-n", "--namespace", help="the namespace to check (default: the magics')")
    @magic_args.quiet
    @magic_args.out
    def seldon_doctor(self, line: str) -> Any:
        """What the walkthrough needs here (on a cluster: CRDs, RBAC, addressable
        ClusterRole, broker ingress, sinks, mesh, PodSecurity): ok / warn / fail, with
        the fix for each."""
        args = parse_argstring(self.seldon_doctor, line)
        return self._result(args, self.core.session.doctor(args.namespace))
