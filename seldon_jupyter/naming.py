"""Seldon Core's names for a deployment's events, in one place.

The walkthrough's Trigger filters on `seldon.<sdep>.<ns>.request`; Seldon's executor
answers with type `seldon.<sdep>.<ns>.response` and source `seldon.<sdep>`
(executor/api/rest/middlewares.go; the docs' `seldon.<sdep>.<ns>` source is not what the
code sends). With `protocol: v2` MLServer answers instead, with its own type and source.
Everything that builds or recognises these events uses these functions.
"""

from __future__ import annotations

from typing import Any


def request_type(deployment: str, namespace: str = "default") -> str:
    """The event type the walkthrough's Trigger filters on for a deployment."""
    return f"seldon.{deployment}.{namespace}.request"


def response_type(deployment: str, namespace: str = "default") -> str:
    """The type Seldon gives the CloudEvent answer of a deployment."""
    return f"seldon.{deployment}.{namespace}.response"


def response_source(deployment: str) -> str:
    """The source Seldon's executor gives the CloudEvent answer of a deployment."""
    return f"seldon.{deployment}"


def response_attributes(deployment: str, namespace: str = "default") -> dict[str, str]:
    """The context attributes of a Seldon answer (what reply Triggers are matched against)."""
    return {"specversion": "0.3", "id": "-", "type": response_type(deployment, namespace),
            "source": response_source(deployment)}


# MLServer's answers (mlserver/cloudevents.py): the server's name is Seldon's default
V2_RESPONSE_TYPE = "io.seldon.serving.inference.response"
V2_PROTOCOLS = ("v2", "kfserving")


def v2_response_source(namespace: str, server: str = "mlserver") -> str:
    """The source MLServer gives its answers in a pod of `namespace`."""
    return f"io.seldon.serving.deployment.{server}.{namespace}"


def prediction_path(manifest: dict[str, Any]) -> str:
    """The path of a SeldonDeployment's `status.address.url`, by its protocol (the
    operator's utils.GetPredictionPath): the V2 infer endpoint of the first predictor's
    graph, TensorFlow's predict, or Seldon's own."""
    spec = manifest.get("spec") or {}
    protocol = spec.get("protocol")
    graph = (spec.get("predictors") or [{}])[0].get("graph") or {}
    if protocol in V2_PROTOCOLS:
        return f"/v2/models/{graph.get('name')}/infer"
    if protocol == "tensorflow":
        return f"/v1/models/{graph.get('name')}:predict"
    return "/api/v1.0/predictions"


# Where a local Python model's module directory is named on a SeldonDeployment.
PYTHON_PATH_ANNOTATION = "seldon-jupyter.io/python-path"
