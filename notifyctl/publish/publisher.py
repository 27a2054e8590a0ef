"""Concurrent SNS PublishBatch with a rate ceiling, per-entry checks and retries.

    messages ──batches(≤10 entries, ≤256 KiB)──> shared iterator (locked)
                                                   │   │   │
                                        worker 1 … worker N (threads, one shared client)
                                                   │
                              RateLimiter.acquire(len(batch)) → publish_batch
                                                   │
             Successful → Sent(message id, client publish time)
             Failed (HTTP 200!) → retryable? (server fault / throttling)
                 yes → sleep(full-jitter backoff) and resend only those entries
                 no, or attempts exhausted → Failure (the caller writes it to --failed-out)

A whole-call error that will repeat for every batch (topic gone, access denied, bad
credentials, an endpoint that refuses connections after botocore's retries) stops all
workers, as Ctrl-C does. Then only what was attempted is an outcome (sent or a
Failure); the rest of the input is never read nor built (a synthetic load of 10^8
events must not be materialised to be thrown away). `taken` and `last_line` say where
to resume: every message before that point was attempted.

botocore itself retries whole-call throttling and 5xx (the client's retry config);
entry failures inside a 200 response are ours to retry.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from notifyctl.errors import NotifyctlError

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024  # per message and per batch
EVENT_TYPE = "book.created"
MESSAGE_ATTRIBUTES = {"event_type": {"DataType": "String", "StringValue": EVENT_TYPE}}
# SNS counts attribute names, types and values in the message size.
ATTRIBUTES_SIZE = len("event_type") + len("String") + len(EVENT_TYPE)

# Entry or call error codes worth another try even when SNS calls them sender faults.
RETRYABLE_CODES = frozenset({
    "Throttling", "Throttled", "ThrottlingException", "ThrottledException",
    "TooManyRequestsException", "KMSThrottling", "KMSThrottlingException",
    "InternalError", "InternalFailure", "InternalErrorException", "ServiceUnavailable",
    "RequestTimeout", "RequestTimeoutException",
})
# Whole-call errors that concern only the batch at hand (our request was malformed);
# any other non-retryable call error would repeat for every batch and stops the run.
BATCH_ONLY_CODES = frozenset({
    "BatchRequestTooLong", "InvalidParameter", "InvalidParameterValue",
    "TooManyEntriesInBatchRequest", "BatchEntryIdsNotDistinct", "EmptyBatchRequest",
    "InvalidBatchEntryId", "ValidationError",
})


@dataclass(frozen=True, slots=True)
class Message:
    """One SNS message to send: its body (JSON, serialised once), where it came from,
    and the event's producer id (the function de-duplicates on it: a PublishBatch that
    botocore re-sends after a lost response gets new MessageIds, never a second email)."""

    seq: int
    body: str
    line: int | None = None
    event_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.body.encode("utf-8")) + ATTRIBUTES_SIZE


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    message_id: str
    published_at: float  # epoch seconds on the client, taken just before the request

    @property
    def dedup_key(self) -> str:
        """The key of the function's record of this event (what `--wait` follows)."""
        from book_notifier.contract import dedup_key

        return dedup_key(self.message.event_id, self.message_id)


@dataclass(frozen=True, slots=True)
class Failure:
    message: Message
    code: str
    reason: str
    attempts: int


@dataclass
class PublishOutcome:
    sent: list[Sent] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    elapsed_s: float = 0.0
    # Set when a whole-call error stopped the run (the rest is in `failed`).
    aborted: NotifyctlError | None = None
    interrupted: bool = False
    # How many messages were handed to the workers (each attempted), in input order,
    # and the input line of the last one (file input): the resume point of a stopped run.
    taken: int = 0
    last_line: int | None = None

    @property
    def stopped(self) -> bool:
        """Ctrl-C or a fatal error ended the run before the input was exhausted."""
        return self.interrupted or self.aborted is not None

    def ordered(self) -> None:
        """Sort both lists by input order (threads finish out of order)."""
        self.sent.sort(key=lambda s: s.message.seq)
        self.failed.sort(key=lambda f: f.message.seq)


