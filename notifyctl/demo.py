"""`notifyctl demo` as a library: the main job, end to end, on a private emulator.

    start emulator -> bootstrap -> deploy -> publish one book -> wait until SENT
      -> the email (outbox) -> the function's log lines -> the de-duplication record
      -> redeliver the same SNS message -> duplicate skipped, still one email

The redelivery is what SNS's at-least-once delivery does: the same notification,
same MessageId, a second time. It is made by invoking the `live` alias with the
exact SNS event a subscription delivers. Publishing the same *content* again would
be a new message with a new MessageId, which the function rightly emails again.

Never touches real AWS: the clients are built for the private emulator's loopback
endpoint with dummy credentials, whatever the user's profile or AWS_* variables say.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import Any

from notifyctl.errors import OperationError

DEFAULT_RECIPIENT = "reader@example.com"
DEFAULT_TITLE = "The Left Hand of Darkness"
DELIVERY_TIMEOUT_S = 20.0
LOGS_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class StepTiming:
    name: str
    seconds: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "seconds": round(self.seconds, 3), "detail": self.detail}


@dataclass(frozen=True)
class CanaryOutcome:
    """`demo --canary`: a broken build released with canary10-5m, and what happened."""

    deployment: Any                      # release.watch.Snapshot, final
    live_before: str
    live_after: str
    published: tuple[str, ...]           # message ids published during the release
    delivered: int                       # of those, SENT
    emails: int                          # their emails in the outbox
    reason: str                          # the failed hook's / alarm's line

    @property
    def ok(self) -> bool:
        return (not self.deployment.succeeded and self.live_after == self.live_before
                and self.delivered == self.emails == len(self.published))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "deployment": self.deployment.to_dict(),
                "live_before": self.live_before, "live_after": self.live_after,
                "published": list(self.published), "delivered": self.delivered,
                "emails": self.emails, "reason": self.reason}


# Appended to the function's handler for `demo --canary`: imports fine, raises on
# every real event (what a bad refactoring of the handler looks like).
BROKEN_BUILD = """

_working_handler = handler


def handler(event, context):
    if event.get("Records"):
        raise RuntimeError("demo: this build is broken for real events")
    return _working_handler(event, context)
