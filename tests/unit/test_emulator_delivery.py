"""The async dispatcher's retry, age and destination rules, with a fake runtime."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from notifyctl.emulator.delivery import (
    AsyncConfig,
    AsyncEvent,
    Dispatcher,
    FunctionNotFound,
    Target,
    lane_of,
)
from notifyctl.emulator.runtime.pool import FunctionSpec, Invocation, Throttled

pytestmark = pytest.mark.unit

SPEC = FunctionSpec("123456789012", "us-east-1", "fn", "$LATEST",
                    "arn:aws:lambda:us-east-1:123456789012:function:fn", "app.handler",
                    "python3.11", 128, 3, (), "sha")


class FakeRuntime:
    max_environments = 2

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.calls: list[str] = []

    def invoke(self, spec: FunctionSpec, payload: str, **kwargs: Any) -> Invocation:
        self.calls.append(kwargs["request_id"])
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "throttle":
            raise Throttled("busy")
        ok = outcome == "ok"
        return Invocation(kwargs["request_id"], b'{"r": 1}', None if ok else "Unhandled",
                          "$LATEST", 1.0)


class FakeBackend:
    def __init__(self, config: AsyncConfig, missing: int = 0, allowed: bool = True,
                 spec: FunctionSpec = SPEC) -> None:
        self.config = config
        self.spec = spec
        self.dead_letters: list[tuple[str, str, dict[str, str]]] = []
        self.allowed = allowed
        self.permission_checks: list[tuple[str, str | None]] = []
        self.missing = missing  # resolve fails this many times first
        self.resolves = 0
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.done = threading.Event()

    def resolve(self, account_id: str, region: str, function: str,
                qualifier: str | None = None) -> Target:
        self.resolves += 1
        if self.resolves <= self.missing:
            raise FunctionNotFound(function)
        return Target(self.spec, self.spec.arn, None)

    def may_invoke(self, account_id: str, region: str, function: str, *, principal: str,
                   source_arn: str | None) -> bool:
        self.permission_checks.append((principal, source_arn))
        return self.allowed

    def async_config(self, account_id: str, region: str, function_name: str) -> AsyncConfig:
        return self.config

    def send_to_destination(self, account_id: str, region: str, arn: str,
                            record: dict[str, Any]) -> None:
        self.sent.append((arn, record))
        self.done.set()

    def send_to_dead_letter(self, account_id: str, region: str, arn: str, payload: str,
                            attributes: dict[str, str]) -> None:
        self.dead_letters.append((arn, payload, attributes))
        self.done.set()


def run(runtime: FakeRuntime, backend: FakeBackend, event: AsyncEvent,
        clock: Any = None) -> Dispatcher:
    # No waiting between retries; event ages at AWS scale (never reached here).
    dispatcher = Dispatcher(runtime, backend, retry_scale=0.0, age_scale=1.0,  # type: ignore[arg-type]
                            threads=1, **({"clock": clock} if clock else {}))
    dispatcher.submit(event)
    return dispatcher


def wait_idle(dispatcher: Dispatcher) -> None:
    done = threading.Event()
    for _ in range(2000):
        if dispatcher.idle():
            done.set()
            break
        done.wait(0.005)
    dispatcher.close()
    assert done.is_set(), "the dispatcher did not drain"


def event(**kwargs: Any) -> AsyncEvent:
    return AsyncEvent("123456789012", "us-east-1", "fn", '{"x": 1}', **kwargs)


def test_a_failing_event_is_retried_then_sent_to_the_failure_destination() -> None:
    runtime = FakeRuntime(["error", "error", "error"])
    backend = FakeBackend(AsyncConfig(max_retries=2, on_failure="arn:aws:sqs:q"))

    dispatcher = run(runtime, backend, event(request_id="r1"))
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert runtime.calls == ["r1", "r1", "r1"]
    ((arn, record),) = backend.sent
    assert arn == "arn:aws:sqs:q"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == SPEC.arn + ":$LATEST"


def test_a_retry_that_succeeds_sends_nothing_to_the_failure_destination() -> None:
    runtime = FakeRuntime(["error", "ok"])
    backend = FakeBackend(AsyncConfig(max_retries=2, on_failure="arn:aws:sqs:q"))

    dispatcher = run(runtime, backend, event())
    wait_idle(dispatcher)

    assert len(runtime.calls) == 2
    assert backend.sent == []
    assert dispatcher.snapshot()["succeeded"] == 1


def test_zero_retries_means_one_attempt() -> None:
    runtime = FakeRuntime(["error", "error"])
    backend = FakeBackend(AsyncConfig(max_retries=0, on_failure="arn:aws:sqs:q"))

    dispatcher = run(runtime, backend, event())
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert len(runtime.calls) == 1


def test_an_event_past_its_maximum_age_is_not_retried() -> None:
    now = [1000.0]
    runtime = FakeRuntime(["error", "error"])
    backend = FakeBackend(AsyncConfig(max_retries=2, max_event_age_s=60,
                                      on_failure="arn:aws:sqs:q"))

    class AgingRuntime(FakeRuntime):
        def invoke(self, spec: FunctionSpec, payload: str, **kwargs: Any) -> Invocation:
            now[0] += 61  # the attempt (plus waiting) outlives the maximum age
            return super().invoke(spec, payload, **kwargs)

    aging = AgingRuntime(["error", "error"])
    dispatcher = Dispatcher(aging, backend, retry_scale=0.0, age_scale=1.0,  # type: ignore[arg-type]
                            threads=1, clock=lambda: now[0])
    dispatcher.submit(event(received=1000.0))
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert len(aging.calls) == 1
    assert backend.sent[0][1]["requestContext"]["condition"] == "EventAgeExceeded"
    assert runtime.calls == []


def test_a_missing_function_behind_sns_is_dropped_without_retries() -> None:
    runtime = FakeRuntime([])
    backend = FakeBackend(AsyncConfig(), missing=10_000)

    dispatcher = run(runtime, backend, event(source="sns"))
    wait_idle(dispatcher)

    assert backend.resolves == 1  # a client-side error: SNS does not retry
    assert runtime.calls == []
    assert dispatcher.snapshot()["sns_failed"] == 1


def test_sns_needs_the_function_policy_to_allow_it() -> None:
    runtime = FakeRuntime([])
    backend = FakeBackend(AsyncConfig(), allowed=False)

    dispatcher = run(runtime, backend, event(source="sns", topic_arn="arn:aws:sns:t"))
    wait_idle(dispatcher)

    assert backend.permission_checks == [("sns.amazonaws.com", "arn:aws:sns:t")]
    assert runtime.calls == []
    assert dispatcher.snapshot()["sns_failed"] == 1


def test_direct_async_invokes_need_no_resource_policy() -> None:
    runtime = FakeRuntime(["ok"])
    backend = FakeBackend(AsyncConfig(), allowed=False)

    dispatcher = run(runtime, backend, event())
    wait_idle(dispatcher)

    assert backend.permission_checks == []
    assert len(runtime.calls) == 1


def test_throttled_attempts_are_requeued_and_not_counted() -> None:
    runtime = FakeRuntime(["throttle", "throttle", "error"])
    backend = FakeBackend(AsyncConfig(max_retries=0, on_failure="arn:aws:sqs:q"))

    dispatcher = run(runtime, backend, event())
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert backend.sent[0][1]["requestContext"]["approximateInvokeCount"] == 1
    assert dispatcher.snapshot()["throttled"] == 2


def test_reserved_concurrency_zero_gives_up_at_once_without_retries() -> None:
    spec = FunctionSpec(**{**SPEC.__dict__, "reserved_concurrency": 0})
    runtime = FakeRuntime(["throttle", "ok"])
    backend = FakeBackend(AsyncConfig(max_retries=2, on_failure="arn:aws:sqs:q",
                                      dead_letter="arn:aws:sqs:dlq"), spec=spec)

    dispatcher = run(runtime, backend, event(request_id="r0"))
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert runtime.calls == ["r0"]  # one throttled attempt, never re-queued
    ((_, record),) = backend.sent
    assert record["requestContext"]["approximateInvokeCount"] == 0
    ((dlq, payload, attributes),) = backend.dead_letters
    assert (dlq, payload) == ("arn:aws:sqs:dlq", '{"x": 1}')
    assert attributes["RequestID"] == "r0" and attributes["ErrorCode"] == "429"


def test_after_its_retries_the_dead_letter_queue_gets_the_original_event() -> None:
    runtime = FakeRuntime(["error", "error"])
    backend = FakeBackend(AsyncConfig(max_retries=1, dead_letter="arn:aws:sns:dlq"))

    dispatcher = run(runtime, backend, event(request_id="r2"))
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert runtime.calls == ["r2", "r2"]
    assert backend.sent == []
    ((arn, payload, attributes),) = backend.dead_letters
    assert (arn, payload) == ("arn:aws:sns:dlq", '{"x": 1}')
    assert attributes == {"RequestID": "r2", "ErrorCode": "200", "ErrorMessage": '{"r": 1}'}


def test_an_sns_delivery_refused_by_the_policy_goes_to_the_subscription_dlq() -> None:
    runtime = FakeRuntime([])
    backend = FakeBackend(AsyncConfig(), allowed=False)
    sns_event = AsyncEvent("123456789012", "us-east-1", "fn",
                           '{"Records": [{"Sns": {"MessageId": "m1", "Message": "hi"}}]}',
                           source="sns", topic_arn="arn:aws:sns:t",
                           sns_dead_letter="arn:aws:sqs:sub-dlq")

    dispatcher = run(runtime, backend, sns_event)
    assert backend.done.wait(5)
    wait_idle(dispatcher)

    assert runtime.calls == []
    assert backend.dead_letters == [("arn:aws:sqs:sub-dlq",
                                     '{"MessageId": "m1", "Message": "hi"}', {})]


class GatedRuntime(FakeRuntime):
    """Function `busy` blocks until released; any other function runs at once."""

    def __init__(self) -> None:
        super().__init__([])
        self.release = threading.Event()
        self.ran: list[str] = []

    def invoke(self, spec: FunctionSpec, payload: str, **kwargs: Any) -> Invocation:
        if spec.name == "busy":
            assert self.release.wait(10)
        self.ran.append(spec.name)
        return Invocation(kwargs["request_id"], b"{}", None, "$LATEST", 1.0)


class ByName(FakeBackend):
    def resolve(self, account_id: str, region: str, function: str,
                qualifier: str | None = None) -> Target:
        name = lane_of(AsyncEvent(account_id, region, function, "{}"))[2]
        spec = FunctionSpec(account_id, region, name, "$LATEST",
                            f"arn:aws:lambda:{region}:{account_id}:function:{name}",
                            "app.handler", "python3.11", 128, 3, (), "sha")
        return Target(spec, spec.arn, None)


def test_one_functions_backlog_never_delays_another_functions_events() -> None:
    runtime = GatedRuntime()
    dispatcher = Dispatcher(runtime, ByName(AsyncConfig()), retry_scale=0.0,  # type: ignore[arg-type]
                            threads=1)
    try:
        for _ in range(5):  # a backlog for `busy`; its one thread is stuck on the first
            dispatcher.submit(AsyncEvent("123456789012", "us-east-1", "busy", "{}"))
        dispatcher.submit(AsyncEvent("123456789012", "us-east-1",
                                     "arn:aws:lambda:us-east-1:123456789012:function:other:live",
                                     "{}"))
        for _ in range(2000):  # Lambda keeps one queue per function: `other` runs now
            if "other" in runtime.ran:
                break
            threading.Event().wait(0.005)
        assert runtime.ran == ["other"]
        assert dispatcher.snapshot()["pending"] == 4  # busy's backlog, still queued
    finally:
        runtime.release.set()
    wait_idle(dispatcher)
    assert runtime.ran.count("busy") == 5


def test_the_queue_of_an_event_is_its_function_whatever_the_qualifier_or_arn() -> None:
    arn = "arn:aws:lambda:eu-west-1:210987654321:function:fn"
    assert lane_of(AsyncEvent("123456789012", "us-east-1", "fn", "{}")) == (
        "123456789012", "us-east-1", "fn")
    assert lane_of(AsyncEvent("123456789012", "us-east-1", "fn:live", "{}")) == (
        "123456789012", "us-east-1", "fn")
    assert lane_of(AsyncEvent("123456789012", "us-east-1", arn + ":7", "{}")) == (
        "210987654321", "eu-west-1", "fn")


def test_a_functions_threads_end_when_its_queue_stays_empty_and_come_back_with_work(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.emulator import delivery

    monkeypatch.setattr(delivery, "LANE_IDLE_S", 0.05)
    runtime = GatedRuntime()
    runtime.release.set()
    dispatcher = Dispatcher(runtime, ByName(AsyncConfig()), retry_scale=0.0,  # type: ignore[arg-type]
                            threads=3)

    def lane_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name == "async-quiet"]

    try:
        for _ in range(3):
            dispatcher.submit(AsyncEvent("123456789012", "us-east-1", "quiet", "{}"))
        for _ in range(2000):  # all three delivered, then the idle threads end
            if runtime.ran.count("quiet") == 3 and not lane_threads():
                break
            threading.Event().wait(0.005)
        assert runtime.ran.count("quiet") == 3 and lane_threads() == []

        dispatcher.submit(AsyncEvent("123456789012", "us-east-1", "quiet", "{}"))
        for _ in range(2000):
            if runtime.ran.count("quiet") == 4:
                break
            threading.Event().wait(0.005)
        assert runtime.ran.count("quiet") == 4
    finally:
        dispatcher.close()
