"""Asynchronous invocation: what Lambda's event queue and SNS's delivery do.

SNS Publish and Invoke(InvocationType=Event) only enqueue; dispatcher threads
run the events through the runtime.

  SNS -> Lambda service
      The function is missing, or its resource policy does not let SNS invoke it
      from this topic: a client-side error, which SNS does not retry (AWS docs,
      "Amazon SNS message delivery retries"); the emulator logs the drop. Set
      NOTIFYCTL_EMULATOR_CHECK_PERMISSIONS=false to skip the policy check.
  Lambda event queue -> the function (the function failed)
      MaximumRetryAttempts (default 2) retries, ~1 min then ~2 min apart,
      as long as the event is younger than MaximumEventAgeInSeconds (default
      6 h); then the on-failure destination gets an invocation record and the
      DeadLetterConfig queue/topic the original event (attributes RequestID,
      ErrorCode, ErrorMessage), both when both are set. The event invoke config
      is the one of exactly the qualifier invoked (unqualified: $LATEST's).
      Throttled attempts are re-queued (within the event age) and not counted;
      with reserved concurrency 0 the event goes straight to the on-failure
      destination / dead-letter queue, without retries (AWS: retain-records).

Every AWS duration here is multiplied by `retry_scale` (NOTIFYCTL_EMULATOR_RETRY_SCALE,
default 0.01: the 1-minute retry waits 0.6 s) so a laptop sees the whole
sequence in seconds; event ages are scaled the same way so the two stay consistent.

Retry timing keeps AWS's ORDER of events, not only its durations (retry_delay, the one
place the relation lives). A function runs in real time, and what it holds across a
crash is sized in real time too: book_notifier's de-dup lease lasts the attempt's
remaining time + 10 s. On AWS the first retry (60 s) comes after that lease has ended
(for a timeout under 50 s), so the retry takes the crashed attempt's claim over. A
scaled 0.6 s retry would meet the live lease, fail, and send the event to the failure
queue: an outcome AWS does not produce. So a retry after a CRASHED attempt (killed,
timed out: the function could not clean up) waits at least until the attempt's
timeout + LEASE_ALLOWANCE_S has passed, whenever AWS's own wait is at least that long;
a retry after an error the function raised (it released what it held) stays scaled::

    AWS        |attempt X|<-------------- 60 s -------------->|retry: lease over, takes over
    lease      |<-- timeout + 10 s -->|
    emulator   |attempt X|<-- max(0.6 s, timeout + 10 s - run + 1.5 s) -->|retry: same outcome

No moto here: the server passes a `Backend` (see backends.py) that resolves
functions, reads event invoke configs and sends destination records.
"""

from __future__ import annotations

import heapq
import itertools
import json
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifyctl.emulator.runtime.pool import FunctionSpec, Invocation, Runtime, Throttled

DEFAULT_RETRY_SCALE = 0.01
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_EVENT_AGE_S = 6 * 3600
LAMBDA_RETRY_DELAYS_S = (60.0, 120.0)  # before the 1st and 2nd retry
# What a crashed attempt may still hold beyond its timeout (book_notifier's de-dup lease
# margin, notifier.LEASE_MARGIN_S; a unit test keeps the two equal).
LEASE_ALLOWANCE_S = 10.0
# The function stores lease_until rounded UP to a whole second, and its claim comes a
# little after the attempt starts: without this the retry can land just inside the
# lease (seen as a rare failure of the worker-kill reliability test).
LEASE_ROUNDING_S = 1.5
# Error types of attempts that ended without the function's own error handling.
CRASH_ERROR_PREFIXES = ("Runtime.", "Sandbox.")
THROTTLE_DELAY_S = 1.0
REFUSED_KEPT = 20  # the last refused deliveries /_notifyctl/status shows
SNS_PRINCIPAL = "sns.amazonaws.com"


