"""The summary of one `publish-book` run, as data (for JSON) and for people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    from notifyctl.publish.diagnose import PendingDiagnosis
    from notifyctl.publish.events import InvalidLine
    from notifyctl.publish.publisher import PublishOutcome
    from notifyctl.publish.waiter import WaitResult

SHOWN_PROBLEMS = 10


@dataclass
class PublishReport:
    topic_arn: str
    published: int
    failed: int  # invalid lines + entries SNS did not take
    message_ids: list[str]
    elapsed_s: float
    invalid: list[InvalidLine] = field(default_factory=list)
    failure_codes: Counter[str] = field(default_factory=Counter)
    failed_out: str | None = None
    wait: WaitResult | None = None
    wait_timeout_s: float | None = None
    interrupted: bool = False
    # A run stopped early (Ctrl-C, fatal error): the flags that send the rest, and how
    # many events that is (None: unknown, the rest of a file was not read).
    resume_flags: str | None = None
    not_attempted: int | None = None
    diagnosis: PendingDiagnosis | None = None  # why messages were pending at the timeout
    # The function's record key of each sent event (its event_id's, see contract.dedup_key).
    dedup_keys: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, topic_arn: str, outcome: PublishOutcome, invalid: list[InvalidLine],
              failed_out: str | None) -> PublishReport:
        return cls(
            topic_arn=topic_arn,
            published=len(outcome.sent),
            failed=len(outcome.failed) + len(invalid),
            message_ids=[s.message_id for s in outcome.sent],
            dedup_keys=[s.dedup_key for s in outcome.sent],
            elapsed_s=outcome.elapsed_s,
            invalid=list(invalid),
            failure_codes=Counter(f.code for f in outcome.failed),
            failed_out=failed_out,
            interrupted=outcome.interrupted,
        )

    @property
    def events_per_s(self) -> float:
        return self.published / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def stopped_by_user(self) -> bool:
        """Ctrl-C while publishing or while waiting (exit 130)."""
        return self.interrupted or (self.wait is not None and self.wait.interrupted)

    @property
    def ok(self) -> bool:
        """Everything published and, when waited for, everything sent (with --until
        delivered: everything delivered)."""
        if self.failed or self.stopped_by_user:
            return False
        if self.wait is not None and self.wait.until == "delivered":
            return self.wait.delivered == self.published
        return self.wait is None or self.wait.sent == self.published

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "published": self.published,
            "failed": self.failed,
            "message_ids": self.message_ids,
            "topic_arn": self.topic_arn,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(self.events_per_s, 1),
        }
        if self.invalid:
            data["invalid_lines"] = [{"line": i.line, "error": i.error} for i in self.invalid]
        if self.failure_codes:
            data["failure_codes"] = dict(self.failure_codes)
        if self.failed_out:
            data["failed_out"] = self.failed_out
        if self.resume_flags:
            data["not_attempted"] = self.not_attempted
            data["resume"] = f"notifyctl publish-book {self.resume_flags}"
        if self.wait is not None:
            w = self.wait
            latency = w.latency_percentiles()
            data["wait"] = {
                "sent": w.sent,
                "rejected": w.rejected,
                "failed": w.failed,
                "pending": w.pending,
                "in_progress": w.in_progress,
                "unseen": w.unseen,
                "timed_out": w.timed_out,
                "interrupted": w.interrupted,
                "error": w.error,
                "timeout_s": self.wait_timeout_s,
                "elapsed_s": round(w.elapsed_s, 3),
                "sent_per_s": round(w.sent / self.total_s, 1) if self.total_s > 0 else 0.0,
                "latency_ms": ({k: round(v, 1) for k, v in latency.items()}
                               if latency else None),
                "reasons": dict(w.reasons),
                "until": w.until,
            }
            if w.until == "delivered":
                data["wait"].update({
                    "delivered": w.delivered, "bounced": w.bounced,
                    "complained": w.complained, "rejected_by_ses": w.rejected_by_ses,
                    "delayed": w.delayed, "awaiting_delivery": w.awaiting_delivery,
                    "delivered_per_s": (round(w.delivered / self.total_s, 1)
                                        if self.total_s > 0 else 0.0)})
            if self.diagnosis is not None:
                data["wait"]["diagnosis"] = self.diagnosis.to_dict()
        return data

    @property
    def total_s(self) -> float:
        """Publish plus wait: the end-to-end time of a load test."""
        return self.elapsed_s + (self.wait.elapsed_s if self.wait else 0.0)
