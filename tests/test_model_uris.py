"""Model URIs as the user meant them: relative to the notebook, and RFC 8089 file URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from seldon_jupyter import model_uris, resources
from seldon_jupyter.errors import ManifestError
from seldon_jupyter.naming import PYTHON_PATH_ANNOTATION


def test_a_relative_path_is_the_callers_not_the_supervisors(tmp_path):
    assert model_uris.resolve("models/iris", tmp_path) == str(tmp_path / "models" / "iris")
    assert model_uris.resolve("./m", tmp_path) == str(tmp_path / "m")
    assert model_uris.resolve("../m", tmp_path / "nb") == str(tmp_path / "m")
    assert model_uris.resolve("/abs/m", tmp_path) == "/abs/m"


@pytest.mark.parametrize("uri", ["gs://seldon-models/v1.19.0/sklearn/iris",
                                 "s3://bucket/model", "https://example.org/m.joblib",
                                 "pvc://claim/model", "file:///abs/m", "file:/abs/m",
                                 "file://localhost/abs/m"])
def test_remote_schemes_and_local_file_uris_are_kept(uri, tmp_path):
    assert model_uris.resolve(uri, tmp_path) == uri


def test_file_uris_follow_rfc_8089(tmp_path):
    assert model_uris.local_path("file:///srv/m%20x") == Path("/srv/m x")
    assert model_uris.local_path("file://localhost/srv/m") == Path("/srv/m")
    assert model_uris.local_path("gs://b/m") is None
    with pytest.raises(ManifestError, match="names a file on host 'fileserver'") as info:
        model_uris.local_path("file://fileserver/srv/m")
    assert "file:///path" in str(info.value)
    with pytest.raises(ManifestError, match="RFC 8089"):
        model_uris.local_path("file:relative/m")


def test_a_manifest_is_resolved_for_the_local_backend_and_only_checked_for_a_cluster(tmp_path):
    sdep = resources.seldon_deployment("iris", model_uri="models/iris")
    sdep["spec"]["predictors"][0]["graph"]["children"] = [
        {"name": "next", "implementation": "SKLEARN_SERVER", "modelUri": "child",
         "children": []}]
    local = model_uris.resolve_manifest(sdep, tmp_path, here=True)
    graph = local["spec"]["predictors"][0]["graph"]
    assert graph["modelUri"] == str(tmp_path / "models" / "iris")
    assert graph["children"][0]["modelUri"] == str(tmp_path / "child")
    assert sdep["spec"]["predictors"][0]["graph"]["modelUri"] == "models/iris"  # a copy
    cluster = model_uris.resolve_manifest(sdep, tmp_path, here=False)
    assert cluster["spec"]["predictors"][0]["graph"]["modelUri"] == "models/iris"
    bad = resources.seldon_deployment("x", model_uri="file://nas/models/x")
    with pytest.raises(ManifestError) as info:
        model_uris.resolve_manifest(bad, tmp_path, here=False)
    assert info.value.field == "spec.predictors[0].graph.modelUri"


def test_a_python_model_directory_is_the_callers(tmp_path):
    sdep = resources.python_deployment("py", model_class="MyModel", path="models")
    local = model_uris.resolve_manifest(sdep, tmp_path, here=True)
    assert local["metadata"]["annotations"][PYTHON_PATH_ANNOTATION] == str(tmp_path / "models")
