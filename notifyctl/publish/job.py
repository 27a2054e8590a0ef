"""`publish-book` as one library call: check the input, find the topic, publish,
keep what failed, optionally wait for the outcomes, and summarise.

    request ──validate (UsageError, exit 2, nothing sent)──> topic ARN (exists?)
            ──publish_messages──> failed-out file ──[--wait] wait_for_outcomes──> report
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from notifyctl.aws.calls import ClientFactory
from notifyctl.errors import OperationError, UsageError
from notifyctl.publish.events import EventFactory, InvalidLine, message, read_file
from notifyctl.publish.publisher import (
    Failure,
    Message,
    PublishOptions,
    PublishOutcome,
    publish_messages,
)
from notifyctl.publish.report import PublishReport
from notifyctl.publish.waiter import wait_for_outcomes

MAX_CONCURRENCY = 64


@dataclass(frozen=True)
class PublishRequest:
    """What to publish; None fields take the documented defaults."""

    count: int | None = None
    file: str | None = None
    email: str | None = None
    book_id: str | None = None
    title: str | None = None
    link: str | None = None
    rate: float | None = None
    concurrency: int = 8
    failed_out: str | None = None
    wait: bool = False
    timeout_s: float | None = None
    until: str | None = None  # with --wait: "sent" (default) or "delivered" (waiter.UNTIL)
    start_index: int | None = None  # with --count: resume a stopped run (events K..N-1)
    start_line: int | None = None  # with --file: resume a stopped run from this line

    def check(self) -> None:
        """Flag combinations (exit 2 before anything is sent)."""
        if self.count is not None and self.file is not None:
            raise UsageError("--count and --file: choose one")
        if self.email is not None and not self.email.strip():
            raise UsageError("--email: expected an address like jane@example.com, got ''",
                             hint="Leave --email out to use SES's mailbox simulator.")
        check_resume(self.count, self.file, self.start_index, self.start_line)
        if self.count is not None and self.count < 1:
            raise UsageError(f"--count: expected 1 or more, got {self.count}")
        if self.file is not None:
            given = [f for f, v in (("--email", self.email), ("--book-id", self.book_id),
                                    ("--title", self.title), ("--link", self.link)) if v]
            if given:
                raise UsageError(f"{given[0]}: not with --file (the file gives each event)")
        if (self.count or 1) > 1:
            for flag, value in (("--book-id", self.book_id), ("--link", self.link)):
                if value:
                    raise UsageError(f"{flag}: names one book; with --count each event gets "
                                     "a new book id and link")
        if self.rate is not None and not self.rate > 0:
            raise UsageError(f"--rate: expected events per second > 0, got {self.rate}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UsageError(f"--concurrency: expected 1 to {MAX_CONCURRENCY}, "
                             f"got {self.concurrency}")
        if self.until is not None:
            from notifyctl.publish.waiter import UNTIL

            if not self.wait:
                raise UsageError("--until: only with --wait")
            if self.until not in UNTIL:
                raise UsageError(f"--until: expected one of {', '.join(UNTIL)}, "
                                 f"got {self.until!r}")
        if self.timeout_s is not None:
            if not self.wait:
                raise UsageError("--timeout: only with --wait")
            if not self.timeout_s > 0:
                raise UsageError(f"--timeout: expected seconds > 0, got {self.timeout_s}")


def check_resume(count: int | None, file: str | None, start_index: int | None,
                 start_line: int | None) -> None:
    """--start-index goes with --count (0 <= K < N), --start-line with --file (>= 1)."""
    if start_index is not None:
        if count is None:
            raise UsageError("--start-index: only with --count (resume a synthetic load)")
        if not 0 <= start_index < count:
            raise UsageError(f"--start-index: expected 0 to {count - 1} (below --count), "
                             f"got {start_index}")
    if start_line is not None:
        if file is None:
            raise UsageError("--start-line: only with --file (resume a file)")
        if start_line < 1:
            raise UsageError(f"--start-line: expected a line number >= 1, got {start_line}")


def resume_command(request: PublishRequest,
                   outcome: PublishOutcome) -> tuple[str, int | None] | None:
    """For a run that stopped early: the flags that send what was never attempted, and
    how many that is (None when unknown: the rest of a file was not read); None when
    everything was attempted."""
    if request.file is not None:
        line = (outcome.last_line or (request.start_line or 1) - 1) + 1
        return f"--file {request.file} --start-line {line}", None
    count = request.count or 1
    start = (request.start_index or 0) + outcome.taken
    if start >= count:
        return None
    return f"--count {count} --start-index {start}", count - start


class ProgressSink(Protocol):
    """Where progress goes: `task(label, total)` returns an `advance(n)` callable."""

    def task(self, label: str, total: int | None) -> Callable[[int], None]: ...


def topic_arn_for(clients: ClientFactory, env: Any) -> str:
    """The environment's topic ARN, built from account, Region and partition (no write),
    and checked to exist where we are allowed to look."""
    from botocore.exceptions import ClientError

    from notifyctl.aws.calls import SNS_NOT_FOUND
    from notifyctl.aws.errors import error_code

    arn = f"arn:{clients.partition}:sns:{clients.region}:{clients.account_id}:{env.topic_name}"
    try:
        clients.client("sns").get_topic_attributes(TopicArn=arn)
    except ClientError as exc:
        code = error_code(exc)
        if code in SNS_NOT_FOUND:
            raise OperationError(
                f"The topic {env.topic_name!r} does not exist in {clients.region} "
                f"(environment {env.name!r}).",
                hint=f"Run `notifyctl --env {env.name} bootstrap` first.") from exc
        # A publisher role may hold sns:Publish only: then PublishBatch finds out.
        if code not in ("AuthorizationError", "AccessDenied", "AccessDeniedException"):
            raise
    return arn


def default_failed_out(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"notifyctl-failed-{stamp}.jsonl"


def write_failed_out(path: str, failures: list[Failure], invalid: list[InvalidLine]) -> None:
    """JSON lines, one per lost event: {"line", "event", "error"} (resendable with --file),
    or {"line", "raw", "error"} for a line that was not a valid event (resending reads
    `raw` again: fixed, it goes; unchanged, it is reported with its error)."""
    target = Path(path)  # its directory must exist (checked before publishing)
    rows: list[tuple[int, dict[str, Any]]] = []
    for bad in invalid:
        rows.append((bad.line, {"line": bad.line, "raw": bad.raw,
                                "error": {"code": "InvalidEvent", "message": bad.error}}))
    for f in failures:
        row: dict[str, Any] = {"event": json.loads(f.message.body),
                               "error": {"code": f.code, "message": f.reason,
                                         "attempts": f.attempts}}
        if f.message.line is not None:
            row = {"line": f.message.line, **row}
        rows.append((f.message.line or 0, row))
    rows.sort(key=lambda r: r[0])
    try:
        with target.open("w", encoding="utf-8") as fh:
            for _, row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise OperationError(f"--failed-out: cannot write {path}: {exc.strerror}") from exc


def _messages(request: PublishRequest, factory: EventFactory,
              invalid: list[InvalidLine]) -> tuple[Iterator[Message], int | None]:
    """The messages to send and how many (None when unknown until read)."""
    if request.file is not None:
        return read_file(request.file, factory, invalid, start_line=request.start_line or 1), None
    count = request.count or 1
    if request.start_index:
        return (factory.synthetic(count, email=request.email, title=request.title,
                                  start=request.start_index), count - request.start_index)
    if count == 1:
        event = factory.from_flags(email=request.email, book_id=request.book_id,
                                   title=request.title, link=request.link)
        return iter([message(0, event)]), 1
    return factory.synthetic(count, email=request.email, title=request.title), count


def publish_book(
    clients: ClientFactory,
    env: Any,
    request: PublishRequest,
    *,
    progress: ProgressSink | None = None,
    factory: EventFactory | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    poll_interval_s: float = 0.25,
    default_timeout_s: float = 60.0,
) -> PublishReport:
    """Publish the events a request describes; see the module docstring.

    Raises UsageError (exit 2) for bad flags or a bad single event before anything
    is sent, OperationError when the topic is missing. Failed entries do not raise:
    they are in the report and in the failed-out file. A run stopped by a fatal AWS
    error raises it after the failed-out file is written.
    """
    request.check()
    started_ms = int(clock() * 1000)
    factory = factory or EventFactory.for_env(env)
    invalid: list[InvalidLine] = []
    # Builds the first event (or opens the file) now: bad input is exit 2 before any
    # AWS call.
    messages, total = _messages(request, factory, invalid)
    topic_arn = topic_arn_for(clients, env)
    sns = clients.client("sns")
    options = PublishOptions(concurrency=1 if total == 1 else request.concurrency,
                             rate=request.rate)
    advance = progress.task("publishing", total) if progress else None
    outcome = publish_messages(sns, topic_arn, messages, options, on_progress=advance,
                               clock=clock, monotonic=monotonic, sleep=sleep)
    resume = resume_command(request, outcome) if outcome.stopped else None
    if outcome.stopped and request.file is not None:
        # The reader may have met invalid lines past the resume point: those belong
        # to the resumed run.
        last = outcome.last_line or (request.start_line or 1) - 1
        invalid[:] = [bad for bad in invalid if bad.line <= last]
    failed_out = None
    if outcome.failed or invalid:
        failed_out = request.failed_out or default_failed_out()
        write_failed_out(failed_out, outcome.failed, invalid)
    report = PublishReport.build(topic_arn, outcome, invalid, failed_out)
    if resume is not None:
        report.resume_flags, report.not_attempted = resume
    if outcome.aborted is not None:
        hint = outcome.aborted.hint
        if failed_out:
            hint = (hint + " " if hint else "") + f"Attempted, not sent: {failed_out}."
        if resume is not None:
            hint = (hint + " " if hint else "") + (
                f"{report.published} sent; the rest: notifyctl publish-book {resume[0]}")
        outcome.aborted.hint = hint
        raise outcome.aborted
    if outcome.interrupted:
        return report
    if request.wait and outcome.sent:
        timeout = request.timeout_s or default_timeout_s
        advance = progress.task("waiting for delivery", len(outcome.sent)) if progress else None
        report.wait = wait_for_outcomes(
            clients.client("dynamodb"), env.table_name,
            {s.dedup_key: s.published_at for s in outcome.sent},
            timeout_s=timeout, poll_interval_s=poll_interval_s, on_progress=advance,
            monotonic=monotonic, sleep=sleep, until=request.until or "sent")
        report.wait_timeout_s = timeout
        if report.wait.timed_out and report.wait.pending:
            from notifyctl.publish.diagnose import diagnose_pending

            report.diagnosis = diagnose_pending(clients, env, started_ms, int(clock() * 1000))
    return report
