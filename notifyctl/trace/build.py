"""Assemble everything known about one event into a timeline and a verdict.

    id ──▶ logs: ONE FilterLogEvents query on the id ──▶ invocations, MessageIds, event ids
      └──▶ de-dup table: GetItem per possible key ─────▶ records (claim, outcome)
      └──▶ failure queue: a bounded peek ───────────────▶ on-failure records
    ──▶ timeline (oldest first) ──▶ verdict (one line)

The id may be a book id, a producer event id or an SNS MessageId: the function logs
all three on every line about an event, so the log query finds the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notifyctl.trace import sources
from notifyctl.trace.model import (
    CLAIM,
    DUPLICATE,
    FAILED,
    FAILURE_QUEUE,
    INVOCATION,
    PUBLISHED,
    REJECTED,
    RELEASED,
    SENT,
    UNCONFIRMED,
    V_DELIVERED,
    V_FAILED,
    V_IN_FLIGHT,
    V_QUEUED,
    V_REJECTED,
    V_RETRYING,
    V_STUCK,
    V_UNCONFIRMED,
    V_UNKNOWN,
    Entry,
    Invocation,
    QueuedFailure,
    Record,
    Trace,
    Verdict,
    clock_time,
)

DEFAULT_LOOKBACK_MS = 24 * 3_600_000


@dataclass(frozen=True)
class Where:
    """The environment's resources trace reads."""

    log_group: str
    table: str
    queue: str


def trace(client: Callable[[str], Any], where: Where, the_id: str, *,
          since_ms: int | None = None, clock: Callable[[], float] = time.time,
          before_log_call: Callable[[], None] | None = None) -> Trace:
    """Everything known about `the_id`. `client(service)` gives AWS clients."""
    now_ms = int(clock() * 1000)
    start_ms = since_ms if since_ms is not None else now_ms - DEFAULT_LOOKBACK_MS
    if before_log_call is None:
        from notifyctl.logs.follow import RateLimiter

        before_log_call = RateLimiter().acquire
    events = sources.log_events(client("logs"), where.log_group, the_id, start_ms=start_ms,
                                before_call=before_log_call)
    message_ids = sources.ids_in(events, "message_id")
    event_ids = sources.ids_in(events, "event_id")
    keys = [the_id, f"event:{the_id}", *message_ids, *(f"event:{e}" for e in event_ids)]
    records = sources.records(client("dynamodb"), where.table, keys)
    for record in records:
        if record.message_id and record.message_id not in message_ids:
            message_ids.append(record.message_id)
    wanted = {the_id, *message_ids}
    queued, peeked = sources.queued_failures(
        client("sqs"), where.queue, lambda body: any(w in body for w in wanted))
    invocations = sources.invocations(events)
    timeline = _timeline(records, invocations, queued)
    return Trace(the_id, message_ids, records, invocations, queued, timeline,
                 verdict(records, invocations, queued, the_id, now_ms),
                 {"log_group": where.log_group, "log_lines": len(events),
                  "since": start_ms, "table": where.table, "keys": len(set(keys)),
                  "queue": where.queue, "queue_messages_seen": peeked})


def _timeline(records: list[Record], invocations: list[Invocation],
              queued: list[QueuedFailure]) -> list[Entry]:
    entries: list[Entry] = []
    for r in records:
        if r.published_at_ms:
            entries.append(Entry(r.published_at_ms, PUBLISHED,
                                 f"published to SNS as {r.message_id or r.key}"
                                 + (f" (book {r.book_id})" if r.book_id else "")))
        if r.claimed_at_ms:
            entries.append(Entry(r.claimed_at_ms, CLAIM,
                                 f"claimed {r.key} (latest claim: attempt {r.attempts})"))
        if r.status == "SENT" and r.sent_at_ms:
            entries.append(Entry(r.sent_at_ms, SENT,
                                 f"SES accepted the email: message id {r.ses_message_id}"))
        elif r.status == "REJECTED":
            entries.append(Entry(r.claimed_at_ms or 0, REJECTED, f"rejected: {r.reason}"))
        elif r.status == "FAILED":
            entries.append(Entry(r.claimed_at_ms or 0, FAILED,
                                 f"SES refused it permanently: {r.reason}"))
        elif r.status == "UNCONFIRMED":
            entries.append(Entry(r.unconfirmed_at_ms or r.claimed_at_ms or 0, UNCONFIRMED,
                                 f"SES's answer was lost: {r.reason}"))
        elif r.status == "IN_PROGRESS" and r.lease_until_s == 0:
            entries.append(Entry(r.claimed_at_ms or 0, RELEASED,
                                 f"claim released for a retry: {r.reason}"))
    for i in invocations:
        version = f"version {i.version}" if i.version else "version ?"
        took = f", {i.duration_ms:.0f} ms" if i.duration_ms is not None else ""
        attempt = f", attempt {i.attempt}" if i.attempt else ""
        kind = DUPLICATE if i.outcome == "duplicate" else INVOCATION
        entries.append(Entry(i.start_ms, kind, f"invocation {i.request_id} ({version}{took}"
                                               f"{attempt}): {i.outcome}", i.lines))
    for q in queued:
        entries.append(Entry(q.at_ms, FAILURE_QUEUE,
                             f"in the failure queue ({q.condition}, {q.attempts} attempts): "
                             f"{q.error or 'no error recorded'}"))
    entries.sort(key=lambda e: e.at_ms)
    return entries


