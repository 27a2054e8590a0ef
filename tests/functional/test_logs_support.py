"""Shared helpers for the logs tests: realistic Lambda log lines, a fake clock,
a stubbed CloudWatch Logs client and a list-backed sink. (No tests here.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fakes import FakeClock

GROUP = "/aws/lambda/books-dev-notifier"


def stream_name(version: str = "3", suffix: str = "a") -> str:
    return f"2026/11/28/[{version}]" + (suffix * 32)[:32]


def invocation(rid: str, *, version: str = "3", outcome: str = "sent", cold: bool = False,
               timeout: bool = False, extra_text: str | None = None) -> list[str]:
    """The lines one invocation writes, in order, exactly as Lambda and the function do."""
    lines = []
    if cold:
        lines.append("INIT_START Runtime Version: python:3.12.v29\tRuntime Version ARN: "
                     "arn:aws:lambda:us-east-1::runtime:abc")
    lines.append(f"START RequestId: {rid} Version: {version}")
    lines.append(json.dumps({"level": "INFO", "message": "received", "request_id": rid,
                             "message_id": f"msg-{rid[:4]}", "book_id": "b-42"}))
    if extra_text:
        lines.append(extra_text)
    if timeout:
        lines.append(f"2026-11-28T14:05:03.000Z {rid} Task timed out after 3.00 seconds")
    else:
        lines.append(json.dumps({"level": "INFO" if outcome == "sent" else "WARNING",
                                 "message": "done", "request_id": rid,
                                 "message_id": f"msg-{rid[:4]}", "book_id": "b-42",
                                 "recipient": "j***@example.com", "outcome": outcome,
                                 "duration_ms": 41}))
    lines.append(f"END RequestId: {rid}")
    report = (f"REPORT RequestId: {rid}\tDuration: {3000.0 if timeout else 41.5} ms\t"
              f"Billed Duration: {3000 if timeout else 42} ms\tMemory Size: 256 MB\t"
              f"Max Memory Used: 70 MB")
    if cold:
        report += "\tInit Duration: 210.12 ms"
    if timeout:
        report += "\tStatus: timeout"
    lines.append(report + "\t\n")
    return lines


class StubLogs:
    """A logs client whose filter_log_events answers from a script of responses
    (dicts, or exceptions to raise); it records every call's parameters and time."""

    def __init__(self, script: list[Any] | Callable[[dict[str, Any]], Any],
                 clock: FakeClock | None = None) -> None:
        self.script = script
        self.calls: list[dict[str, Any]] = []
        self.call_times: list[float] = []
        self.clock = clock

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        self.calls.append(dict(params))
        if self.clock is not None:
            self.call_times.append(self.clock())
        answer = self.script(params) if callable(self.script) else self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def throttling() -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                       "FilterLogEvents")


def raw_event(event_id: str, ts: int, message: str, stream: str | None = None) -> dict[str, Any]:
    return {"eventId": event_id, "timestamp": ts, "message": message,
            "logStreamName": stream or stream_name(), "ingestionTime": ts + 50}


class ListSink:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.blocks: list[Any] = []
        self.flushes = 0

    def event(self, event: Any) -> None:
        self.events.append(event)

    def block(self, block: Any) -> None:
        self.blocks.append(block)

    def flush(self) -> None:
        self.flushes += 1

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.events]
