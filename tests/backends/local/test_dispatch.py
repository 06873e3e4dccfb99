from __future__ import annotations

import pytest

from seldon_jupyter.backends.local.dispatch import DEFAULT_DELIVERY, Delivery, retryable


def test_backoff_policies():
    # pkg/kncloudevents/retries.go: Backoff(attemptNum) with attemptNum 0 for the first retry
    linear = Delivery(retry=3, policy="linear", delay=0.5)
    assert [linear.backoff(n) for n in (1, 2, 3)] == [0.0, 0.5, 1.0]
    exponential = Delivery(retry=3, policy="exponential", delay=0.2)
    assert [exponential.backoff(n) for n in (1, 2, 3)] == pytest.approx([0.2, 0.4, 0.8])


def test_no_wait_unless_both_policy_and_delay_are_set():
    # retries.go: noRetries' Backoff (0) stays unless BackoffPolicy and BackoffDelay are set
    assert Delivery(retry=3, delay=0.5).backoff(2) == 0.0
    assert Delivery(retry=3, policy="exponential").backoff(2) == 0.0
    assert Delivery().retry == 0 and Delivery().timeout is None


def test_knative_default_delivery():
    # config/core/configmaps/default-broker.yaml: retry 10, exponential, PT0.2S
    assert (DEFAULT_DELIVERY.retry, DEFAULT_DELIVERY.policy, DEFAULT_DELIVERY.delay) == (
        10, "exponential", 0.2)
    assert Delivery.from_dict(None) == DEFAULT_DELIVERY


@pytest.mark.parametrize(("code", "expected"), [
    (None, True), (500, True), (503, True), (404, True), (408, True), (409, True), (429, True),
    (400, False), (401, False), (403, False), (413, False),
])
def test_retryable_codes_follow_knative(code, expected):
    assert retryable(code) is expected