def verdict(records: list[Record], invocations: list[Invocation], queued: list[QueuedFailure],
            the_id: str, now_ms: int) -> Verdict:
    """One line: what happened to the event, and what to do if anything."""
    record = max(records, key=lambda r: r.claimed_at_ms or 0) if records else None
    key = record.key if record else next((q.dedup_key for q in queued if q.dedup_key), the_id)
    redrive = f"run `notifyctl failures redrive {key}`"
    sent_runs = sum(1 for i in invocations if i.outcome == "sent")
    if queued:
        q = queued[-1]
        return Verdict(V_QUEUED, f"in the failure queue after {q.attempts or '?'} attempts: "
                                 f"{q.error or (record.reason if record else None) or '?'}"
                                 f" — {redrive}")
    if record is None:
        if invocations:
            last = invocations[-1]
            return Verdict(V_RETRYING, f"seen by {len(invocations)} invocation(s), no record "
                                       f"yet; the last ended {last.outcome}")
        return Verdict(V_UNKNOWN, f"nothing found for {the_id}: no record, no log line, not "
                                  "in the failure queue — was it published to this "
                                  "environment? `notifyctl doctor` checks the wiring")
    if record.status == "SENT":
        at = record.sent_at_ms or 0
        after = (f", {at - record.published_at_ms} ms after publishing"
                 if record.published_at_ms and at else "")
        times = "once" if sent_runs <= 1 else f"{sent_runs} times (!)"
        dupes = sum(1 for i in invocations if i.outcome == "duplicate")
        extra = f"; {dupes} later deliveries skipped as duplicates" if dupes else ""
        return Verdict(V_DELIVERED, f"delivered {times} at {clock_time(at)}{after}{extra}")
    if record.status == "REJECTED":
        return Verdict(V_REJECTED, f"rejected: {record.reason}")
    if record.status == "FAILED":
        return Verdict(V_FAILED, f"failed: SES refused it permanently ({record.reason}) — fix "
                                 f"the cause, then {redrive}")
    if record.status == "UNCONFIRMED":
        return Verdict(V_UNCONFIRMED, f"unconfirmed: SES's answer was lost ({record.reason}); "
                                      "the email may have gone out — check the recipient's "
                                      "mailbox before redriving")
    lease_ms = (record.lease_until_s or 0) * 1000
    if record.status == "IN_PROGRESS" and record.lease_until_s == 0:
        return Verdict(V_RETRYING, f"retrying: attempt {record.attempts} failed "
                                   f"({record.reason}); Lambda retries it, then the failure "
                                   "queue keeps it")
    if record.status == "IN_PROGRESS" and lease_ms > now_ms:
        return Verdict(V_IN_FLIGHT, f"being sent now: attempt {record.attempts} holds the "
                                    f"claim until {clock_time(lease_ms)}")
    if record.status == "IN_PROGRESS":
        return Verdict(V_STUCK, f"stuck: attempt {record.attempts} claimed it at "
                                f"{clock_time(record.claimed_at_ms or 0)} and its lease ended "
                                f"at {clock_time(lease_ms)} with no outcome (crashed or timed "
                                f"out); a retry takes over, otherwise {redrive}")
    return Verdict(V_UNKNOWN, f"record {record.key} has status {record.status}")
