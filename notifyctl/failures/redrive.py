"""`failures redrive`: the plan (data) and its execution.

    select (IDs or --all) --> plan: one RedriveStep per failure (invoke / reset /
    reset+invoke / skip, with why) --> [--dry-run: stop] --> execute in order:
        reset     conditional DeleteItem of the FAILED/UNCONFIRMED record (only if it
                  still has the status we read), so the event may be claimed again
        invoke    Invoke(live, InvocationType=Event, the original SNS event); the queue
                  message is deleted only after Lambda answered 202; otherwise it is
                  made visible again, untouched
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifyctl.errors import UsageError
from notifyctl.failures.records import FAILED, QUEUE, UNCONFIRMED, Failure
from notifyctl.failures.source import FailureList

if TYPE_CHECKING:
    from notifyctl.aws.calls import ClientFactory

INVOKE = "invoke"
RESET = "reset"
RESET_INVOKE = "reset+invoke"
SKIP = "skip"


@dataclass(frozen=True)
class RedriveStep:
    failure: Failure
    action: str
    why: str


@dataclass(frozen=True)
class RedriveResult:
    step: RedriveStep
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.step.failure.id, "source": self.step.failure.source,
                "action": self.step.action, "ok": self.ok, "detail": self.detail}


@dataclass
class RedriveReport:
    steps: list[RedriveStep]
    dry_run: bool
    results: list[RedriveResult] = field(default_factory=list)

    @property
    def failed(self) -> list[RedriveResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        """Nothing that was to be redriven failed (skips are not failures)."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"dry_run": self.dry_run, "ok": self.ok}
        if self.dry_run:
            data["plan"] = [{"id": s.failure.id, "source": s.failure.source,
                             "action": s.action, "why": s.why} for s in self.steps]
        else:
            data["results"] = [r.to_dict() for r in self.results]
            data["redriven"] = sum(1 for r in self.results
                                   if r.ok and r.step.action in (INVOKE, RESET_INVOKE))
            data["reset"] = sum(1 for r in self.results if r.ok and r.step.action == RESET)
            data["skipped"] = sum(1 for r in self.results if r.step.action == SKIP)
            data["failed"] = len(self.failed)
        return data


def plan(found: FailureList, ids: list[str], all_: bool) -> list[RedriveStep]:
    """What redrive will do. UsageError for an unknown or ambiguous ID, or no selection."""
    if all_ and ids:
        raise UsageError("--all and IDs: choose one")
    if not all_ and not ids:
        raise UsageError("name the failures to redrive (IDs from `notifyctl failures list`) "
                         "or pass --all")
    chosen: list[Failure] = []
    for ident in ids:
        matches = found.find(ident)
        if not matches:
            raise UsageError(f"ID {ident!r}: no such failure (see `notifyctl failures list`)")
        if len({m.id for m in matches}) > 1:
            raise UsageError(f"ID {ident!r} is ambiguous: {', '.join(m.id for m in matches)}")
        chosen.append(matches[0])
    explicit = bool(ids)
    selected = chosen if explicit else found.all
    by_key = {f.dedup_key: f for f in found.table if f.dedup_key}
    queued_keys = {f.dedup_key for f in found.queue if f.dedup_key}
    steps: list[RedriveStep] = []
    for failure in selected:
        if failure.source == QUEUE:
            record = by_key.get(failure.dedup_key or "")
            if record is not None and (record.transient or
                                       (explicit and record.status == UNCONFIRMED)):
                steps.append(RedriveStep(failure, RESET_INVOKE,
                                         f"its record is {record.status} ({record.error}): "
                                         "reset, then re-invoked"))
            else:
                steps.append(RedriveStep(failure, INVOKE, "re-invoke with the original event"))
            continue
        if failure.dedup_key in queued_keys:
            continue  # handled with its queue entry
        if failure.transient or (explicit and failure.status == UNCONFIRMED):
            steps.append(RedriveStep(failure, RESET, "record reset: the event is not kept, "
                                     "republish it (same event_id) to send it"))
        elif failure.status == UNCONFIRMED:
            steps.append(RedriveStep(failure, SKIP, "UNCONFIRMED: the email may have gone out;"
                                     " check, then redrive it by ID to allow a resend"))
        else:
            steps.append(RedriveStep(failure, SKIP, f"{FAILED}: SES refused this message "
                                     "(not transient)"))
    return steps


