"""A relative modelUri is the notebook's, not the supervisor's: served from the caller's
working directory on the real local backend; a file URI naming another host is refused."""

from __future__ import annotations

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from seldon_jupyter import resources
from seldon_jupyter.errors import ManifestError


def test_a_relative_model_uri_is_served_from_the_callers_directory(session, ns, tmp_path,
                                                                    monkeypatch):
    X, y = load_iris(return_X_y=True)
    (tmp_path / "models" / "tree").mkdir(parents=True)
    joblib.dump(DecisionTreeClassifier(random_state=0).fit(X, y),
                tmp_path / "models" / "tree" / "model.joblib")
    monkeypatch.chdir(tmp_path)  # the notebook's directory; the supervisor runs elsewhere
    (sdep,) = session.apply(resources.seldon_deployment("tree", namespace=ns,
                                                        model_uri="models/tree"))
    assert sdep.manifest["spec"]["predictors"][0]["graph"]["modelUri"] == str(
        tmp_path / "models" / "tree")
    (ready,) = session.wait_ready(("SeldonDeployment", "tree"), timeout=60)
    assert ready.state == "Available", ready.reason


def test_a_file_uri_on_another_host_is_refused_before_anything_is_applied(session, ns):
    with pytest.raises(ManifestError, match="names a file on host 'nas'"):
        session.apply(resources.seldon_deployment("far", namespace=ns,
                                                  model_uri="file://nas/models/iris"))
    assert not [r for r in session.status("sdep") if r.name == "far"]
