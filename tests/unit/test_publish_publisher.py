"""The publisher alone: batching, the rate limiter, retries and what is kept on failure.

A fake SNS client stands in for AWS (no I/O); clocks and sleeps are injected.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fakes import FakeClock

from notifyctl.publish.publisher import (
    MAX_BATCH_BYTES,
    MESSAGE_ATTRIBUTES,
    Message,
    PublishOptions,
    RateLimiter,
    backoff_delay,
    batches,
    publish_messages,
)

pytestmark = pytest.mark.unit


def msgs(n: int, body: str = '{"x":1}') -> list[Message]:
    return [Message(i, body) for i in range(n)]


class FakeSns:
    """publish_batch that succeeds, except entries whose body is in `fail` (a
    mapping body -> list of (code, sender_fault) answers, consumed per attempt)."""

    def __init__(self, fail: dict[str, list[tuple[str, bool]]] | None = None,
                 raise_on_call: Exception | None = None) -> None:
        self.fail = {k: list(v) for k, v in (fail or {}).items()}
        self.raise_on_call = raise_on_call
        self.calls: list[list[dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
                      ) -> dict[str, Any]:
        with self._lock:
            self.calls.append(PublishBatchRequestEntries)
            if self.raise_on_call is not None:
                raise self.raise_on_call
            ok, failed = [], []
            for entry in PublishBatchRequestEntries:
                answers = self.fail.get(entry["Message"])
                if answers:
                    code, sender = answers.pop(0)
                    failed.append({"Id": entry["Id"], "Code": code, "Message": code,
                                   "SenderFault": sender})
                else:
                    ok.append({"Id": entry["Id"], "MessageId": f"m-{next(self._ids)}"})
            return {"Successful": ok, "Failed": failed}


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} message"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PublishBatch")


# ------------------------------------------------------------------- batching
def test_25_messages_make_batches_of_10_10_5() -> None:
    assert [len(b) for b in batches(msgs(25))] == [10, 10, 5]


def test_a_batch_never_exceeds_256_kib() -> None:
    big = "x" * (100 * 1024)
    sizes = [sum(m.size for m in b) for b in batches(msgs(5, big))]
    assert all(s <= MAX_BATCH_BYTES for s in sizes)
    assert [len(b) for b in batches(msgs(5, big))] == [2, 2, 1]


def test_a_message_over_256_kib_is_failed_without_sending() -> None:
    sns = FakeSns()
    huge = Message(0, "x" * MAX_BATCH_BYTES)
    outcome = publish_messages(sns, "arn", [huge, *msgs(2)[1:]],
                               PublishOptions(concurrency=1))
    assert [f.code for f in outcome.failed] == ["MessageTooLarge"]
    assert len(outcome.sent) == 1
    assert all(e["Message"] != huge.body for call in sns.calls for e in call)


def test_every_entry_carries_the_event_type_attribute() -> None:
    sns = FakeSns()
    publish_messages(sns, "arn", msgs(3), PublishOptions(concurrency=1))
    assert all(e["MessageAttributes"] == MESSAGE_ATTRIBUTES for e in sns.calls[0])
    assert MESSAGE_ATTRIBUTES["event_type"] == {"DataType": "String",
                                                "StringValue": "book.created"}


# ------------------------------------------------------------------ rate limiter
def test_rate_limiter_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(10, capacity=10, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire(10)
    # 50 tokens at 10/s with 10 up front: 4 s of waiting.
    assert clock.now == pytest.approx(4.0)


def test_rate_limiter_reserves_in_arrival_order_across_threads() -> None:
    clock = FakeClock(0.0)
    waits: list[float] = []
    limiter = RateLimiter(10, capacity=10, clock=clock, sleep=waits.append)
    threads = [threading.Thread(target=limiter.acquire, args=(10,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # At a frozen clock, four callers of 10 tokens at 10/s wait 0, 1, 2 and 3 s.
    assert sorted(waits) == pytest.approx([1.0, 2.0, 3.0])


def test_rate_limiter_refills_with_time() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(2, capacity=2, clock=clock, sleep=clock.sleep)
    limiter.acquire(2)
    clock.now += 1.0
    assert limiter.acquire(2) == 0  # one second refilled two tokens


def test_publish_respects_the_rate_over_a_run() -> None:
    clock = FakeClock(0.0)
    sns = FakeSns()
    outcome = publish_messages(sns, "arn", msgs(100), PublishOptions(concurrency=1, rate=50),
                               monotonic=clock, clock=clock, sleep=clock.sleep)
    assert len(outcome.sent) == 100
    # 100 events at 50/s with a burst of one batch (10): 1.8 s of (fake) time.
    assert clock.now == pytest.approx(1.8)
    # Each batch was sent no earlier than the rate allows.
    sent_at = [s.published_at for s in outcome.sent[::10]]
    assert sent_at == pytest.approx([0.2 * i for i in range(10)])


def test_a_slow_rate_sends_smaller_batches() -> None:
    assert PublishOptions(rate=3).batch_size == 3
    assert PublishOptions(rate=0.5).batch_size == 1
    assert PublishOptions(rate=100).batch_size == 10


# -------------------------------------------------------------------- retries
def test_retryable_entry_failures_are_retried_then_succeed() -> None:
    sns = FakeSns(fail={'{"n":3}': [("InternalError", False), ("Throttled", True)]})
    clock = FakeClock(0.0)
    messages = [Message(i, f'{{"n":{i}}}') for i in range(5)]
    outcome = publish_messages(sns, "arn", messages, PublishOptions(concurrency=1),
                               sleep=clock.sleep, rng=lambda: 1.0)
    assert len(outcome.sent) == 5 and not outcome.failed
    assert [len(c) for c in sns.calls] == [5, 1, 1]  # only the failed entry is resent
    assert clock.sleeps == [0.2, 0.4]  # exponential backoff (jitter pinned to its maximum)


def test_entries_failing_every_attempt_are_kept_with_their_error() -> None:
    bad = '{"n":"bad"}'
    sns = FakeSns(fail={bad: [("InternalError", False)] * 10})
    outcome = publish_messages(sns, "arn", [Message(0, bad), *msgs(3)[1:]],
                               PublishOptions(concurrency=1, max_attempts=3),
                               sleep=lambda s: None)
    assert len(outcome.sent) == 2
    [failure] = outcome.failed
    assert (failure.code, failure.attempts, failure.message.body) == ("InternalError", 3, bad)


def test_sender_fault_entries_are_not_retried() -> None:
    bad = '{"n":"bad"}'
    sns = FakeSns(fail={bad: [("InvalidParameter", True)]})
    outcome = publish_messages(sns, "arn", [Message(0, bad)], PublishOptions(concurrency=1),
                               sleep=lambda s: None)
    assert len(sns.calls) == 1
    assert [(f.code, f.attempts) for f in outcome.failed] == [("InvalidParameter", 1)]


def test_a_fatal_call_error_stops_the_run_and_says_where_to_resume() -> None:
    sns = FakeSns(raise_on_call=client_error("AuthorizationError", 403))
    built: list[int] = []

    def lazily(n: int) -> Any:  # counts what the publisher pulled from the input
        for m in msgs(n):
            built.append(m.seq)
            yield m

    outcome = publish_messages(sns, "arn", lazily(1000), PublishOptions(concurrency=3),
                               sleep=lambda s: None)
    assert outcome.aborted is not None and outcome.stopped and not outcome.sent
    assert len(sns.calls) <= 3  # each worker stops after at most one call
    # only what was attempted is a failure; the rest was never built
    assert [f.message.seq for f in outcome.failed] == list(range(outcome.taken))
    assert outcome.taken == 10 * len(sns.calls) and len(built) <= outcome.taken + 1


def test_a_refused_connection_stops_the_run_at_once() -> None:
    from botocore.exceptions import EndpointConnectionError

    sns = FakeSns(raise_on_call=EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"))
    outcome = publish_messages(sns, "arn", msgs(100), PublishOptions(concurrency=1),
                               sleep=lambda s: pytest.fail("no retry after a refused connection"))
    assert outcome.aborted is not None and "is the local emulator running" in str(outcome.aborted)
    assert len(sns.calls) == 1 and outcome.taken == 10


def test_a_server_error_on_the_call_is_retried() -> None:
    class Flaky(FakeSns):
        def publish_batch(self, **kw: Any) -> dict[str, Any]:
            if not self.calls:
                self.calls.append(kw["PublishBatchRequestEntries"])
                raise client_error("InternalFailure", 500)
            return super().publish_batch(**kw)

    outcome = publish_messages(Flaky(), "arn", msgs(3), PublishOptions(concurrency=1),
                               sleep=lambda s: None)
    assert len(outcome.sent) == 3 and outcome.aborted is None


def test_results_come_back_in_input_order_from_many_threads() -> None:
    outcome = publish_messages(FakeSns(), "arn", msgs(95), PublishOptions(concurrency=8))
    assert [s.message.seq for s in outcome.sent] == list(range(95))
    assert len({s.message_id for s in outcome.sent}) == 95


def test_progress_counts_every_message_once() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def advance(n: int) -> None:
        with lock:
            seen.append(n)

    bad = '{"n":"bad"}'
    publish_messages(FakeSns(fail={bad: [("InvalidParameter", True)]}), "arn",
                     [*msgs(20), Message(20, bad)], PublishOptions(concurrency=4),
                     on_progress=advance)
    assert sum(seen) == 21


def test_publish_time_is_taken_before_the_request() -> None:
    times = iter([100.0, 200.0])
    outcome = publish_messages(FakeSns(), "arn", msgs(15), PublishOptions(concurrency=1),
                               clock=lambda: next(times))
    assert [s.published_at for s in outcome.sent] == [100.0] * 10 + [200.0] * 5


def test_backoff_is_capped_full_jitter() -> None:
    assert backoff_delay(1, 0.2, 5.0, lambda: 1.0) == pytest.approx(0.2)
    assert backoff_delay(10, 0.2, 5.0, lambda: 1.0) == 5.0
    assert backoff_delay(3, 0.2, 5.0, lambda: 0.0) == 0.0
