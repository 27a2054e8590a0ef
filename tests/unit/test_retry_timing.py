"""Local retry timing keeps AWS's order relative to a crashed attempt's lease (issue 12)."""

from __future__ import annotations

import pytest

from book_notifier.notifier import LEASE_MARGIN_S
from notifyctl.emulator.delivery import (
    LAMBDA_RETRY_DELAYS_S,
    LEASE_ALLOWANCE_S,
    LEASE_ROUNDING_S,
    retry_delay,
)

pytestmark = pytest.mark.unit


def test_the_emulator_allows_for_the_functions_lease_margin() -> None:
    assert LEASE_ALLOWANCE_S == LEASE_MARGIN_S


def test_a_retry_after_a_crash_comes_after_the_lease_as_on_aws() -> None:
    # AWS: timeout 30 s, lease 40 s, first retry at 60 s -> the lease is over.
    first = retry_delay(LAMBDA_RETRY_DELAYS_S[0], retry_scale=0.01, timeout_s=30,
                        attempt_s=2.0, crashed=True)
    assert first == pytest.approx(30 + LEASE_MARGIN_S - 2.0 + LEASE_ROUNDING_S)
    # lease_until is rounded up to a whole second: the retry never lands inside it
    assert LEASE_ROUNDING_S > 1.0


def test_a_retry_after_a_handled_error_stays_scaled() -> None:
    assert retry_delay(60.0, retry_scale=0.01, timeout_s=30, attempt_s=0.1,
                       crashed=False) == pytest.approx(0.6)


def test_when_aws_itself_retries_inside_the_lease_the_emulator_does_too() -> None:
    # timeout 900 s: AWS's 60 s retry meets the live lease; so does the scaled one.
    assert retry_delay(60.0, retry_scale=0.01, timeout_s=900, attempt_s=900,
                       crashed=True) == pytest.approx(0.6)


def test_at_real_time_scale_the_wait_is_aws_own() -> None:
    assert retry_delay(120.0, retry_scale=1.0, timeout_s=30, attempt_s=1,
                       crashed=True) == 120.0