"""
CANARY_EVENTS = 3


@dataclass
class DemoReport:
    endpoint: str = ""
    function: str = ""
    message_id: str | None = None
    book_id: str | None = None
    recipient: str = ""
    steps: list[StepTiming] = field(default_factory=list)
    emails: list[Any] = field(default_factory=list)          # outbox.AcceptedEmail after delivery
    emails_after_redelivery: int | None = None
    log_blocks: list[Any] = field(default_factory=list)      # logs.grouping.RequestBlock
    dedup_record: dict[str, Any] | None = None
    redelivery_outcome: str | None = None
    canary: CanaryOutcome | None = None  # with --canary
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_s(self) -> float:
        return sum(s.seconds for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        from notifyctl.logs.render import block_dict

        return {
            "ok": self.ok,
            "endpoint": self.endpoint,
            "function": self.function,
            "message_id": self.message_id,
            "book_id": self.book_id,
            "steps": [s.to_dict() for s in self.steps],
            "total_s": round(self.total_s, 3),
            "email": self.emails[0].to_dict() if self.emails else None,
            "emails_after_redelivery": self.emails_after_redelivery,
            "logs": [block_dict(b) for b in self.log_blocks],
            "dedup_record": self.dedup_record,
            "redelivery_outcome": self.redelivery_outcome,
            "canary": self.canary.to_dict() if self.canary else None,
            "problems": self.problems,
        }


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; show integers as integers."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def read_record(dynamodb: Any, table: str, key: str) -> dict[str, Any] | None:
    from boto3.dynamodb.types import TypeDeserializer

    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": key}},
                             ConsistentRead=True).get("Item")
    if item is None:
        return None
    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in sorted(item.items())}


def blocks_for_message(events: Iterator[Any], message_id: str) -> list[Any]:
    """The invocations (request blocks) whose lines name `message_id`."""
    from notifyctl.logs.events import JSON
    from notifyctl.logs.grouping import RequestBlock, RequestGrouper

    grouper = RequestGrouper()
    blocks: list[RequestBlock] = []
    for event in events:
        blocks.extend(i for i in grouper.add(event) if isinstance(i, RequestBlock))
    blocks.extend(i for i in grouper.flush() if isinstance(i, RequestBlock))

    def names_message(block: RequestBlock) -> bool:
        return any(e.parsed.kind == JSON and (e.parsed.data or {}).get("message_id") == message_id
                   for e in block.events)

    return sorted((b for b in blocks if names_message(b)), key=lambda b: b.first_ts)


def subscription_for(sns: Any, topic_arn: str, endpoint_arn: str) -> str:
    from notifyctl.infra.planner import lambda_subscriptions

    for sub in lambda_subscriptions(sns, topic_arn):
        if sub.get("Endpoint") == endpoint_arn:
            return str(sub["SubscriptionArn"])
    raise OperationError(f"{topic_arn} has no subscription for {endpoint_arn}")


class _Steps:
    def __init__(self, report: DemoReport, on_step: Callable[[StepTiming], None] | None,
                 clock: Callable[[], float]) -> None:
        self.report, self.on_step, self.clock = report, on_step, clock

    def run(self, name: str, action: Callable[[], str]) -> None:
        started = self.clock()
        detail = action()
        step = StepTiming(name, self.clock() - started, detail)
        self.report.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)


def run_demo(
    env: Any,
    *,
    recipient: str = DEFAULT_RECIPIENT,
    emulator: Callable[[], AbstractContextManager[Any]] | None = None,
    on_step: Callable[[StepTiming], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    canary: bool = False,
    delivery_timeout_s: float = DELIVERY_TIMEOUT_S,
) -> DemoReport:
    """Run the demo against a private emulator (started and always stopped here).
    With `canary`, then release a broken build with canary10-5m and show it caught.

    Raises a NotifyctlError when a step cannot run at all; checks that ran but did
    not hold (no email, a second email, ...) are in `report.problems`."""
    from notifyctl.emulator.control import private_emulator

    report = DemoReport(recipient=recipient, function=env.function_name)
    steps = _Steps(report, on_step, clock)
    with ExitStack() as stack:
        def start() -> str:
            info = stack.enter_context((emulator or private_emulator)())
            report.endpoint = info.endpoint
            return f"private emulator at {info.endpoint}"

        steps.run("start emulator", start)
        _Pipeline(env, report, recipient, clock=clock, sleep=sleep,
                  delivery_timeout_s=delivery_timeout_s).run(steps, canary=canary)
    return report


class _Pipeline:
    """The demo's steps against one private emulator, one method each, in order."""

    def __init__(self, env: Any, report: DemoReport, recipient: str, *,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 delivery_timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        from notifyctl.aws.session import AwsClients, AwsSettings
        from notifyctl.publish.events import EventFactory

        self.env, self.report, self.recipient = env, report, recipient
        self.clock, self.sleep = clock, sleep
        self.delivery_timeout_s = delivery_timeout_s
        self.aws = AwsClients(AwsSettings(None, env.region, report.endpoint, True, True))
        self.started_ms = int(time.time() * 1000) - 1000
        self.outputs: Any = None  # infra.bootstrap.Outputs, after bootstrap
        report.book_id = f"demo-{uuid.uuid4().hex[:12]}"
        event_id = str(uuid.uuid4())  # one event: the published one and its redelivery
        self.factory = EventFactory.for_env(env, new_event_id=lambda: event_id)
        self.event = self.factory.from_flags(
            email=recipient, book_id=report.book_id, title=DEFAULT_TITLE)

    def run(self, steps: _Steps, *, canary: bool = False) -> None:
        steps.run("bootstrap", self.bootstrap)
        steps.run("deploy", self.deploy)
        steps.run("publish + deliver", self.publish)
        if self.report.problems:
            return
        steps.run("read outbox", self.read_outbox)
        steps.run("read logs", self.read_logs)
        steps.run("read de-dup record", self.read_record)
        steps.run("redeliver same message", self.redeliver)
        if canary and not self.report.problems:
            steps.run("canary: broken build", self.canary_release)

    def canary_release(self) -> str:
        """Release a broken build with canary10-5m while book events keep coming; the
        BeforeAllowTraffic hook (or an alarm) must stop it, `live` must not move, and
        every event published meanwhile must be delivered once (by the old version)."""
        import shutil
        import tempfile
        from pathlib import Path

        from notifyctl.publish.job import PublishRequest, publish_book
        from notifyctl.release import deployments
        from notifyctl.release.deploy import deploy
        from notifyctl.release.function_spec import desired_function_config
        from notifyctl.release.package import build, default_source
        from notifyctl.release.watch import Watcher, follow, hook_log_lines

        env, lam = self.env, self.aws.client("lambda")
        before = str(lam.get_alias(FunctionName=env.function_name,
                                   Name=env.alias_name)["FunctionVersion"])
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "book_notifier"
            shutil.copytree(default_source(), src,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            with (src / "handler.py").open("a", encoding="utf-8") as fh:
                fh.write(BROKEN_BUILD)
            package = build(src)
        target = deployments.target_for(env, "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                                        lam)
        started = deploy(lam, env.function_name, env.alias_name, package,
                         desired_function_config(env), deployment=target,
                         codedeploy=self.aws.client("codedeploy"), sleep=self.sleep)
        published = publish_book(self.aws, env, PublishRequest(
            email=self.recipient, count=CANARY_EVENTS, title="During the canary",
            wait=True, timeout_s=self.delivery_timeout_s), sleep=self.sleep)
        final = follow(Watcher(self.aws.client, started.deployment_id or ""),
                       lambda _snap: None, sleep=self.sleep, poll_s=0.2)
        after = str(lam.get_alias(FunctionName=env.function_name,
                                  Name=env.alias_name)["FunctionVersion"])
        ids = tuple(published.message_ids)
        ddb = self.aws.client("dynamodb")
        delivered = sum(1 for key in published.dedup_keys
                        if (read_record(ddb, env.table_name, key) or {}).get("status") == "SENT")
        emails = len([e for e in self._emails() if "During the canary" in (e.subject or "")])
        lines = hook_log_lines(self.aws.client("logs"), final, dict(zip(
            deployments.HOOK_EVENTS, env.hook_function_names, strict=True)))
        outcome = CanaryOutcome(final, before, after, ids, delivered, emails,
                                lines[0] if lines else final.reason())
        self.report.canary = outcome
        if not outcome.ok:
            self.report.problems.append(
                f"the broken canary was not contained: deployment {final.status}, live "
                f"{before} -> {after}, {delivered}/{len(ids)} events delivered, {emails} "
                "emails")
        return (f"version {final.target_version} {final.status} ({outcome.reason}); live "
                f"stays at {after}; {delivered}/{len(ids)} events published meanwhile "
                f"delivered, {emails} email(s)")

    def bootstrap(self) -> str:
        from notifyctl.infra import bootstrap

        specs, plan = bootstrap.plan(self.aws, self.env)
        bootstrap.refuse_conflicts(plan, self.env.name)  # impossible on a fresh emulator
        result = bootstrap.apply(self.aws, plan, sleep=self.sleep)
        self.outputs = bootstrap.outputs(self.aws, specs)
        return f"{len(result.applied)} changes applied (topic, table, role, function, alias, ...)"

    def deploy(self) -> str:
        from notifyctl.release.deploy import deploy
        from notifyctl.release.function_spec import desired_function_config
        from notifyctl.release.package import build

        env = self.env
        result = deploy(self.aws.client("lambda"), env.function_name, env.alias_name, build(),
                        desired_function_config(env), sleep=self.sleep)
        if result.unchanged:
            return f"unchanged, version {result.version} is live (bootstrap deployed it)"
        return f"published version {result.version}, {env.alias_name} moved to it"

    def publish(self) -> str:
        from notifyctl.publish.job import PublishRequest, publish_book

        report = self.report
        request = PublishRequest(email=self.recipient, book_id=report.book_id,
                                 title=DEFAULT_TITLE, link=self.event.link, wait=True,
                                 timeout_s=self.delivery_timeout_s)
        published = publish_book(self.aws, self.env, request, sleep=self.sleep,
                                 factory=self.factory)
        if published.stopped_by_user:  # Ctrl-C while waiting: not a delivery failure
            raise KeyboardInterrupt
        if not published.message_ids:
            raise OperationError("the book event was not published")
        report.message_id = published.message_ids[0]
        wait = published.wait
        if wait is None or wait.sent != 1:
            outcome = "nothing" if wait is None else \
                f"sent {wait.sent}, rejected {wait.rejected}, failed {wait.failed}, " \
                f"pending {wait.pending}"
            report.problems.append(f"message {report.message_id} was not delivered within "
                                   f"{self.delivery_timeout_s:g} s ({outcome})")
            return f"message {report.message_id}: not delivered"
        latency = wait.latency_percentiles() or {}
        return (f"message {report.message_id} → SENT"
                + (f" {latency['max']:.0f} ms after publishing" if "max" in latency else ""))

    def _emails(self) -> list[Any]:
        from notifyctl.emulator import outbox

        return [e for e in outbox.read(self.report.endpoint) if self.recipient in e.to]

    def read_outbox(self) -> str:
        report = self.report
        report.emails = self._emails()
        if len(report.emails) != 1:
            report.problems.append(f"expected one email to {self.recipient} in the outbox, "
                                   f"found {len(report.emails)}")
        return f"{len(report.emails)} email(s) to {self.recipient} in the outbox"

    def _logs_until(self, count: int) -> list[Any]:
        """Poll the log group until `count` invocations for the message are there."""
        from notifyctl.logs.reader import read_group

        deadline = self.clock() + LOGS_TIMEOUT_S
        logs = self.aws.client("logs")
        while True:
            blocks = blocks_for_message(
                read_group(logs, self.env.log_group_name, start_ms=self.started_ms),
                self.report.message_id or "")
            complete = [b for b in blocks if b.complete]
            if len(complete) >= count or self.clock() >= deadline:
                return blocks
            self.sleep(0.1)

    def read_logs(self) -> str:
        report = self.report
        report.log_blocks = self._logs_until(1)
        if not report.log_blocks:
            report.problems.append(f"no log lines name message {report.message_id}")
        lines = sum(len(b.events) for b in report.log_blocks)
        return f"{lines} log lines from {len(report.log_blocks)} invocation(s)"

    def read_record(self) -> str:
        from book_notifier.contract import dedup_key

        report, env = self.report, self.env
        report.dedup_record = read_record(self.aws.client("dynamodb"), env.table_name,
                                          dedup_key(self.event.event_id, report.message_id or ""))
        status = (report.dedup_record or {}).get("status")
        if status != "SENT":
            report.problems.append(f"de-duplication record status {status!r}, expected 'SENT'")
        return f"{env.table_name}[{report.message_id}] status={status}"

    def _invoke_with_same_message(self) -> tuple[dict[str, Any], str]:
        """Invoke `live` with the exact SNS event a subscription delivers, again."""
        from book_notifier.contract import encode
        from notifyctl.emulator.sns_event import build_event

        outputs, env, report = self.outputs, self.env, self.report
        record = report.dedup_record or {}
        again = build_event(
            topic_arn=outputs.topic_arn,
            subscription_arn=subscription_for(self.aws.client("sns"), outputs.topic_arn,
                                              outputs.alias_arn),
            message_id=report.message_id or "", message=encode(self.event), subject=None,
            attributes={"event_type": {"Type": "String", "Value": "book.created"}},
            timestamp=record.get("published_at"))
        response = self.aws.client("lambda").invoke(
            FunctionName=env.function_name, Qualifier=env.alias_name,
            InvocationType="RequestResponse", Payload=json.dumps(again).encode())
        return response, response["Payload"].read().decode("utf-8", "replace")

    def redeliver(self) -> str:
        report = self.report
        response, body = self._invoke_with_same_message()
        if response.get("FunctionError"):
            report.problems.append(f"the redelivery failed in the function: {body[:200]}")
            return "the function failed"
        try:
            counts = json.loads(body)
        except ValueError:
            counts = {}
        report.redelivery_outcome = "duplicate" if counts.get("duplicate") == 1 else body[:200]
        if report.redelivery_outcome != "duplicate":
            report.problems.append(f"the redelivery was not skipped as a duplicate: {body[:200]}")
        after = self._emails()
        report.emails_after_redelivery = len(after)
        if len(after) != len(report.emails):
            report.problems.append(f"the redelivery sent another email ({len(after)} in the "
                                   "outbox)")
        report.log_blocks = self._logs_until(2)
        return (f"same MessageId again → {report.redelivery_outcome}; "
                f"{len(after)} email(s) in the outbox")