def execute(clients: ClientFactory, env: Any, steps: list[RedriveStep], queue_url: str | None, *,
            table_records: dict[str, Failure],
            on_progress: Callable[[int], None] | None = None) -> RedriveReport:
    """Run the plan; every step yields a result, none raises for an AWS refusal."""
    from botocore.exceptions import BotoCoreError, ClientError

    report = RedriveReport(steps, dry_run=False)
    for step in steps:
        try:
            detail = _run(clients, env, step, queue_url, table_records)
            report.results.append(RedriveResult(step, True, detail))
        except (ClientError, BotoCoreError, _NotAccepted) as exc:
            _release(clients, step, queue_url)
            report.results.append(RedriveResult(step, False, _short(exc)))
        if on_progress is not None:
            on_progress(1)
    return report


class _NotAccepted(Exception):
    pass


def _run(clients: ClientFactory, env: Any, step: RedriveStep, queue_url: str | None,
         table_records: dict[str, Failure]) -> str:
    failure = step.failure
    if step.action == SKIP:
        return step.why
    if step.action in (RESET, RESET_INVOKE):
        record = failure if failure.source != QUEUE else table_records[failure.dedup_key or ""]
        _reset(clients.client("dynamodb"), env.table_name, record)
        if step.action == RESET:
            return step.why
    response = clients.client("lambda").invoke(
        FunctionName=env.function_name, Qualifier=env.alias_name, InvocationType="Event",
        Payload=json.dumps(failure.payload).encode("utf-8"))
    status = int(response.get("StatusCode", 0))
    if status != 202:
        raise _NotAccepted(f"Lambda answered {status}, not 202: the queue message is kept")
    if queue_url and failure.receipt_handle:
        clients.client("sqs").delete_message(QueueUrl=queue_url,
                                             ReceiptHandle=failure.receipt_handle)
    return "re-invoked; queue message deleted"


def _reset(dynamodb: Any, table: str, record: Failure) -> None:
    """Delete the record only while it still has the status we read (a record that
    changed meanwhile, e.g. became SENT, is left alone: ConditionalCheckFailed)."""
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": record.id}},
                         ConditionExpression="#s = :s",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": {"S": record.status}})


def _release(clients: ClientFactory, step: RedriveStep, queue_url: str | None) -> None:
    """Make a queue message visible again at once (we hid it while working)."""
    failure = step.failure
    if failure.source != QUEUE or not queue_url or not failure.receipt_handle:
        return
    from botocore.exceptions import BotoCoreError, ClientError

    # On failure it becomes visible on its own when the timeout ends.
    with contextlib.suppress(ClientError, BotoCoreError):
        clients.client("sqs").change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=failure.receipt_handle, VisibilityTimeout=0)


def _short(exc: BaseException) -> str:
    from notifyctl.aws.errors import translate

    translated = translate(exc) if not isinstance(exc, _NotAccepted) else None
    return (translated.message if translated is not None else str(exc)).splitlines()[0]


# Long enough to invoke and delete every selected message; if redrive dies, they
# reappear on their own after it.
REDRIVE_VISIBILITY_S = 300


def prepare(clients: ClientFactory, env: Any, ids: list[str], all_: bool, *, dry_run: bool,
            clock: Callable[[], float] | None = None) -> tuple[FailureList, list[RedriveStep]]:
    """Read both places (hiding the queue messages unless dry_run) and plan.

    Unless dry_run, the queue, the table and the function must be this
    environment's (infra.ownership): redrive changes the first two and invokes the
    third."""
    import time

    from notifyctl.failures.source import list_failures
    from notifyctl.infra import ownership

    if not dry_run:
        ownership.check(clients, env, ownership.QUEUE, ownership.TABLE, ownership.FUNCTION)
    found = list_failures(clients, env, visibility_s=0 if dry_run else REDRIVE_VISIBILITY_S,
                          clock=clock or time.time)
    try:
        steps = plan(found, ids, all_)
    except UsageError:
        if not dry_run:
            for failure in found.queue:
                _release(clients, RedriveStep(failure, SKIP, ""), found.queue_url)
        raise
    chosen = {s.failure.id for s in steps}
    if not dry_run:  # what is not redriven goes back into view at once
        for failure in found.queue:
            if failure.id not in chosen:
                _release(clients, RedriveStep(failure, SKIP, ""), found.queue_url)
    return found, steps
