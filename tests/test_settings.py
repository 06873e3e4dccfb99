"""One settings object: traitlets (magics, server extension) and CLI flags share it."""

from __future__ import annotations

import argparse
from dataclasses import fields

from seldon_jupyter import settings
from seldon_jupyter.magics import SeldonMagics
from seldon_jupyter.server.state import SeldonJupyter
from seldon_jupyter.settings import DEFAULT_TIMEOUT, Settings


def test_every_surface_has_every_setting_with_the_same_default():
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    from_flags = settings.from_arguments(parser.parse_args([]))
    assert from_flags == Settings()
    for surface in (SeldonMagics(), SeldonJupyter()):
        assert surface.settings() == Settings()
    assert Settings().timeout == DEFAULT_TIMEOUT


def test_flags_and_traits_set_the_same_fields():
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    args = parser.parse_args(["--backend", "kubernetes", "-n", "team", "--timeout", "5",
                              "--context", "kind-kind"])
    chosen = settings.from_arguments(args)
    assert (chosen.backend, chosen.namespace, chosen.timeout, chosen.context) == (
        "kubernetes", "team", 5.0, "kind-kind")
    server = SeldonJupyter(backend="kubernetes", namespace="team", timeout=5.0,
                           context="kind-kind")
    assert server.settings() == chosen
    assert {f.name for f in fields(Settings)} <= set(server.trait_names())


def test_backend_options_follow_the_backend():
    assert Settings().backend_options(start=False) == {"home": None, "start": False}
    assert Settings(backend="kubernetes", context="c").backend_options() == {
        "home": None, "context": "c", "kubeconfig": None}
    assert Settings().changed(namespace="x", broker=None).namespace == "x"
