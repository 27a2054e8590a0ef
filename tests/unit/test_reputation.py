"""AWS's review and pause thresholds against the account's rates (pure)."""

from __future__ import annotations

import pytest

from notifyctl.infra.reputation import Reputation, from_send_statistics

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("bounce", "complaint", "level"), [
    (0.0499, 0.00099, "ok"), (0.05, 0.0, "review"), (0.0, 0.001, "review"),
    (0.0999, 0.0049, "review"), (0.10, 0.0, "pause"), (0.0, 0.005, "pause"),
    (None, None, "ok")])
def test_levels_follow_aws_thresholds(bounce: float | None, complaint: float | None,
                                      level: str) -> None:
    assert Reputation(bounce, complaint, "test").level == level


class FakeSes:
    def __init__(self, points: list[dict[str, int]]) -> None:
        self.points = points

    def get_send_statistics(self) -> dict[str, object]:
        return {"SendDataPoints": self.points}


def test_send_statistics_ratio_is_over_delivery_attempts() -> None:
    rep = from_send_statistics(FakeSes([
        {"DeliveryAttempts": 150, "Bounces": 9, "Complaints": 0, "Rejects": 0},
        {"DeliveryAttempts": 50, "Bounces": 3, "Complaints": 1, "Rejects": 0}]))

    assert (rep.bounce_rate, rep.complaint_rate, rep.level) == (0.06, 0.005, "pause")
    assert (rep.delivery_attempts, rep.bounces, rep.complaints) == (200, 12, 1)


def test_no_attempts_is_no_data_not_zero() -> None:
    rep = from_send_statistics(FakeSes([]))

    assert (rep.bounce_rate, rep.source) == (None, "no data")
