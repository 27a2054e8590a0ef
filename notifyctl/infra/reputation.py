"""The account's SES bounce and complaint rates against AWS's enforcement thresholds.

AWS reviews an account whose bounce rate reaches 5 % or complaint rate 0.1 %, and
may pause its sending at 10 % / 0.5 % (SES developer guide, "Sending review
process FAQs"). The rates AWS enforces on are the reputation metrics (the account
dashboard, and CloudWatch ``AWS/SES`` ``Reputation.BounceRate`` /
``Reputation.ComplaintRate``, fractions 0..1), computed over a representative
volume of recent email rather than a fixed window: that is the figure an operator
should trust, and the one read first. Where CloudWatch has no reputation datapoint
(a new account, little sending, an emulator), the ratio of the last 14 days of
``GetSendStatistics`` (bounces, complaints / delivery attempts) stands in, labelled
as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

REVIEW_BOUNCE, PAUSE_BOUNCE = 0.05, 0.10
REVIEW_COMPLAINT, PAUSE_COMPLAINT = 0.001, 0.005
OK, REVIEW, PAUSE = "ok", "review", "pause"
CLOUDWATCH = "cloudwatch Reputation.*"
SEND_STATISTICS = "GetSendStatistics (14 days)"
NO_DATA = "no data"
LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Reputation:
    bounce_rate: float | None      # fraction 0..1; None: no data
    complaint_rate: float | None
    source: str                    # CLOUDWATCH, SEND_STATISTICS or NO_DATA
    delivery_attempts: int | None = None  # GetSendStatistics only
    bounces: int | None = None
    complaints: int | None = None

    @property
    def level(self) -> str:
        """The worst of the two rates against AWS's thresholds."""
        b, c = self.bounce_rate or 0.0, self.complaint_rate or 0.0
        if b >= PAUSE_BOUNCE or c >= PAUSE_COMPLAINT:
            return PAUSE
        if b >= REVIEW_BOUNCE or c >= REVIEW_COMPLAINT:
            return REVIEW
        return OK

    def as_dict(self) -> dict[str, Any]:
        return {"bounce_rate": self.bounce_rate, "complaint_rate": self.complaint_rate,
                "source": self.source, "level": self.level,
                "delivery_attempts": self.delivery_attempts, "bounces": self.bounces,
                "complaints": self.complaints,
                "thresholds": {"review": {"bounce": REVIEW_BOUNCE,
                                          "complaint": REVIEW_COMPLAINT},
                               "pause": {"bounce": PAUSE_BOUNCE,
                                         "complaint": PAUSE_COMPLAINT}}}


def _latest(cloudwatch: Any, metric: str, now: datetime) -> float | None:
    got = cloudwatch.get_metric_statistics(
        Namespace="AWS/SES", MetricName=metric, StartTime=now - LOOKBACK, EndTime=now,
        Period=3600, Statistics=["Maximum"])
    points = sorted(got.get("Datapoints") or [], key=lambda p: p["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None


def from_cloudwatch(cloudwatch: Any, *, clock: Callable[[], float] = time.time
                    ) -> Reputation | None:
    now = datetime.fromtimestamp(clock(), UTC)
    bounce = _latest(cloudwatch, "Reputation.BounceRate", now)
    complaint = _latest(cloudwatch, "Reputation.ComplaintRate", now)
    if bounce is None and complaint is None:
        return None
    return Reputation(bounce, complaint, CLOUDWATCH)


def from_send_statistics(ses: Any) -> Reputation:
    points = ses.get_send_statistics().get("SendDataPoints") or []
    attempts = sum(int(p.get("DeliveryAttempts", 0)) for p in points)
    bounces = sum(int(p.get("Bounces", 0)) for p in points)
    complaints = sum(int(p.get("Complaints", 0)) for p in points)
    if not attempts:
        return Reputation(None, None, NO_DATA, 0, bounces, complaints)
    return Reputation(bounces / attempts, complaints / attempts, SEND_STATISTICS, attempts,
                      bounces, complaints)


def read(cloudwatch: Any, ses: Any, *, clock: Callable[[], float] = time.time) -> Reputation:
    """CloudWatch's reputation metrics, else the send statistics' ratio."""
    return from_cloudwatch(cloudwatch, clock=clock) or from_send_statistics(ses)
