"""Seldon Core's names for a deployment's events, in one place.

The walkthrough's Trigger filters on `seldon.<sdep>.<ns>.request`; Seldon's executor
answers with type `seldon.<sdep>.<ns>.response` and source `seldon.<sdep>`
(executor/api/rest/middlewares.go; the docs' `seldon.<sdep>.<ns>` source is not what the
code sends). Everything that builds or recognises these events uses these functions.
"""

from __future__ import annotations


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


# Where a local Python model's module directory is named on a SeldonDeployment.
PYTHON_PATH_ANNOTATION = "seldon-jupyter.io/python-path"