def retry_delay(aws_wait_s: float, *, retry_scale: float, timeout_s: float,
                attempt_s: float, crashed: bool) -> float:
    """How long the emulator waits before a retry (see the module docstring): AWS's
    wait times retry_scale, but after a crash never before the attempt's timeout +
    LEASE_ALLOWANCE_S has passed when AWS's wait covers that span too."""
    scaled = aws_wait_s * retry_scale
    held = timeout_s + LEASE_ALLOWANCE_S
    if not crashed or retry_scale >= 1 or aws_wait_s < held:
        return scaled
    return max(scaled, held - attempt_s + LEASE_ROUNDING_S)


def crashed(invocation: Invocation) -> bool:
    """The attempt ended without the function's own error handling (killed, timed out,
    out of memory, init failure)."""
    return (invocation.error_type or "").startswith(CRASH_ERROR_PREFIXES)


class FunctionNotFound(Exception):
    """The target function (or qualifier) does not exist."""


@dataclass(frozen=True)
class Target:
    """A resolved invocation target: what to run and how to report it."""

    spec: FunctionSpec
    invoked_arn: str  # the ARN the caller used, with its qualifier if any
    resource: str | None  # Resource metric dimension ("name:qualifier") or None


@dataclass(frozen=True)
class AsyncConfig:
    max_retries: int = DEFAULT_MAX_RETRIES
    max_event_age_s: float = DEFAULT_MAX_EVENT_AGE_S
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None
    dead_letter: str | None = None  # the function's DeadLetterConfig TargetArn


class Backend(Protocol):
    def resolve(self, account_id: str, region: str, function: str,
                qualifier: str | None = None) -> Target: ...
    def async_config(self, account_id: str, region: str, function: str) -> AsyncConfig: ...
    def send_to_destination(self, account_id: str, region: str, arn: str,
                            record: dict[str, Any]) -> None: ...
    def send_to_dead_letter(self, account_id: str, region: str, arn: str, payload: str,
                            attributes: dict[str, str]) -> None: ...
    def may_invoke(self, account_id: str, region: str, function: str, *, principal: str,
                   source_arn: str | None) -> bool: ...


@dataclass(frozen=True)
class Drained:
    """What `pause` left: events still queued, deliveries it waited for, and those still
    running when its time ran out."""

    queued: int
    finished: int
    unfinished: int


@dataclass(order=True)
class _Queued:
    due: float
    seq: int
    event: AsyncEvent = field(compare=False)


@dataclass
class AsyncEvent:
    account_id: str
    region: str
    function: str  # name or ARN, maybe qualified
    payload: str
    source: str = "invoke"  # "invoke" | "sns"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: float = field(default_factory=time.time)
    attempts: int = 0  # function invocations made
    topic_arn: str | None = None  # for SNS deliveries: the topic (the SourceArn)
    sns_dead_letter: str | None = None  # the subscription's RedrivePolicy deadLetterTargetArn
    last: Invocation | None = None
    last_target: Target | None = None


def iso_now(clock: Callable[[], float] = time.time) -> str:
    now = clock()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def destination_record(event: AsyncEvent, condition: str, function_arn: str,
                       clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """The invocation record Lambda sends to a destination (AWS's format)."""
    try:
        request_payload: Any = json.loads(event.payload)
    except ValueError:
        request_payload = event.payload
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_now(clock),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": request_payload,
    }
    if event.last is not None:
        response: dict[str, Any] = {"statusCode": 200,
                                    "executedVersion": event.last.executed_version}
        if event.last.function_error:
            response["functionError"] = event.last.function_error
        record["responseContext"] = response
        try:
            record["responsePayload"] = json.loads(event.last.payload or b"null")
        except ValueError:
            record["responsePayload"] = event.last.payload.decode("utf-8", "replace")
    return record


LANE_IDLE_S = 30.0  # a dispatcher thread with nothing queued for its function ends


def lane_of(event: AsyncEvent) -> tuple[str, str, str]:
    """The function whose event queue holds `event`: (account, region, bare name):
    a function's versions and aliases share it; other functions never wait behind it."""
    name = event.function
    if name.startswith("arn:"):
        parts = name.split(":")
        return parts[4], parts[3], parts[6]
    return event.account_id, event.region, name.split(":", 1)[0]


