"""The demo's pure parts: picking a message's invocations out of the log, the verdict."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from notifyctl.demo import DemoReport, StepTiming, _plain, blocks_for_message
from notifyctl.logs.events import LogEvent

GROUP = "/aws/lambda/books-local-notifier"


def event(ts: int, message: str, stream: str = "2026/11/28/[1]abc") -> LogEvent:
    return LogEvent.from_api(GROUP, {"timestamp": ts, "message": message,
                                     "logStreamName": stream, "eventId": str(ts)})


def invocation(ts: int, request_id: str, message_id: str, outcome: str) -> list[LogEvent]:
    line: dict[str, Any] = {"level": "INFO", "message": "x", "request_id": request_id,
                            "message_id": message_id, "outcome": outcome}
    return [
        event(ts, f"START RequestId: {request_id} Version: 1"),
        event(ts + 1, json.dumps(line)),
        event(ts + 2, f"END RequestId: {request_id}"),
        event(ts + 3, f"REPORT RequestId: {request_id}\tDuration: 2.00 ms\t"
                      "Billed Duration: 2 ms\tMemory Size: 256 MB\tMax Memory Used: 50 MB\t"),
    ]


def test_only_the_invocations_that_name_the_message_are_kept_in_time_order() -> None:
    events = (invocation(1000, "r-1", "m-1", "sent") + invocation(2000, "r-2", "m-2", "sent")
              + invocation(3000, "r-3", "m-1", "duplicate"))

    blocks = blocks_for_message(iter(events), "m-1")

    assert [b.request_id for b in blocks] == ["r-1", "r-3"]
    assert [b.outcome for b in blocks] == ["sent", "duplicate"]
    assert all(b.complete for b in blocks)


def test_an_unfinished_invocation_is_still_shown() -> None:
    events = invocation(1000, "r-1", "m-1", "sent")[:2]

    blocks = blocks_for_message(iter(events), "m-1")

    assert [b.request_id for b in blocks] == ["r-1"]
    assert not blocks[0].complete


def test_the_demo_is_ok_only_without_problems() -> None:
    report = DemoReport(steps=[StepTiming("bootstrap", 1.25, ""), StepTiming("deploy", 0.5, "")])
    assert report.ok and report.total_s == 1.75

    report.problems.append("the redelivery sent another email (2 in the outbox)")
    assert not report.ok
    assert report.to_dict()["ok"] is False


def test_dynamodb_numbers_are_shown_as_plain_numbers() -> None:
    assert _plain(Decimal("1795874447")) == 1795874447
    assert _plain(Decimal("1.5")) == 1.5
    assert _plain("SENT") == "SENT"
