from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris

from seldon_jupyter.backends.local import models
from seldon_jupyter.errors import ModelError


def test_the_stand_in_fast_path_answers_exactly_what_scikit_learn_answers():
    model = models._iris_stand_in()
    X = load_iris().data
    rng = np.random.default_rng(7)
    for rows in (X, X[:1], rng.normal(5, 3, size=(64, 4)), np.tile(X[:1], (3, 1)).astype(int)):
        assert np.allclose(models.ovr_logistic_proba(model)(rows), model.predict_proba(rows),
                           rtol=0, atol=1e-12)


def test_the_iris_server_still_refuses_what_seldon_refuses():
    loaded = models.load_sklearn({"modelUri": "gs://seldon-models/v1.19.0/sklearn/iris",
                                  "name": "classifier"})
    answer = loaded.predict(np.array([[5.1, 3.5, 1.4, 0.2]]), [])
    assert answer.shape == (1, 3) and abs(answer.sum() - 1) < 1e-12
    with pytest.raises(models.BadInput):
        loaded.predict(np.array([[1.0, 2.0]]), [])
    with pytest.raises(models.BadInput):
        loaded.predict(np.array([[np.nan, 1, 1, 1]]), [])
    with pytest.raises(ModelError):
        models.load_sklearn({"modelUri": "gs://seldon-models/sklearn/iris",
                             "parameters": [{"name": "method", "value": "fit",
                                             "type": "STRING"}]})


def test_a_users_model_is_called_through_scikit_learn(tmp_path):
    import joblib
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    joblib.dump(tree, tmp_path / "model.joblib")
    loaded = models.load_sklearn({"modelUri": f"file://{tmp_path}"})
    assert np.array_equal(loaded.predict(X[:10], []), tree.predict_proba(X[:10]))