@dataclass
class _Lane:
    """One function's queue and the threads draining it: started as events arrive (up to
    the per-function count), ended after LANE_IDLE_S with nothing queued, so a long-lived
    emulator that saw many functions keeps no idle threads for them."""

    cond: threading.Condition
    heap: list[_Queued] = field(default_factory=list)
    threads: int = 0  # alive
    waiting: int = 0  # of those, waiting for an event to be due


class Dispatcher:
    """The event queues (one per function: each function's async processing scales on its
    own, so one function's backlog never delays another's) plus the threads that drain
    them: up to `threads` per function (default: the runtime's local cap per function).
    Thread-safe."""

    def __init__(self, runtime: Runtime, backend: Backend, *, retry_scale: float = DEFAULT_RETRY_SCALE,
                 age_scale: float | None = None, threads: int | None = None,
                 clock: Callable[[], float] = time.time,
                 on_started: Callable[[AsyncEvent], None] | None = None,
                 check_permissions: bool = True) -> None:
        self.runtime = runtime
        self.backend = backend
        self.retry_scale = retry_scale
        self.age_scale = retry_scale if age_scale is None else age_scale
        self._clock = clock
        self._on_started = on_started
        self.check_permissions = check_permissions
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # pause() waits on it
        self._lanes: dict[tuple[str, str, str], _Lane] = {}
        self._seq = itertools.count()
        self._closed = False
        self._paused = False  # stop(): no new deliveries start; the queue is kept
        self._running: dict[int, AsyncEvent] = {}  # by seq: the deliveries under way
        # The last deliveries SNS could not make (client-side errors), for status and the log.
        self.refused: deque[dict[str, Any]] = deque(maxlen=REFUSED_KEPT)
        self.stats = {"queued": 0, "in_flight": 0, "succeeded": 0, "failed": 0, "retries": 0,
                      "throttled": 0, "sns_failed": 0, "dropped": 0, "destinations": 0,
                      "dead_letters": 0}
        self._per_lane = threads or runtime.max_environments

    # -- public ----------------------------------------------------------------------
    def submit(self, event: AsyncEvent, delay_s: float = 0.0) -> None:
        """Queue an event (never raises on a missing function: that is checked at delivery)."""
        with self._lock:
            if event.attempts == 0:
                self.stats["queued"] += 1
            self._push(_Queued(time.monotonic() + delay_s, next(self._seq), event))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {**self.stats, "pending": self._queued()}

    def snapshot_refused(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.refused)

    def idle(self) -> bool:
        with self._lock:
            return not self._queued() and self.stats["in_flight"] == 0

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake_all()

    # -- persistence (emulator/state.py) -------------------------------------------------
    def pause(self, timeout: float, *, clock: Callable[[], float] = time.monotonic) -> Drained:
        """Start no more deliveries and wait up to `timeout` s for those under way."""
        deadline = clock() + timeout
        with self._cond:
            self._paused = True
            running = len(self._running)
            while self._running and clock() < deadline:
                self._cond.wait(min(0.05, max(deadline - clock(), 0.001)))
            return Drained(queued=self._queued(), finished=running - len(self._running),
                           unfinished=len(self._running))

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._wake_all()

    def saved_events(self) -> list[tuple[float, AsyncEvent]]:
        """(seconds until due, event) for every queued event and every delivery still under
        way (those run again after a restore: at least once, as Lambda's queue)."""
        now = time.monotonic()
        with self._lock:
            queued = sorted(q for lane in self._lanes.values() for q in lane.heap)
            return ([(0.0, e) for e in self._running.values()]
                    + [(max(0.0, q.due - now), q.event) for q in queued])

    def restore(self, saved: list[tuple[float, AsyncEvent]]) -> None:
        for delay, event in saved:
            with self._lock:
                self._push(_Queued(time.monotonic() + delay, next(self._seq), event))

    def clear(self) -> int:
        """`local reset`: forget every queued event (deliveries under way finish)."""
        with self._lock:
            dropped = self._queued()
            for lane in self._lanes.values():
                lane.heap.clear()
            self.refused.clear()
            for key in self.stats:
                if key != "in_flight":
                    self.stats[key] = 0
            return dropped

    # -- internals (callers hold self._lock) ---------------------------------------------
    def _queued(self) -> int:
        return sum(len(lane.heap) for lane in self._lanes.values())

    def _wake_all(self) -> None:
        self._cond.notify_all()
        for lane in self._lanes.values():
            lane.cond.notify_all()

    def _push(self, item: _Queued) -> None:
        key = lane_of(item.event)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(threading.Condition(self._lock))
        heapq.heappush(lane.heap, item)
        if lane.waiting == 0 and lane.threads < self._per_lane:
            lane.threads += 1
            threading.Thread(target=self._loop, args=(key, lane), daemon=True,
                             name=f"async-{key[2][:40]}").start()
        else:
            lane.cond.notify()

    def _loop(self, key: tuple[str, str, str], lane: _Lane) -> None:
        while True:
            with self._lock:
                idle_until = time.monotonic() + LANE_IDLE_S
                while not self._closed:
                    now = time.monotonic()
                    if not self._paused and lane.heap and lane.heap[0].due <= now:
                        break
                    if not lane.heap and not self._paused and now >= idle_until:
                        self._end_thread(key, lane)
                        return
                    if self._paused:
                        wait: float | None = None
                    elif lane.heap:
                        wait = lane.heap[0].due - now
                    else:
                        wait = idle_until - now
                    lane.waiting += 1
                    try:
                        lane.cond.wait(wait)
                    finally:
                        lane.waiting -= 1
                if self._closed:
                    self._end_thread(key, lane)
                    return
                item = heapq.heappop(lane.heap)
                self.stats["in_flight"] += 1
                self._running[item.seq] = item.event
            try:
                self._deliver(item.event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not kill the thread
                print(f"emulator: async delivery failed: {exc!r}", file=sys.stderr)
            finally:
                with self._lock:
                    self.stats["in_flight"] -= 1
                    self._running.pop(item.seq, None)
                    self._cond.notify_all()

    def _end_thread(self, key: tuple[str, str, str], lane: _Lane) -> None:
        lane.threads -= 1
        if lane.threads == 0 and not lane.heap and self._lanes.get(key) is lane:
            del self._lanes[key]

    def _count(self, key: str) -> None:
        with self._cond:
            self.stats[key] += 1

    def _scaled(self, seconds: float) -> float:
        return seconds * self.retry_scale

    def _max_age(self, config: AsyncConfig) -> float:
        return config.max_event_age_s * self.age_scale

    def _deliver(self, event: AsyncEvent) -> None:
        try:
            target = self.backend.resolve(event.account_id, event.region, event.function)
        except FunctionNotFound:
            self._not_delivered(event, "the function does not exist")
            return
        if (event.source == "sns" and event.attempts == 0 and self.check_permissions
                and not self.backend.may_invoke(event.account_id, event.region, event.function,
                                                principal=SNS_PRINCIPAL,
                                                source_arn=event.topic_arn)):
            self._not_delivered(event, f"its resource policy does not allow {SNS_PRINCIPAL} "
                                       f"to invoke it from {event.topic_arn} "
                                       f"(aws lambda add-permission)")
            return
        config = self.backend.async_config(event.account_id, event.region, target.invoked_arn)
        function_arn = target.invoked_arn if target.invoked_arn.count(":") >= 7 \
            else f"{target.invoked_arn}:$LATEST"
        age = self._clock() - event.received
        if event.attempts > 0 and age > self._max_age(config):
            self._give_up(event, config, "EventAgeExceeded", function_arn)
            return
        if self._on_started is not None:
            self._on_started(event)
        try:
            result = self.runtime.invoke(target.spec, event.payload, invoked_arn=target.invoked_arn,
                                         resource=target.resource, request_id=event.request_id)
        except Throttled:
            self._count("throttled")
            if target.spec.reserved_concurrency == 0:
                self._give_up(event, config, "RetriesExhausted", function_arn)
            elif age > self._max_age(config):
                self._give_up(event, config, "EventAgeExceeded", function_arn)
            else:
                self.submit(event, self._scaled(THROTTLE_DELAY_S))
            return
        event.attempts += 1
        event.last, event.last_target = result, target
        if result.ok:
            self._count("succeeded")
            if config.on_success:
                self._send(event, config.on_success,
                           destination_record(event, "Success", function_arn, self._clock))
            return
        if event.attempts <= config.max_retries:
            self._count("retries")
            delay = LAMBDA_RETRY_DELAYS_S[min(event.attempts - 1, len(LAMBDA_RETRY_DELAYS_S) - 1)]
            self.submit(event, retry_delay(delay, retry_scale=self.retry_scale,
                                           timeout_s=target.spec.timeout_s,
                                           attempt_s=result.duration_ms / 1000.0,
                                           crashed=crashed(result)))
            return
        self._give_up(event, config, "RetriesExhausted", function_arn)

    def _give_up(self, event: AsyncEvent, config: AsyncConfig, condition: str,
                 function_arn: str) -> None:
        self._count("failed")
        if config.dead_letter:
            self._send_dead_letter(event, config.dead_letter, condition)
        if config.on_failure:
            self._send(event, config.on_failure,
                       destination_record(event, condition, function_arn, self._clock))
        elif not config.dead_letter:
            self._count("dropped")
            print(f"emulator: event {event.request_id} for {event.function} dropped "
                  f"({condition}, {event.attempts} attempts)", file=sys.stderr)

    def _send(self, event: AsyncEvent, arn: str, record: dict[str, Any]) -> None:
        try:
            self.backend.send_to_destination(event.account_id, event.region, arn, record)
            self._count("destinations")
        except Exception as exc:  # noqa: BLE001 - AWS also drops a record it cannot deliver
            print(f"emulator: could not send to destination {arn}: {exc}", file=sys.stderr)

    def _send_dead_letter(self, event: AsyncEvent, arn: str, condition: str) -> None:
        """The original event, with the attributes Lambda adds (retain-records page)."""
        error = "Function was throttled" if event.last is None else \
            event.last.payload.decode("utf-8", "replace")
        attributes = {"RequestID": event.request_id,
                      "ErrorCode": "429" if event.last is None else "200",
                      "ErrorMessage": (error if condition == "RetriesExhausted"
                                       else f"{condition}: {error}")[:1024]}
        try:
            self.backend.send_to_dead_letter(event.account_id, event.region, arn, event.payload,
                                             attributes)
            self._count("dead_letters")
        except Exception as exc:  # noqa: BLE001 - AWS counts DeadLetterErrors and goes on
            print(f"emulator: could not send to dead-letter queue {arn}: {exc}", file=sys.stderr)

    def _not_delivered(self, event: AsyncEvent, why: str) -> None:
        """A client-side error SNS does not retry: the subscription's dead-letter queue
        (RedrivePolicy) gets the notification when it has one; otherwise it is dropped."""
        self._count("sns_failed" if event.source == "sns" else "dropped")
        who = "SNS" if event.source == "sns" else "Lambda"
        with self._cond:
            self.refused.append({"time": iso_now(self._clock), "source": event.source,
                                 "function": event.function, "topic": event.topic_arn,
                                 "reason": why, "request_id": event.request_id})
        if event.source == "sns" and event.sns_dead_letter:
            try:
                notification = json.dumps(json.loads(event.payload)["Records"][0]["Sns"])
                self.backend.send_to_dead_letter(event.account_id, event.region,
                                                 event.sns_dead_letter, notification, {})
                self._count("dead_letters")
                print(f"emulator: SNS could not invoke {event.function}: {why}; event "
                      f"{event.request_id} sent to {event.sns_dead_letter}", file=sys.stderr,
                      flush=True)
                return
            except Exception as exc:  # noqa: BLE001 - then it is dropped, as below
                why += f" (and its dead-letter queue failed: {exc})"
        print(f"emulator: {who} could not invoke {event.function}: {why}; "
              f"event {event.request_id} dropped", file=sys.stderr, flush=True)
