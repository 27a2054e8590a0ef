"""Reading and following CloudWatch Logs: paging, de-dup, late events, throttling.

moto for real API behaviour; a stubbed client where moto cannot produce the case
(empty pages with a nextToken, ThrottlingException). Clock and sleep are fake.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
from fakes import FakeClock
from test_logs_support import (
    GROUP,
    ListSink,
    StubLogs,
    invocation,
    raw_event,
    stream_name,
    throttling,
)

from notifyctl.errors import OperationError
from notifyctl.logs.follow import Follower
from notifyctl.logs.reader import fetch_pages, read_window
from notifyctl.logs.tail import LogsQuery, run

pytestmark = pytest.mark.functional


@pytest.fixture
def logs(moto_aws: None) -> Any:
    import boto3

    client = boto3.client("logs", region_name="us-east-1")
    client.create_log_group(logGroupName=GROUP)
    return client


def put(client: Any, messages: list[str], ts: int, *, stream: str | None = None,
        group: str = GROUP) -> None:
    stream = stream or stream_name()
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": ts + i, "message": m} for i, m in enumerate(messages)])


# ------------------------------------------------------------------ reading
def test_every_page_is_read_including_empty_pages_with_a_next_token() -> None:
    stub = StubLogs([
        {"events": [raw_event("1", 1000, "first")], "nextToken": "t1"},
        {"events": [], "nextToken": "t2"},            # CloudWatch still searching
        {"events": [], "nextToken": "t3"},
        {"events": [raw_event("2", 2000, "second")], "nextToken": "t4"},
        {"events": []},                                 # no token: done
    ])
    got = [e.message for e in read_window(stub, [GROUP], start_ms=500, end_ms=9000,
                                          pattern='{ $.level = "ERROR" }')]
    assert got == ["first", "second"]
    assert [c.get("nextToken") for c in stub.calls] == [None, "t1", "t2", "t3", "t4"]
    assert all(c["startTime"] == 500 and c["endTime"] == 9000 for c in stub.calls)
    assert all(c["filterPattern"] == '{ $.level = "ERROR" }' for c in stub.calls)


def test_pages_are_yielded_as_they_come_even_when_empty() -> None:
    stub = StubLogs([{"events": [], "nextToken": "a"}, {"events": []}])
    assert list(fetch_pages(stub, GROUP, start_ms=0)) == [[], []]


def test_several_groups_are_interleaved_by_time(logs: Any) -> None:
    other = "/app/web"
    logs.create_log_group(logGroupName=other)
    now = int(time.time() * 1000)
    put(logs, ["f1", "f2"], now - 5000)               # now-5000, now-4999
    put(logs, ["w1"], now - 4999 - 500, stream="web-1", group=other)
    put(logs, ["w2"], now - 100, stream="web-1", group=other)
    events = list(read_window(logs, [GROUP, other], start_ms=now - 60_000))
    assert [e.message for e in events] == ["w1", "f1", "f2", "w2"]
    assert {e.group for e in events} == {GROUP, other}


def test_window_bounds_are_sent_and_respected(logs: Any) -> None:
    now = int(time.time() * 1000)
    put(logs, ["old"], now - 50_000)
    put(logs, ["inside"], now - 20_000)
    put(logs, ["new"], now - 1_000)
    got = [e.message for e in read_window(logs, [GROUP], start_ms=now - 30_000,
                                          end_ms=now - 10_000)]
    assert got == ["inside"]


def test_a_missing_group_is_a_clear_operation_error(logs: Any) -> None:
    with pytest.raises(OperationError) as info:
        list(read_window(logs, ["/aws/lambda/nope"], start_ms=0))
    assert "/aws/lambda/nope not found" in info.value.message
    assert "deployed" in info.value.message and info.value.exit_code == 1


# ------------------------------------------------------------------ following
def follower(client: Any, clock: FakeClock, **kwargs: Any) -> Follower:
    kwargs.setdefault("start_ms", int(clock() * 1000) - 60_000)
    return Follower(client, kwargs.pop("groups", [GROUP]), clock=clock, sleep=clock.sleep,
                    **kwargs)


def test_overlapping_polls_show_each_event_once(logs: Any) -> None:
    clock = FakeClock(time.time())
    f = follower(logs, clock)
    put(logs, ["a", "b"], int(clock() * 1000) - 2000)
    assert [e.message for e in f.poll()] == ["a", "b"]
    clock.sleep(1)
    put(logs, ["c"], int(clock() * 1000) - 200)
    assert [e.message for e in f.poll()] == ["c"]      # a, b re-read in the overlap, dropped
    clock.sleep(1)
    assert f.poll() == []
    assert f.stats.events == 3


def test_a_late_event_inside_the_overlap_window_is_shown_exactly_once(logs: Any) -> None:
    clock = FakeClock(time.time())
    f = follower(logs, clock, overlap_ms=10_000)
    put(logs, ["on time"], int(clock() * 1000) - 500)
    assert [e.message for e in f.poll()] == ["on time"]
    clock.sleep(1)
    # Ingested only now, stamped 4 s ago: before the previous poll started.
    put(logs, ["late"], int(clock() * 1000) - 4000, stream=stream_name(suffix="b"))
    assert [e.message for e in f.poll()] == ["late"]
    for _ in range(3):
        clock.sleep(1)
        assert f.poll() == []


def test_a_new_stream_appearing_between_polls_is_picked_up(logs: Any) -> None:
    clock = FakeClock(time.time())
    f = follower(logs, clock)
    put(logs, ["stream a"], int(clock() * 1000) - 100)
    f.poll()
    clock.sleep(1)
    put(logs, ["stream c"], int(clock() * 1000) - 50, stream=stream_name("4", "c"))
    assert [(e.message, e.version) for e in f.poll()] == [("stream c", "4")]


def test_each_poll_rereads_from_the_previous_poll_minus_the_overlap() -> None:
    clock = FakeClock(1_795_000_000.0)
    stub = StubLogs(lambda params: {"events": []}, clock)
    f = follower(stub, clock, overlap_ms=10_000, start_ms=1_794_999_940_000)
    f.poll()
    clock.sleep(1)
    f.poll()
    assert [c["startTime"] for c in stub.calls] == [1_794_999_940_000, 1_794_999_990_000]
    assert "endTime" not in stub.calls[1]


def test_throttling_backs_off_exponentially_then_recovers_without_loss() -> None:
    clock = FakeClock(1_795_000_000.0)
    ok = {"events": [raw_event("1", 1_794_999_999_000, "hello")]}
    stub = StubLogs([throttling(), throttling(), throttling(), ok, ok], clock)
    f = follower(stub, clock, interval=1.0, backoff_base=1.0, backoff_cap=16.0)
    batches = list(f.run(max_polls=5))
    assert [[e.message for e in b] for b in batches] == [[], [], [], ["hello"], []]
    assert f.stats.throttles == 3
    assert clock.sleeps[:3] == [1.0, 2.0, 4.0]
    assert clock.sleeps[3] == pytest.approx(1.0)  # back to the normal interval
    # every retry re-read the same window: nothing skipped
    assert len({c["startTime"] for c in stub.calls[:4]}) == 1


def test_backoff_is_capped() -> None:
    clock = FakeClock(1_795_000_000.0)
    stub = StubLogs(lambda params: throttling(), clock)
    f = follower(stub, clock, backoff_base=1.0, backoff_cap=8.0)
    list(f.run(max_polls=7))
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_calls_never_exceed_five_per_second_across_groups_and_pages() -> None:
    clock = FakeClock(1_795_000_000.0)

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("nextToken")  # each group: three pages per poll
        nxt = {None: "p2", "p2": "p3"}.get(token)
        return {"events": [], **({"nextToken": nxt} if nxt else {})}

    stub = StubLogs(answer, clock)
    groups = [GROUP, "/aws/lambda/other", "/app/web"]
    f = follower(stub, clock, groups=groups, interval=0.5)
    list(f.run(max_polls=10))
    assert len(stub.calls) == 90
    times = stub.call_times
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 1.0 - 1e-6, "more than 5 calls in a second"


def test_follow_with_until_stops_after_the_window_and_the_overlap(logs: Any) -> None:
    clock = FakeClock(time.time())
    now_ms = int(clock() * 1000)
    put(logs, ["x"], now_ms - 1000)
    sink = ListSink()
    query = LogsQuery(groups=[GROUP], start_ms=now_ms - 60_000, end_ms=now_ms, follow=True,
                      extra={"overlap_ms": 5000})
    run(logs, query, sink, clock=clock, sleep=clock.sleep)
    assert sink.messages == ["x"]
    assert 5 <= clock() - now_ms / 1000 <= 10


def test_by_request_follow_emits_each_invocation_once_complete(logs: Any) -> None:
    clock = FakeClock(time.time())
    ts = int(clock() * 1000) - 3000
    lines = invocation("aaaa1111-0000-0000-0000-000000000000", cold=True)
    put(logs, lines[:3], ts)
    sink = ListSink()
    query = LogsQuery(groups=[GROUP], start_ms=ts - 1000, follow=True, by_request=True,
                      max_polls=1)
    run(logs, query, sink, clock=clock, sleep=clock.sleep)
    # The poll saw half an invocation; stopping (like Ctrl-C) shows the open block.
    assert len(sink.blocks) == 1 and sink.blocks[0].outcome == "incomplete"


def test_fast_decoding_gives_what_botocore_would(moto_aws: None) -> None:
    import boto3

    from notifyctl.logs.reader import enable_fast_parse

    plain = boto3.client("logs", region_name="us-east-1")
    fast = boto3.client("logs", region_name="us-east-1")
    enable_fast_parse(fast)
    enable_fast_parse(fast)  # idempotent
    plain.create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000)
    put(plain, ["é ✓ unicode", '{"level": "INFO"}', "x" * 3000], now - 1000)
    params = {"logGroupName": GROUP, "startTime": now - 5000, "interleaved": True}
    a, b = plain.filter_log_events(**params), fast.filter_log_events(**params)
    a.pop("ResponseMetadata")
    b.pop("ResponseMetadata")
    assert a == b and len(b["events"]) == 3
    with pytest.raises(fast.exceptions.ResourceNotFoundException):  # errors: normal path
        fast.filter_log_events(logGroupName="/nope")


def test_a_throttled_backfill_never_shows_an_event_twice() -> None:
    # Backfilling an hour: the first page arrives, the second is throttled. The
    # cursor stays at the start, so the next poll re-reads the first page; what it
    # showed must still be remembered even though it is older than the overlap.
    clock = FakeClock(1_795_000_000.0)
    start_ms = 1_795_000_000_000 - 3_600_000
    first = {"events": [raw_event("1", start_ms + 1000, "old-1")], "nextToken": "p2"}
    second = {"events": [raw_event("2", start_ms + 2000, "old-2")]}
    stub = StubLogs([first, throttling(), first, second], clock)
    f = follower(stub, clock, start_ms=start_ms, max_overlap_ms=120_000)
    shown = [e.message for batch in f.run(max_polls=2) for e in batch]
    assert shown == ["old-1", "old-2"]
    assert [c["startTime"] for c in stub.calls] == [start_ms] * 4
