"""trace: log lines -> invocations, on-failure records, the timeline and the verdict.
No I/O: the sources' readers get Stub clients."""

from __future__ import annotations

import json
from typing import Any

from fakes import Stub, aws_error

from notifyctl.logs.events import LogEvent
from notifyctl.trace import sources
from notifyctl.trace.build import Where, trace, verdict
from notifyctl.trace.model import (
    V_DELIVERED,
    V_FAILED,
    V_QUEUED,
    V_RETRYING,
    V_STUCK,
    V_UNKNOWN,
    QueuedFailure,
    Record,
    iso,
)

T0 = 1_790_000_000_000  # epoch ms
MID = "6f1c-message"
STREAM = "2026/11/28/[3]abcdef"


def line(ts: int, request_id: str, **fields: Any) -> dict[str, Any]:
    data = {"level": "INFO", "message": "x", "request_id": request_id, "message_id": MID,
            "book_id": "bk-9", **fields}
    return {"timestamp": ts, "message": json.dumps(data), "logStreamName": STREAM,
            "eventId": f"{ts}-{request_id}"}


def test_invocations_group_lines_by_request_with_version_outcome_and_duration() -> None:
    events = [LogEvent.from_api("g", e) for e in (
        line(T0 + 500, "r1", outcome="retry", duration_ms=200.0, attempt=1),
        line(T0 + 90_500, "r2", outcome="sent", duration_ms=412.0, attempt=2))]

    got = sources.invocations(events)

    assert [(i.request_id, i.version, i.outcome, i.attempt) for i in got] == [
        ("r1", "3", "retry", 1), ("r2", "3", "sent", 2)]
    assert got[1].duration_ms == 412.0
    assert got[1].start_ms == T0 + 90_500 - 412  # started that long before its last line


def test_an_on_failure_record_names_the_attempts_the_error_and_the_message() -> None:
    body = {"version": "1.0", "timestamp": "2026-11-28T12:00:00.000Z",
            "requestContext": {"requestId": "r3", "condition": "RetriesExhausted",
                               "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"Sns": {"MessageId": MID}}]},
            "responsePayload": {"errorType": "ClientError", "errorMessage": "Throttling"}}
    got = sources.failure_of({"MessageId": "sqs-1", "Body": json.dumps(body),
                              "Attributes": {"SentTimestamp": "1"}})
    assert (got.attempts, got.condition, got.sns_message_id) == (3, "RetriesExhausted", MID)
    assert got.error == "ClientError: Throttling"


def record(status: str, **kw: Any) -> Record:
    base: dict[str, Any] = {"key": MID, "status": status, "message_id": MID, "attempts": 1,
                            "published_at_ms": T0, "claimed_at_ms": T0 + 100}
    return Record(**{**base, **kw})


def test_verdict_delivered_once_with_latency() -> None:
    v = verdict([record("SENT", sent_at_ms=T0 + 412, ses_message_id="ses-1")], [], [],
                MID, T0 + 5000)
    assert v.kind == V_DELIVERED
    assert v.text.startswith("delivered once at ")
    assert v.text.endswith(", 412 ms after publishing")


def test_verdict_rejected_failed_queued_stuck_retrying_unknown() -> None:
    now = T0 + 3_600_000
    assert verdict([record("REJECTED", reason="link host not allowed")], [], [], MID, now
                   ).text == "rejected: link host not allowed"
    failed = verdict([record("FAILED", reason="MessageRejected: not verified")], [], [], MID, now)
    assert failed.kind == V_FAILED and "failures redrive" in failed.text
    queued = verdict([record("IN_PROGRESS", lease_until_s=0, reason="transient: denied")], [],
                     [QueuedFailure("s", T0, "r", "RetriesExhausted", 3, "AccessDenied", MID)],
                     MID, now)
    assert queued.kind == V_QUEUED
    assert queued.text == ("in the failure queue after 3 attempts: AccessDenied — run "
                           f"`notifyctl failures redrive {MID}`")
    stuck = verdict([record("IN_PROGRESS", lease_until_s=(T0 // 1000) + 60)], [], [], MID, now)
    assert stuck.kind == V_STUCK and "lease ended" in stuck.text
    retrying = verdict([record("IN_PROGRESS", lease_until_s=0, reason="transient: x")], [], [],
                       MID, now)
    assert retrying.kind == V_RETRYING
    assert verdict([], [], [], MID, now).kind == V_UNKNOWN


def test_trace_by_book_id_finds_the_message_through_one_log_query() -> None:
    logs = Stub(filter_log_events={"events": [
        line(T0 + 300, "r1", outcome="sent", duration_ms=150.0, attempt=1,
             ses_message_id="ses-1")]})
    item = {"pk": {"S": MID}, "status": {"S": "SENT"}, "attempts": {"N": "1"},
            "published_at": {"S": iso(T0)},
            "claimed_at": {"N": str(T0 + 160)}, "sent_at": {"N": str(T0 + 290)},
            "ses_message_id": {"S": "ses-1"}, "book_id": {"S": "bk-9"}}
    ddb = Stub(get_item=lambda Key, **_: {"Item": item} if Key["pk"]["S"] == MID else {})
    sqs = Stub(get_queue_url={"QueueUrl": "q"}, receive_message={"Messages": []})
    clients = {"logs": logs, "dynamodb": ddb, "sqs": sqs}
    calls: list[int] = []

    result = trace(clients.__getitem__, Where("g", "t", "q"), "bk-9", clock=lambda: T0 / 1000,
                   before_log_call=lambda: calls.append(1))

    assert len(logs.calls) == 1 == len(calls)  # ONE FilterLogEvents query, rate-limited
    assert logs.calls[0][1]["filterPattern"] == '"bk-9"'
    assert result.message_ids == [MID]
    assert [e.kind for e in result.timeline] == ["published", "invocation", "claim", "sent"]
    assert result.verdict.kind == V_DELIVERED


def test_trace_of_an_unknown_id_says_where_it_looked() -> None:
    clients = {"logs": Stub(filter_log_events=aws_error("ResourceNotFoundException")),
               "dynamodb": Stub(get_item={}),
               "sqs": Stub(get_queue_url={"QueueUrl": "q"}, receive_message={})}
    result = trace(clients.__getitem__, Where("g", "t", "q"), "nope", clock=lambda: 1.0,
                   before_log_call=lambda: None)
    assert not result.found
    assert "nothing found for nope" in result.verdict.text
    assert result.searched["keys"] == 2


def test_retries_of_one_request_id_are_separate_attempts() -> None:
    events = [LogEvent.from_api("g", e) for e in (
        line(T0 + 100, "r1", outcome="retry", duration_ms=10.0),
        line(T0 + 60_100, "r1", outcome="retry", duration_ms=12.0),
        line(T0 + 180_100, "r1", outcome="retry", duration_ms=11.0))]

    got = sources.invocations(events)

    assert [(i.request_id, i.outcome) for i in got] == [("r1", "retry")] * 3
    assert [i.duration_ms for i in got] == [10.0, 12.0, 11.0]
