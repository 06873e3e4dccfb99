"""One settings object for every Session the kit builds, whatever builds it.

The magics (`%config SeldonMagics.<name>`), the server extension (`c.SeldonJupyter.<name>`)
and the CLI flags all read the same fields with the same defaults from here, and all turn
them into a Session with `Settings.session()`. An empty namespace means "the backend's
default" (the kubeconfig context's namespace on a cluster, `default` locally).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from traitlets import Float, Unicode
from traitlets.config import Configurable

if TYPE_CHECKING:
    from seldon_jupyter.session import Session

DEFAULT_TIMEOUT = 120.0  # seconds to wait for resources to become Ready
BACKENDS = ("local", "kubernetes")

HELP = {
    "backend": "backend: local (embedded, the default) or kubernetes",
    "namespace": "namespace to work in (default: the backend's own default)",
    "broker": "broker events are sent to",
    "home": "workdir for the journal and the local cluster (default $SELDON_JUPYTER_HOME)",
    "context": "kubeconfig context (kubernetes backend)",
    "kubeconfig": "kubeconfig file (kubernetes; default $KUBECONFIG or ~/.kube/config)",
    "timeout": "seconds to wait for resources to become ready",
}


@dataclass(frozen=True)
class Settings:
    backend: str = "local"
    namespace: str = ""
    broker: str = "default"
    home: str = ""
    context: str = ""
    kubeconfig: str = ""
    timeout: float = DEFAULT_TIMEOUT

    def backend_options(self, *, start: bool = True) -> dict[str, Any]:
        """The options the chosen backend's factory takes."""
        options: dict[str, Any] = {"home": self.home or None}
        if self.backend == "local":
            options["start"] = start
        else:
            options.update(context=self.context or None, kubeconfig=self.kubeconfig or None)
        return options

    def session(self, *, start: bool = True) -> Session:
        """A Session with these settings; `start=False` never starts a local cluster."""
        from seldon_jupyter.session import Session

        return Session(self.backend, namespace=self.namespace or None, broker=self.broker,
                       timeout=self.timeout, **self.backend_options(start=start))

    def changed(self, **values: Any) -> Settings:
        """A copy with the given fields replaced (None leaves a field as it is)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


DEFAULTS = Settings()


class SettingsTraits(Configurable):
    """The settings as traitlets, for `%config` and Jupyter server config."""

    backend = Unicode(DEFAULTS.backend, help=HELP["backend"]).tag(config=True)
    namespace = Unicode(DEFAULTS.namespace, help=HELP["namespace"]).tag(config=True)
    broker = Unicode(DEFAULTS.broker, help=HELP["broker"]).tag(config=True)
    home = Unicode(DEFAULTS.home, help=HELP["home"]).tag(config=True)
    context = Unicode(DEFAULTS.context, help=HELP["context"]).tag(config=True)
    kubeconfig = Unicode(DEFAULTS.kubeconfig, help=HELP["kubeconfig"]).tag(config=True)
    timeout = Float(DEFAULTS.timeout, help=HELP["timeout"]).tag(config=True)

    def settings(self) -> Settings:
        return Settings(**{f.name: getattr(self, f.name) for f in fields(Settings)})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The settings as command-line flags (`--backend`, `-n/--namespace`, ...)."""
    for f in fields(Settings):
        flags = ["-n", "--namespace"] if f.name == "namespace" else [f"--{f.name}"]
        kind = float if f.name == "timeout" else str
        choices = BACKENDS if f.name == "backend" else None
        parser.add_argument(*flags, type=kind, default=f.default, choices=choices,
                            help=HELP[f.name])


def from_arguments(args: argparse.Namespace) -> Settings:
    return Settings(**{f.name: getattr(args, f.name) for f in fields(Settings)})
