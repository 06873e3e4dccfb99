from __future__ import annotations

import pytest

from seldon_jupyter.backends.local.dispatch import DEFAULT_DELIVERY, Delivery, retryable


def test_backoff_policies():
    linear = Delivery(retry=3, policy="linear", delay=0.5)
    assert [linear.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 1.5]
    exponential = Delivery(retry=3, policy="exponential", delay=0.2)
    assert [exponential.backoff(n) for n in (1, 2, 3)] == pytest.approx([0.4, 0.8, 1.6])


def test_knative_default_delivery():
    assert (DEFAULT_DELIVERY.retry, DEFAULT_DELIVERY.policy, DEFAULT_DELIVERY.delay) == (
        10, "exponential", 0.2)


@pytest.mark.parametrize(("code", "expected"), [
    (None, True), (500, True), (503, True), (404, True), (408, True), (409, True), (429, True),
    (400, False), (401, False), (403, False), (413, False),
])
def test_retryable_codes_follow_knative(code, expected):
    assert retryable(code) is expected
