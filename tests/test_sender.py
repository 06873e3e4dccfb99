"""How a send's answer becomes an error: the broker's own answers, and the Kubernetes API
server's Status when the send went through its service proxy and was refused there."""

from __future__ import annotations

import json

import pytest

from seldon_jupyter.backends.base import SendTarget
from seldon_jupyter.errors import NotFoundError, SendError
from seldon_jupyter.sender import check_answer, retry_after

TARGET = SendTarget("https://127.0.0.1:6443/api/v1/namespaces/knative-eventing/services/"
                    "broker-ingress:http/proxy/team/default")


def status(code: int, message: str) -> str:
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "code": code})


def test_2xx_is_taken():
    check_answer(TARGET, 202, "")


def test_expired_credentials_through_the_proxy_say_log_in_again():
    with pytest.raises(SendError) as info:
        check_answer(TARGET, 401, status(401, "Unauthorized: token has expired"))
    assert str(info.value).startswith("the Kubernetes API server refused the send (401): "
                                      "Unauthorized: token has expired")
    assert "log in again" in str(info.value) and "{" not in str(info.value).split("\n")[0]


def test_rbac_refusal_through_the_proxy_names_the_rule():
    message = ('services "broker-ingress:http" is forbidden: User "bob" cannot create '
               'resource "services/proxy"')
    with pytest.raises(SendError, match="refused the send \\(403\\)") as info:
        check_answer(TARGET, 403, status(403, message))
    assert "services/proxy" in str(info.value) and info.value.status == 403


def test_the_brokers_own_answers():
    with pytest.raises(NotFoundError, match="no broker at"):
        check_answer(TARGET, 404, "")
    with pytest.raises(SendError, match="refused the event"):
        check_answer(TARGET, 400, "missing ce-id")
    with pytest.raises(SendError, match="too large"):
        check_answer(TARGET, 413, "")
    with pytest.raises(SendError, match="the broker answered HTTP 401: not json"):
        check_answer(TARGET, 401, "not json")


def test_retry_after_is_capped_and_doubles_without_the_header():
    assert retry_after(429, {"Retry-After": "3"}, 0) == 3.0
    assert retry_after(429, {"Retry-After": "120"}, 0) == 10.0
    assert [retry_after(429, {}, a) for a in range(3)] == [0.5, 1.0, 2.0]
    assert retry_after(503, {"Retry-After": "3"}, 0) is None
    assert retry_after(429, {}, 5) is None  # the last try takes the answer
