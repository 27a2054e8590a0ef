"""Rendering, grouping and the follower's building blocks (no I/O)."""

from __future__ import annotations

import json

import pytest
from fakes import FakeClock

from notifyctl.logs.events import LogEvent
from notifyctl.logs.follow import RateLimiter, SeenEvents
from notifyctl.logs.grouping import RequestBlock, RequestGrouper
from notifyctl.logs.render import RED, TextRenderer, event_dict

pytestmark = pytest.mark.unit

RID = "5f1c2a3e-1111-2222-3333-444455556666"
STREAM = "2026/11/28/[3]" + "a" * 32


def event(message: str, ts: int = 1_795_000_000_000, stream: str = STREAM,
          event_id: str = "1", group: str = "/aws/lambda/books-notifier") -> LogEvent:
    return LogEvent.from_api(group, {"timestamp": ts, "message": message, "eventId": event_id,
                                     "logStreamName": stream})


def test_rate_limiter_spaces_calls_to_five_per_second() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(11):
        limiter.acquire()
        times.append(clock.now)
    assert times[10] - times[0] == pytest.approx(2.0)
    assert all(b - a >= 0.2 - 1e-9 for a, b in zip(times, times[1:], strict=False))


def test_rate_limiter_does_not_wait_when_calls_are_already_spread() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 1.0
    limiter.acquire()
    assert clock.sleeps == []


def test_seen_events_are_bounded_by_capacity_and_pruned_by_time() -> None:
    seen = SeenEvents(capacity=3)
    assert seen.add(("g", "1"), 10) and not seen.add(("g", "1"), 10)
    for i in range(2, 6):
        seen.add(("g", str(i)), 10 * i)
    assert len(seen) == 3 and ("g", "1") not in seen
    seen.prune_before(45)
    assert len(seen) == 1 and ("g", "5") in seen


def test_json_line_is_compact_with_level_and_key_fields_first() -> None:
    line = json.dumps({"level": "ERROR", "extra": 1, "duration_ms": 41, "message": "failed",
                       "outcome": "failed", "request_id": RID, "book_id": "b-1"})
    text = TextRenderer(utc=True).event_line(event(line, ts=1_795_000_000_123))
    assert text.endswith("[3] ERROR failed req=5f1c2a3e book_id=b-1 outcome=failed "
                         "duration_ms=41 extra=1")
    assert text.startswith("11:06:40.123 ")
    coloured = TextRenderer(utc=True, color=True).event_line(event(line))
    assert RED + "ERROR" in coloured


def test_report_is_summarised_and_platform_shows_it_raw() -> None:
    report = event(f"REPORT RequestId: {RID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
                   "Memory Size: 256 MB\tMax Memory Used: 70 MB")
    assert TextRenderer().body(report) == "REPORT req=5f1c2a3e 12.34 ms (billed 13 ms) · 70/256 MB"
    assert TextRenderer(platform=True).body(report) == report.message


def test_labels_and_times() -> None:
    renderer = TextRenderer(utc=True, show_date=True, show_group=True)
    e = event("hello", ts=1_795_000_000_007, stream="my-very-long-stream-name-0123456789")
    assert renderer.time(e.timestamp) == "2026-11-18 11:06:40.007"
    assert renderer.label(e) == "books-notifier[…e-0123456789]"
    assert TextRenderer().label(event("x")) == "[3]"


def test_grouper_attaches_plain_lines_and_cold_start_to_the_request_in_the_stream() -> None:
    grouper = RequestGrouper()
    lines = ["INIT_START Runtime Version: python:3.12.v29", "import-time print",
             f"START RequestId: {RID} Version: 3", "a print() without id",
             json.dumps({"level": "INFO", "message": "done", "request_id": RID,
                         "outcome": "sent"}),
             f"END RequestId: {RID}",
             f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
             "Memory Size: 256 MB\tMax Memory Used: 70 MB\tInit Duration: 200.00 ms"]
    out = []
    for i, line in enumerate(lines):
        out += grouper.add(event(line, ts=1000 + i, event_id=str(i)))
    assert len(out) == 1 and isinstance(out[0], RequestBlock)
    block = out[0]
    assert [e.message for e in block.events] == lines
    assert (block.version, block.cold_start, block.outcome, block.complete) == \
        ("3", True, "sent", True)
    assert grouper.flush() == []


def test_lines_outside_any_request_pass_through_and_open_blocks_flush() -> None:
    grouper = RequestGrouper()
    assert [e.message for e in grouper.add(event("lonely", event_id="x"))] == ["lonely"]
    assert grouper.add(event(f"START RequestId: {RID} Version: 3", event_id="y")) == []
    (block,) = grouper.flush()
    assert isinstance(block, RequestBlock) and block.outcome == "incomplete"


def test_event_dict_has_the_documented_keys() -> None:
    data = event_dict(event(json.dumps({"level": "INFO", "message": "m", "request_id": RID})))
    assert {"timestamp", "group", "stream", "eventId", "message", "request_id"} <= set(data)
    assert data["request_id"] == RID and data["version"] == "3"


@pytest.mark.parametrize("value", [41, 0, -7, 10**20, True, False, 1.5, float("nan"), None,
                                   [1, "a"], {"k": 2}, "two words", "a=b", ""])
def test_field_values_are_written_as_json_writes_them(value: object) -> None:
    """Integers take a shortcut (str); the text must not change, bools included."""
    import json

    from notifyctl.logs.render import _value

    expected = (value if isinstance(value, str) and value and " " not in value
                and "=" not in value else
                json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
    assert _value(value) == expected
