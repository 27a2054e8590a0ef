"""What `trace` reports: a timeline of typed entries and a one-line verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

# Entry kinds, in the order a healthy event meets them.
PUBLISHED = "published"
INVOCATION = "invocation"
CLAIM = "claim"
SENT = "sent"
REJECTED = "rejected"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"
RELEASED = "released"
DUPLICATE = "duplicate"
FAILURE_QUEUE = "failure-queue"
# Verdicts.
V_DELIVERED, V_REJECTED, V_FAILED, V_UNCONFIRMED = "delivered", "rejected", "failed", "unconfirmed"
V_QUEUED, V_RETRYING, V_IN_FLIGHT, V_STUCK = "in-failure-queue", "retrying", "in-flight", "stuck"
V_UNKNOWN = "not-found"


def clock_time(ms: int) -> str:
    """12:03:04 (UTC): the verdict's and the timeline's time of day."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Invocation:
    """One invocation that handled the event, from its log lines."""

    request_id: str
    version: str | None
    start_ms: int
    outcome: str  # the function's "outcome" field, or "unknown" (crashed / timed out?)
    duration_ms: float | None = None
    lines: tuple[str, ...] = ()
    attempt: int | None = None


@dataclass(frozen=True)
class Record:
    """The de-dup record (a typed view of the item's plain values)."""

    key: str
    status: str
    message_id: str | None = None
    book_id: str | None = None
    attempts: int = 0
    published_at_ms: int | None = None
    claimed_at_ms: int | None = None
    sent_at_ms: int | None = None
    lease_until_s: int | None = None
    ses_message_id: str | None = None
    reason: str | None = None
    unconfirmed_at_ms: int | None = None


@dataclass(frozen=True)
class QueuedFailure:
    """An on-failure record of the event in the failure queue."""

    sqs_message_id: str
    at_ms: int
    request_id: str | None
    condition: str | None
    attempts: int | None
    error: str | None
    sns_message_id: str | None
    dedup_key: str | None = None  # what `failures redrive` finds it by


@dataclass(frozen=True)
class Entry:
    at_ms: int
    kind: str
    text: str
    lines: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"at": iso(self.at_ms), **asdict(self)}


@dataclass(frozen=True)
class Verdict:
    kind: str
    text: str


@dataclass
class Trace:
    id: str
    message_ids: list[str]
    records: list[Record]
    invocations: list[Invocation]
    queued: list[QueuedFailure]
    timeline: list[Entry]
    verdict: Verdict
    searched: dict[str, Any] = field(default_factory=dict)  # what was read, for honesty

    @property
    def found(self) -> bool:
        return self.verdict.kind != V_UNKNOWN

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "verdict": asdict(self.verdict), "message_ids": self.message_ids,
            "timeline": [e.as_dict() for e in self.timeline],
            "records": [asdict(r) for r in self.records],
            "invocations": [asdict(i) for i in self.invocations],
            "failure_queue": [asdict(q) for q in self.queued],
            "searched": self.searched,
        }