@dataclass(frozen=True)
class PublishOptions:
    concurrency: int = 8
    rate: float | None = None  # events per second, None: as fast as SNS takes them
    max_attempts: int = 5  # per entry, the first send included
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    @property
    def batch_size(self) -> int:
        # Below 10 events/s, smaller batches keep the flow smooth instead of one
        # burst of 10 followed by a long pause.
        if self.rate is not None and self.rate < MAX_BATCH_ENTRIES:
            return max(1, int(self.rate))
        return MAX_BATCH_ENTRIES


class RateLimiter:
    """Token bucket, thread-safe: `rate` tokens per second, bursts up to `capacity`.

    A caller reserves its tokens under the lock (the balance may go negative) and
    sleeps outside it for as long as the debt takes to repay, so waiting callers are
    served in arrival order and never oversubscribe the rate.
    """

    def __init__(self, rate: float, capacity: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, n: int = 1) -> float:
        """Take n tokens, sleeping if needed; returns the time slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


def batches(messages: Iterable[Message], max_entries: int = MAX_BATCH_ENTRIES,
            max_bytes: int = MAX_BATCH_BYTES) -> Iterator[list[Message]]:
    """Group messages into PublishBatch requests: ≤ max_entries and ≤ max_bytes each.

    A message larger than max_bytes alone goes in a batch of its own (the
    publisher fails it without sending)."""
    batch: list[Message] = []
    size = 0
    for message in messages:
        msize = message.size
        if batch and (len(batch) >= max_entries or size + msize > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += msize
    if batch:
        yield batch


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return rng() * min(cap, base * (2 ** (attempt - 1)))


class _Run:
    """State shared by the worker threads of one publish run."""

    def __init__(self, sns: Any, topic_arn: str, messages: Iterable[Message],
                 options: PublishOptions, on_progress: Callable[[int], None] | None,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 rng: Callable[[], float], limiter: RateLimiter | None) -> None:
        self.sns = sns
        self.topic_arn = topic_arn
        self.options = options
        self.on_progress = on_progress
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.limiter = limiter
        self.outcome = PublishOutcome()
        self._batches = batches(messages, options.batch_size)
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.crash: BaseException | None = None

    def next_batch(self) -> list[Message] | None:
        with self._lock:
            if self.stop.is_set():
                return None
            batch = next(self._batches, None)
            if batch:
                self.outcome.taken += len(batch)
                if batch[-1].line is not None:
                    self.outcome.last_line = batch[-1].line
            return batch

    def worker(self) -> None:
        try:
            while (batch := self.next_batch()) is not None:
                self.send(batch)
        except BaseException as exc:  # surfaced by the main thread
            self.crash = exc
            self.stop.set()

    def _done(self, n: int) -> None:
        if self.on_progress is not None and n:
            self.on_progress(n)

    def _fail(self, messages: Iterable[Message], code: str, reason: str, attempts: int) -> None:
        failures = [Failure(m, code, reason, attempts) for m in messages]
        self.outcome.failed.extend(failures)
        self._done(len(failures))

    def send(self, batch: list[Message]) -> None:
        try:
            self._send(batch)
        except KeyboardInterrupt:
            # Ctrl-C inside the call: SNS may or may not have taken these; they were
            # attempted, so they are kept (resending may duplicate; the function's
            # de-dup is by MessageId, so a resend is a new message).
            done = {s.message.seq for s in self.outcome.sent}
            done.update(f.message.seq for f in self.outcome.failed)
            self.outcome.failed.extend(
                Failure(m, "Interrupted", "Ctrl-C during the call: outcome unknown", 1)
                for m in batch if m.seq not in done)
            raise

    def _send(self, batch: list[Message]) -> None:
        if len(batch) == 1 and batch[0].size > MAX_BATCH_BYTES:
            self._fail(batch, "MessageTooLarge",
                       f"{batch[0].size} bytes; SNS takes at most {MAX_BATCH_BYTES}", 0)
            return
        pending = batch
        attempt = 0
        while pending:
            attempt += 1
            if self.limiter is not None:
                self.limiter.acquire(len(pending))
            published_at = self.clock()
            entries = [{"Id": str(i), "Message": m.body, "MessageAttributes": MESSAGE_ATTRIBUTES}
                       for i, m in enumerate(pending)]
            # index -> (code, reason, retryable)
            errors: dict[int, tuple[str, str, bool]] = {}
            try:
                response = self.sns.publish_batch(TopicArn=self.topic_arn,
                                                  PublishBatchRequestEntries=entries)
            except Exception as exc:
                code, reason, retryable, fatal = _classify_call_error(exc)
                if fatal is not None:
                    self._fail(pending, code, reason, attempt)
                    if not self.stop.is_set():
                        self.outcome.aborted = fatal
                        self.stop.set()
                    return
                errors = {i: (code, reason, retryable) for i in range(len(pending))}
            else:
                sent = 0
                for ok in response.get("Successful", ()):
                    self.outcome.sent.append(
                        Sent(pending[int(ok["Id"])], ok["MessageId"], published_at))
                    sent += 1
                self._done(sent)
                for bad in response.get("Failed", ()):
                    code = str(bad.get("Code", "Unknown"))
                    retryable = (not bad.get("SenderFault", False)) or code in RETRYABLE_CODES
                    errors[int(bad["Id"])] = (code, str(bad.get("Message", code)), retryable)
                if sent + len(errors) < len(pending):  # an entry in neither list
                    answered = {int(x["Id"]) for x in response.get("Successful", ())}
                    for i in range(len(pending)):
                        if i not in answered and i not in errors:
                            errors[i] = ("NoResult", "no result for this entry", True)
            retry: list[Message] = []
            for i, (code, reason, retryable) in sorted(errors.items()):
                if retryable and attempt < self.options.max_attempts and not self.stop.is_set():
                    retry.append(pending[i])
                else:
                    self._fail([pending[i]], code, reason, attempt)
            if retry:
                self.sleep(backoff_delay(attempt, self.options.base_delay_s,
                                         self.options.max_delay_s, self.rng))
            pending = retry


def _classify_call_error(exc: Exception) -> tuple[str, str, bool, NotifyctlError | None]:
    """(code, reason, retryable, fatal error or None) for an exception from publish_batch."""
    from botocore.exceptions import BotoCoreError, ClientError

    from notifyctl.aws.errors import error_code, translate

    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        reason = str(exc.response.get("Error", {}).get("Message") or code)
        if code in RETRYABLE_CODES or (isinstance(status, int) and status >= 500):
            return code, reason, True, None
        if code in BATCH_ONLY_CODES:
            return code, reason, False, None
        fatal = translate(exc)
        if code == "NotFound":
            from notifyctl.errors import OperationError

            fatal = OperationError(f"The topic does not exist: {reason}",
                                   hint="Run `notifyctl bootstrap` for this environment.")
        return code, reason, False, fatal
    if isinstance(exc, BotoCoreError):
        from botocore.exceptions import EndpointConnectionError

        if isinstance(exc, EndpointConnectionError):
            # Refused or unresolvable after botocore's own retries (an emulator that
            # died, a wrong endpoint): every other batch would wait the same way.
            url = getattr(exc, "kwargs", {}).get("endpoint_url")
            return type(exc).__name__, str(exc), False, translate(exc, url)
        # Connection reset or timeout after botocore's own retries: worth another try.
        return type(exc).__name__, str(exc), True, None
    raise exc


def publish_messages(
    sns: Any,
    topic_arn: str,
    messages: Iterable[Message],
    options: PublishOptions | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    limiter: RateLimiter | None = None,
) -> PublishOutcome:
    """Publish every message; nothing raises for a failed entry (see the outcome).

    `sns` is one boto3 SNS client shared by all threads (boto3 clients are
    thread-safe). `clock` stamps publish times (epoch seconds), `monotonic` times
    the run and drives the rate limiter unless one is passed.
    """
    options = options or PublishOptions()
    if limiter is None and options.rate is not None:
        limiter = RateLimiter(options.rate, capacity=options.batch_size,
                              clock=monotonic, sleep=sleep)
    run = _Run(sns, topic_arn, messages, options, on_progress, clock, sleep, rng, limiter)
    started = monotonic()
    if options.concurrency <= 1:
        run.worker()
    else:
        threads = [threading.Thread(target=run.worker, name=f"publish-{i}", daemon=True)
                   for i in range(options.concurrency)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except KeyboardInterrupt:
            run.stop.set()
            run.outcome.interrupted = True
            for t in threads:
                t.join()
    if run.crash is not None:
        if isinstance(run.crash, KeyboardInterrupt):
            run.outcome.interrupted = True
        else:
            raise run.crash
    run.outcome.elapsed_s = monotonic() - started
    run.outcome.ordered()
    return run.outcome
