"""Model URIs as the user meant them: one home for what a `modelUri` names on this machine.

A relative path in a notebook means "relative to the notebook", not to wherever the local
supervisor happens to run, so it is made absolute against the caller's working directory
before the manifest leaves the kernel. `file:` URIs follow RFC 8089: `file:///path`,
`file:/path` and `file://localhost/path` name a file on this machine; any other host is an
error (the old behaviour dropped the host and served a local file of the same path).
Remote schemes (gs://, s3://, https://, pvc://...) pass through untouched.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from seldon_jupyter.errors import ManifestError
from seldon_jupyter.naming import PYTHON_PATH_ANNOTATION

LOCAL_HOSTS = ("", "localhost")


def local_path(uri: str, field: str = "modelUri") -> Path | None:
    """The file a plain path or `file:` URI names (None for a remote scheme)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if (parts.hostname or "") not in LOCAL_HOSTS:
            raise ManifestError(f"{uri!r} names a file on host {parts.hostname!r}: only this "
                                "machine's files can be served", field=field,
                                hint="use file:///path (or file://localhost/path), or copy "
                                     "the model here")
        if not parts.path.startswith("/"):
            raise ManifestError(f"{uri!r} is not a file URI (RFC 8089 wants an absolute "
                                "path)", field=field, hint="write file:///absolute/path")
        return Path(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # c:/... on Windows is a path, gs:// is not
        return None
    return Path(uri).expanduser()


def resolve(uri: str, cwd: Path, field: str = "modelUri") -> str:
    """`uri` with a relative path made absolute against `cwd` (other forms checked, kept)."""
    path = local_path(uri, field)
    if path is None or urlsplit(uri).scheme == "file" or path.is_absolute():
        return uri
    return str((cwd / path).resolve())


def resolve_manifest(manifest: dict[str, Any], cwd: Path, *, here: bool) -> dict[str, Any]:
    """A copy with every model path checked and, when the models run `here` (the local
    backend), relative ones made absolute against `cwd`."""
    m = copy.deepcopy(manifest)
    base = cwd if here else None
    kind = m.get("kind")
    spec: dict[str, Any] = m["spec"] if isinstance(m.get("spec"), dict) else {}
    if kind == "SeldonDeployment":
        for i, predictor in enumerate(spec.get("predictors") or []):
            graph = predictor.get("graph") if isinstance(predictor, dict) else None
            if isinstance(graph, dict):
                _walk(graph, base, f"spec.predictors[{i}].graph")
        notes = (m.get("metadata") or {}).get("annotations") or {}
        if base is not None and isinstance(notes.get(PYTHON_PATH_ANNOTATION), str):
            notes[PYTHON_PATH_ANNOTATION] = resolve(notes[PYTHON_PATH_ANNOTATION], base,
                                                    f"metadata.annotations."
                                                    f"{PYTHON_PATH_ANNOTATION}")
    elif kind == "InferenceService":
        predictor = spec.get("predictor") or {}
        for name, server in predictor.items():
            if isinstance(server, dict) and isinstance(server.get("storageUri"), str):
                server["storageUri"] = _one(server["storageUri"], base,
                                            f"spec.predictor.{name}.storageUri")
    return m


def _one(uri: str, base: Path | None, field: str) -> str:
    if base is None:
        local_path(uri, field)  # checked only: the cluster resolves its own paths
        return uri
    return resolve(uri, base, field)


def _walk(unit: dict[str, Any], base: Path | None, field: str) -> None:
    """A graph unit and its children: every modelUri checked (and resolved when `base`)."""
    if isinstance(unit.get("modelUri"), str) and unit["modelUri"]:
        unit["modelUri"] = _one(unit["modelUri"], base, f"{field}.modelUri")
    for i, child in enumerate(unit.get("children") or []):
        if isinstance(child, dict):
            _walk(child, base, f"{field}.children[{i}]")
