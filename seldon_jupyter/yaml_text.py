"""YAML manifests read safely: the safe loader, with alias use, nesting and size bounded,
and only the JSON types a Kubernetes object can hold.

A 462-byte "billion laughs" document is a few nested aliases that expand to gigabytes once
anything walks it; YAML's own types (dates, `!!set`, `!!binary`) are not JSON and fail deep
inside later; a deeply nested document overflows the stack. Each becomes a ManifestError
here, in milliseconds, naming where in the document it is.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from seldon_jupyter.errors import ManifestError

MAX_ALIASES = 100  # Kubernetes YAML rarely uses any; a bomb needs many
MAX_NODES = 1_000_000  # values after alias expansion, over all documents
MAX_DEPTH = 100


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts aliases as it composes (before anything is expanded)."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ManifestError(f"the YAML uses more than {MAX_ALIASES} aliases (line "
                                    f"{mark.line + 1}): refused as a possible alias bomb",
                                    hint="write the values out instead of *aliases")
        return super().compose_node(parent, index)


def load_all(text: str) -> list[Any]:
    """The documents of `text` (empty ones dropped), checked as described above."""
    loader = _Loader(text)
    try:
        docs = []
        while loader.check_data():  # type: ignore[no-untyped-call]
            doc = loader.get_data()
            if doc is not None:
                docs.append(doc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"YAML does not parse{where}: {problem}",
                            hint="check indentation and quoting") from exc
    except RecursionError as exc:
        raise ManifestError("the YAML is nested too deeply to read",
                            hint=f"a manifest needs far fewer than {MAX_DEPTH} levels") from exc
    finally:
        loader.dispose()
    budget = [MAX_NODES]
    for i, doc in enumerate(docs):
        _check(doc, f"document {i + 1}", 0, budget)
    return docs


def _check(value: Any, where: str, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ManifestError(f"the YAML expands to more than {MAX_NODES:,} values (at {where})",
                            hint="an alias bomb, or far more than a manifest needs")
    if depth > MAX_DEPTH:
        raise ManifestError(f"the YAML is nested more than {MAX_DEPTH} levels deep (at "
                            f"{where})", hint="a manifest needs far fewer levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool):  # a date key is none of these
                raise ManifestError(f"{where} has a key of YAML type {type(key).__name__} "
                                    f"({key!r})", hint="quote it: keys are strings")
            _check(item, f"{where}.{key}", depth + 1, budget)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]", depth + 1, budget)
    elif isinstance(value, datetime.date):
        raise ManifestError(f"{where} is a YAML date ({value.isoformat()}), not a string",
                            hint=f'quote it: "{value.isoformat()}"')
    elif isinstance(value, set | bytes | bytearray):
        kind = "!!set" if isinstance(value, set) else "!!binary"
        raise ManifestError(f"{where} is a YAML {kind}, which a Kubernetes object cannot hold",
                            hint="use a list, or base64 text in a string")
    elif not (value is None or isinstance(value, str | int | float | bool)):
        raise ManifestError(f"{where} is a YAML {type(value).__name__}, not a JSON value")
