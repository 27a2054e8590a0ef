"""`--wait`: read each published message's outcome from the de-duplication table.

The function writes one item per event, keyed by the de-dup key
(`book_notifier.contract.dedup_key`: ``event:<event_id>`` for the events notifyctl
sends, which all carry an event id, the SNS MessageId otherwise), with status
IN_PROGRESS, then SENT (with sent_at, epoch ms), REJECTED, FAILED or UNCONFIRMED (with
a reason). We read those items by key with BatchGetItem (≤ 100 keys per call, never
a scan), poll only the keys still pending, and stop when all are terminal or the
time is up. If the endpoint goes away mid-wait, the counts so far are the result
(``error`` says why), as on Ctrl-C.

``until``: ``sent`` (the default) stops at the function's outcome; ``delivered``
waits further, for what SES said happened (the ``delivery`` attribute the feedback
function writes from the configuration set's events): DELIVERED, BOUNCED,
COMPLAINED or REJECTED_BY_SES end the wait for an event, DELAYED does not (SES is
still trying). Latency is then publish -> ``delivered_at``.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from notifyctl.errors import OperationError

BATCH_GET_MAX_KEYS = 100
TERMINAL = ("SENT", "REJECTED", "FAILED", "UNCONFIRMED")
UNTIL_SENT, UNTIL_DELIVERED = "sent", "delivered"
UNTIL = (UNTIL_SENT, UNTIL_DELIVERED)
# The function's outcomes that end a `--until delivered` wait on their own (no email
# went out, so no SES event will come).
NOT_SENT = ("REJECTED", "FAILED")
# SES's final word on an email (the record's `delivery`); DELAYED is not one.
DELIVERY_FINAL = ("DELIVERED", "BOUNCED", "COMPLAINED", "REJECTED_BY_SES")


@dataclass(frozen=True, slots=True)
class Record:
    """The part of a de-duplication item the waiter reads (key: the item's pk)."""

    key: str
    status: str
    sent_at_ms: int | None = None
    reason: str | None = None
    delivery: str | None = None        # what SES said (the feedback function)
    delivered_at_ms: int | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Record:
        sent_at = item.get("sent_at", {}).get("N")
        delivered_at = item.get("delivered_at", {}).get("N")
        return cls(
            key=item["pk"]["S"],
            status=item.get("status", {}).get("S", ""),
            sent_at_ms=int(float(sent_at)) if sent_at is not None else None,
            reason=item.get("reason", {}).get("S"),
            delivery=item.get("delivery", {}).get("S"),
            delivered_at_ms=int(float(delivered_at)) if delivered_at is not None else None,
        )

    def terminal(self, until: str) -> bool:
        if until == UNTIL_SENT:
            return self.status in TERMINAL
        return self.status in NOT_SENT or self.delivery in DELIVERY_FINAL


@dataclass
class WaitResult:
    sent: int = 0
    rejected: int = 0
    failed: int = 0
    in_progress: int = 0  # claimed by the function, no outcome yet
    unseen: int = 0  # no record at all: the function never saw it (yet)
    latencies_ms: list[float] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    timed_out: bool = False
    interrupted: bool = False  # Ctrl-C while waiting: the counts so far stand
    error: str | None = None  # the endpoint went away while waiting: the counts so far stand
    records: dict[str, Record] = field(default_factory=dict)
    until: str = UNTIL_SENT
    # --until delivered: SES's word on each email (pending = none yet, or DELAYED).
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    rejected_by_ses: int = 0
    delayed: int = 0  # still DELAYED when the wait ended
    awaiting_delivery: int = 0  # SENT, no final SES event yet when the wait ended

    def add(self, record: Record, published_at: float) -> None:
        """Count one terminal outcome (publish time in epoch seconds)."""
        self.records[record.key] = record
        if self.until == UNTIL_DELIVERED:
            self._count_delivery(record, published_at)
        if record.status == "SENT":
            self.sent += 1
            if record.sent_at_ms is not None and self.until == UNTIL_SENT:
                self.latencies_ms.append(max(0.0, record.sent_at_ms - published_at * 1000.0))
        elif record.status == "REJECTED":
            self.rejected += 1
            self.reasons[record.reason or "rejected"] += 1
        elif record.status == "UNCONFIRMED":  # SES's answer was lost: maybe sent
            self.failed += 1
            self.reasons[f"unconfirmed: {record.reason or 'no answer from SES'}"] += 1
        else:
            self.failed += 1
            self.reasons[record.reason or "failed"] += 1

    def _count_delivery(self, record: Record, published_at: float) -> None:
        if record.delivery == "DELIVERED":
            self.delivered += 1
            if record.delivered_at_ms is not None:
                self.latencies_ms.append(max(0.0, record.delivered_at_ms
                                             - published_at * 1000.0))
        elif record.delivery == "BOUNCED":
            self.bounced += 1
        elif record.delivery == "COMPLAINED":
            self.complained += 1
        elif record.delivery == "REJECTED_BY_SES":
            self.rejected_by_ses += 1

    def add_pending(self, record: Record | None) -> None:
        """An event whose wait ended without a terminal record (None: never seen)."""
        if record is None:
            self.unseen += 1
            return
        self.records[record.key] = record
        if record.delivery == "DELAYED":
            self.delayed += 1
        if self.until == UNTIL_DELIVERED and record.status == "SENT":
            self.sent += 1  # sent, SES's word not in yet: pending delivery
            self.awaiting_delivery += 1
        else:
            self.in_progress += 1

    @property
    def pending(self) -> int:
        return self.in_progress + self.unseen + self.awaiting_delivery

    @property
    def total(self) -> int:
        return self.sent + self.rejected + self.failed + self.pending

    def latency_percentiles(self) -> dict[str, float] | None:
        """p50/p95/p99/max of publish → sent, in ms (nearest rank); None if nothing sent."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return {
            "p50": percentile(ordered, 50),
            "p95": percentile(ordered, 95),
            "p99": percentile(ordered, 99),
            "max": ordered[-1],
        }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def fetch_records(
    dynamodb: Any,
    table_name: str,
    keys: Iterable[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    max_rounds: int = 8,
) -> dict[str, Record]:
    """The records that exist for these de-dup keys (missing keys are absent).

    UnprocessedKeys (throttling, or the 16 MB response cap) are asked again
    with full-jitter backoff, up to max_rounds per chunk; what is still
    unprocessed then is treated as not found this time (the caller polls again).
    """
    from botocore.exceptions import ClientError

    from notifyctl.aws.errors import error_code

    found: dict[str, Record] = {}
    for chunk in _chunks(list(keys), BATCH_GET_MAX_KEYS):
        request: dict[str, Any] = {table_name: {
            "Keys": [{"pk": {"S": mid}} for mid in chunk],
            "ProjectionExpression": "pk, #s, sent_at, reason, delivery, delivered_at",
            "ExpressionAttributeNames": {"#s": "status"},
        }}
        for round_ in range(1, max_rounds + 1):
            try:
                response = dynamodb.batch_get_item(RequestItems=request)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    raise OperationError(
                        f"The de-duplication table {table_name!r} does not exist.",
                        hint="Run `notifyctl bootstrap` for this environment.") from exc
                raise
            for item in response.get("Responses", {}).get(table_name, ()):
                record = Record.from_item(item)
                found[record.key] = record
            unprocessed = response.get("UnprocessedKeys") or {}
            if not unprocessed.get(table_name, {}).get("Keys"):
                break
            request = unprocessed
            sleep(rng() * min(2.0, 0.05 * 2 ** round_))
    return found


def wait_for_outcomes(
    dynamodb: Any,
    table_name: str,
    published: Mapping[str, float],
    *,
    timeout_s: float = 60.0,
    poll_interval_s: float = 0.25,
    max_interval_s: float = 2.0,
    on_progress: Callable[[int], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    until: str = UNTIL_SENT,
) -> WaitResult:
    """Poll until every event in `published` ({de-dup key: publish time, epoch s})
    has a terminal record (for `until`, module doc), or timeout_s has passed.

    Publish → sent latency = sent_at (the function's clock) − the client's publish
    time (→ delivered: delivered_at, SES's timestamp); a negative value (clock skew)
    counts as 0.
    """
    from botocore.exceptions import BotoCoreError

    if until not in UNTIL:
        raise ValueError(f"until: {until!r}")
    result = WaitResult(until=until)
    pending = list(published)
    started = monotonic()
    deadline = started + timeout_s
    latest: dict[str, Record] = {}
    interval = poll_interval_s
    try:
        while pending:
            records = fetch_records(dynamodb, table_name, pending, sleep=sleep, rng=rng)
            latest.update(records)
            still: list[str] = []
            done = 0
            for mid in pending:
                record = records.get(mid)
                if record is None or not record.terminal(until):
                    still.append(mid)
                    continue
                done += 1
                result.add(record, published[mid])
            if on_progress is not None and done:
                on_progress(done)
            pending = still
            if not pending:
                break
            now = monotonic()
            if now >= deadline:
                result.timed_out = True
                break
            sleep(min(interval, deadline - now))
            interval = min(max_interval_s, interval * 1.5)
    except KeyboardInterrupt:
        # Report what is known; the caller exits 130 after printing it.
        result.interrupted = True
        pending = [mid for mid in published if mid not in result.records]
    except BotoCoreError as exc:
        # The endpoint went away (an emulator stopped, the network dropped): what is
        # known stands, with the reason; the caller prints it and the message ids.
        result.error = f"stopped waiting: {exc}"
        pending = [mid for mid in published if mid not in result.records]
    for mid in pending:
        result.add_pending(latest.get(mid))
    result.elapsed_s = monotonic() - started
    return result

