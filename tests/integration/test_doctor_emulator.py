"""doctor and trace on the emulator, breaking one thing at a time.

One environment is bootstrapped for the module; each test breaks one thing, asserts
that doctor fails exactly that check (with its fix) and that trace of an affected
event tells the story, then undoes the break, so the next test starts healthy again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_configs import emulator_config

from notifyctl.doctor import DoctorContext, DoctorReport, diagnose
from notifyctl.doctor.model import FAIL, PASS, WARN
from notifyctl.infra import policies
from notifyctl.infra.specs import INLINE_POLICY_NAME, SNS_PERMISSION_SID
from notifyctl.trace.build import Where, trace
from notifyctl.trace.model import Trace

pytestmark = pytest.mark.integration



class Pipeline:
    """The bootstrapped environment and the moves the tests make on it."""

    def __init__(self, emulator: Any, config: Path) -> None:
        from notifyctl.config.loader import load
        from notifyctl.infra.bootstrap import specs_for

        self.emulator = emulator
        self.config = str(config)
        self.env = load(self.config, "local")[0]
        self.aws = emulator.aws_clients()
        self.specs = specs_for(self.aws, self.env)
        self.arns = self.specs.arns

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def doctor(self) -> DoctorReport:
        return diagnose(DoctorContext(self.env, self.aws))

    def trace(self, the_id: str) -> Trace:
        env = self.env
        return trace(self.aws.client, Where(env.log_group_name, env.table_name, env.dlq_name),
                     the_id)

    def publish(self, **fields: Any) -> str:
        book_id = fields.pop("book_id", f"bk-{uuid.uuid4().hex[:8]}")
        message = {"book_id": book_id, "email": "reader@example.com",
                   "link": f"http://localhost:8000/books/{book_id}", "title": "Dune", **fields}
        return str(self.client("sns").publish(TopicArn=self.arns.topic,
                                              Message=json.dumps(message))["MessageId"])

    def record(self, message_id: str) -> dict[str, Any] | None:
        for key in (message_id, f"event:{message_id}"):
            item = self.client("dynamodb").get_item(TableName=self.env.table_name,
                                                    Key={"pk": {"S": key}},
                                                    ConsistentRead=True).get("Item")
            if item:
                return dict(item)
        return None

    def wait_for_status(self, message_id: str, *statuses: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            item = self.record(message_id)
            return item if item and item["status"]["S"] in statuses else None
        return dict(self.emulator.wait_until(done, timeout=30, what=f"{statuses} record"))

    def forget(self, message_id: str) -> None:
        for key in (message_id, f"event:{message_id}"):
            self.client("dynamodb").delete_item(TableName=self.env.table_name,
                                                Key={"pk": {"S": key}})

    def queue_url(self) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=self.env.dlq_name)["QueueUrl"])

    def drain(self) -> None:
        """Empty the failure queue (PurgeQueue is allowed once a minute)."""
        sqs, url = self.client("sqs"), self.queue_url()
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="module")
def pipeline(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    from notifyctl.infra.bootstrap import apply, plan

    path = tmp_path_factory.mktemp("doctor") / "notifyctl.yaml"
    path.write_text(emulator_config(emulator.endpoint, f"dr-{uuid.uuid4().hex[:8]}"),
                    encoding="utf-8")
    p = Pipeline(emulator, path)
    _, the_plan = plan(p.aws, p.env)
    apply(p.aws, the_plan)
    yield p


def failing(report: DoctorReport, *, after_errors: bool = False,
            queue_alarm: bool = False) -> dict[str, str]:
    """The failing checks and their fixes, less the echoes of a break elsewhere:
    `after_errors`: an earlier test's retried invocations still count in the last hour
    (health.errors) and may hold bootstrap's errors alarm in ALARM (health.alarms); these
    tests run last in the module for that reason. `queue_alarm`: bootstrap's alarm on
    the failure queue's depth fires with the queue (health.alarms)."""
    echoes = ({"health.errors", "health.alarms"} if after_errors else set()) | (
        {"health.alarms"} if queue_alarm else set())
    return {r.name: r.fix for r in report.results
            if r.status == FAIL and r.name not in echoes}


def test_a_healthy_environment_passes_every_check_or_warns_with_a_reason(
        pipeline: Pipeline, cli: Any) -> None:
    base = ("--config", pipeline.config, "--env", "local", "--endpoint-url",
            pipeline.emulator.endpoint)
    result = cli(*base, "--output", "json", "doctor")
    report = json.loads(result.stdout)

    assert result.exit_code == 0, result.stdout
    for check in report["checks"]:
        assert check["status"] in (PASS, WARN), check
        if check["status"] == WARN:
            assert check["evidence"] and check["fix"] is not None, check
    text = cli(*base, "doctor")
    assert text.exit_code == 0
    assert len([ln for ln in text.stdout.splitlines() if ln[:4] in (PASS, WARN)]) == len(
        report["checks"])
    assert "local: " in text.stdout and "nothing fails" in text.stdout


def test_delivered_event_trace_tells_when_and_how_fast(pipeline: Pipeline, cli: Any) -> None:
    message_id = pipeline.publish(book_id="bk-delivered")
    pipeline.wait_for_status(message_id, "SENT")

    # The record says SENT a moment before the function's log line reaches CloudWatch
    # Logs (on AWS too): poll until trace sees the invocation.
    def traced(the_id: str) -> Trace | None:
        story = pipeline.trace(the_id)
        return story if any(i.outcome == "sent" for i in story.invocations) else None

    by_book = pipeline.emulator.wait_until(lambda: traced("bk-delivered"),
                                           what="the invocation in the logs")
    by_message = pipeline.trace(message_id)

    for story in (by_book, by_message):
        assert story.verdict.kind == "delivered", story.verdict
        assert story.verdict.text.startswith("delivered once at ")
        assert "ms after publishing" in story.verdict.text
        kinds = [e.kind for e in story.timeline]
        assert kinds[0] == "published" and "sent" in kinds and "invocation" in kinds
        invocation = story.invocations[0]
        assert invocation.version == "1" and invocation.outcome == "sent"
    text = cli("--config", pipeline.config, "--env", "local", "--endpoint-url",
               pipeline.emulator.endpoint, "trace", "bk-delivered")
    assert text.exit_code == 0
    assert text.stdout.rstrip().splitlines()[-1] == by_book.verdict.text


def test_rejected_event_trace_gives_the_reason(pipeline: Pipeline) -> None:
    message_id = pipeline.publish(book_id="bk-rejected", link="ftp://files.example.com/x")
    item = pipeline.wait_for_status(message_id, "REJECTED")
    try:
        story = pipeline.trace(message_id)
        assert story.verdict.kind == "rejected"
        assert story.verdict.text == f"rejected: {item['reason']['S']}"
    finally:
        pipeline.forget(message_id)


def test_removed_invoke_permission_fails_the_permission_check_and_nothing_arrives(
        pipeline: Pipeline) -> None:
    env, lam = pipeline.env, pipeline.client("lambda")
    lam.remove_permission(FunctionName=env.function_name, Qualifier=env.alias_name,
                          StatementId=SNS_PERMISSION_SID)
    try:
        fails = failing(pipeline.doctor())
        assert list(fails) == ["wiring.permission"]
        assert fails["wiring.permission"].startswith("`notifyctl bootstrap` (adds the permission")

        message_id = pipeline.publish()
        story = pipeline.trace(message_id)
        assert story.verdict.kind == "not-found"
        assert "`notifyctl doctor` checks the wiring" in story.verdict.text
    finally:
        lam.add_permission(**policies.sns_invoke_permission(
            function_name=env.function_name, qualifier=env.alias_name,
            statement_id=SNS_PERMISSION_SID, topic_arn=pipeline.arns.topic,
            account=pipeline.specs.account))


def test_subscription_to_latest_fails_the_subscription_check(pipeline: Pipeline) -> None:
    sns, arns = pipeline.client("sns"), pipeline.arns
    subs = sns.list_subscriptions_by_topic(TopicArn=arns.topic)["Subscriptions"]
    alias_sub = next(s["SubscriptionArn"] for s in subs if s["Endpoint"] == arns.alias)
    sns.unsubscribe(SubscriptionArn=alias_sub)
    latest = sns.subscribe(TopicArn=arns.topic, Protocol="lambda",
                           Endpoint=f"{arns.function}:$LATEST",
                           ReturnSubscriptionArn=True)["SubscriptionArn"]
    try:
        fails = failing(pipeline.doctor())
        assert list(fails) == ["wiring.subscription"]
        assert fails["wiring.subscription"].startswith(
            f"`aws sns unsubscribe --subscription-arn {latest}`")

        story = pipeline.trace(pipeline.publish())
        assert story.verdict.kind == "not-found"  # $LATEST has no invoke permission
    finally:
        sns.unsubscribe(SubscriptionArn=latest)
        sns.subscribe(TopicArn=arns.topic, Protocol="lambda", Endpoint=arns.alias)


def on_failure_record(message_id: str, error: str) -> dict[str, Any]:
    """What Lambda sends to the on-failure destination (AWS's documented shape)."""
    return {"version": "1.0", "timestamp": "2026-11-28T12:00:00.000Z",
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetriesExhausted",
                               "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"EventSource": "aws:sns",
                                            "Sns": {"MessageId": message_id,
                                                    "Message": "{}"}}]},
            "responseContext": {"statusCode": 200, "executedVersion": "1",
                                "functionError": "Unhandled"},
            "responsePayload": {"errorType": "ClientError", "errorMessage": error}}


def test_filled_failure_queue_fails_the_queue_check_and_trace_says_redrive(
        pipeline: Pipeline) -> None:
    sqs, url = pipeline.client("sqs"), pipeline.queue_url()
    message_ids = [str(uuid.uuid4()) for _ in range(3)]
    for mid in message_ids:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
            on_failure_record(mid, "Throttling: Maximum sending rate exceeded.")))
    try:
        fails = failing(pipeline.doctor(), queue_alarm=True)
        assert list(fails) == ["health.failure_queue"]
        assert "notifyctl failures redrive" in fails["health.failure_queue"]

        story = pipeline.trace(message_ids[1])
        assert story.verdict.kind == "in-failure-queue"
        assert story.verdict.text == (
            "in the failure queue after 3 attempts: ClientError: Throttling: Maximum sending "
            f"rate exceeded. — run `notifyctl failures redrive {message_ids[1]}`")
    finally:
        pipeline.drain()


def test_stale_lease_fails_the_records_check_and_trace_calls_it_stuck(
        pipeline: Pipeline) -> None:
    now = int(time.time())
    message_id = str(uuid.uuid4())
    pipeline.client("dynamodb").put_item(TableName=pipeline.env.table_name, Item={
        "pk": {"S": message_id}, "status": {"S": "IN_PROGRESS"},
        "lease_until": {"N": str(now - 300)}, "claimed_at": {"N": str((now - 340) * 1000)},
        "attempts": {"N": "1"}, "expires_at": {"N": str(now + 3600)}})
    try:
        fails = failing(pipeline.doctor(), queue_alarm=True)  # the previous test's echo
        assert list(fails) == ["health.records"]
        assert fails["health.records"].startswith(f"`notifyctl trace {message_id}`")

        story = pipeline.trace(message_id)
        assert story.verdict.kind == "stuck"
        assert "lease ended" in story.verdict.text
    finally:
        pipeline.forget(message_id)


def test_unverified_sender_fails_the_identity_check_and_trace_shows_ses_refusal(
        pipeline: Pipeline) -> None:
    ses, sender = pipeline.client("ses"), pipeline.env.sender
    ses.delete_identity(Identity=sender)
    message_id = None
    try:
        fails = failing(pipeline.doctor(), after_errors=True)
        assert list(fails) == ["ses.identity"]
        assert "`notifyctl bootstrap`" in fails["ses.identity"]

        message_id = pipeline.publish()
        sqs, url = pipeline.client("sqs"), pipeline.queue_url()

        def settled() -> bool:
            item = pipeline.record(message_id)
            if item and item["status"]["S"] == "FAILED":
                return True
            return bool(int(sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"]))
        pipeline.emulator.wait_until(settled, timeout=30, what="FAILED or the failure queue")
        story = pipeline.trace(message_id)
        # SES refuses an unverified sender (MessageRejected: FAILED, not retried); where the
        # emulator authorises the send first, the refusal is IAM's on the identity
        # (transient: retried, then kept in the failure queue). Either way trace says it.
        assert story.verdict.kind in ("failed", "in-failure-queue"), story.verdict
        if story.verdict.kind == "failed":
            assert "SES refused it permanently" in story.verdict.text
            assert "not verified" in story.verdict.text.lower()
        else:
            assert "ses:SendEmail" in story.verdict.text
        assert "notifyctl failures redrive" in story.verdict.text
    finally:
        ses.verify_email_identity(EmailAddress=sender)
        if message_id:
            pipeline.forget(message_id)
        pipeline.drain()


def retried_three_times(pipeline: Pipeline, message_id: str) -> Trace:
    """The trace once the three attempts' log lines are in (they may trail the
    on-failure record by a moment)."""
    def traced() -> Trace | None:
        story = pipeline.trace(message_id)
        return story if len([i for i in story.invocations if i.outcome == "retry"]) == 3 \
            else None
    return pipeline.emulator.wait_until(traced, what="three attempts in the logs")


def test_a_role_that_may_not_send_fails_the_role_check(pipeline: Pipeline) -> None:
    iam, env = pipeline.client("iam"), pipeline.env
    document = json.loads(json.dumps(pipeline.specs.function_policy))
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "SendAsSender"]
    iam.put_role_policy(RoleName=env.role_name, PolicyName=INLINE_POLICY_NAME,
                        PolicyDocument=json.dumps(document))
    try:
        report = diagnose(DoctorContext(env, pipeline.aws), ["function.role"])
        role = report.get("function.role")
        if role.status == WARN and "does not implement" in role.evidence:
            pytest.skip("this emulator has no iam SimulatePrincipalPolicy")
        fails = failing(pipeline.doctor(), after_errors=True)
        assert list(fails) == ["function.role"]
        assert "ses:SendEmail" in role.evidence
        assert fails["function.role"].startswith("`notifyctl bootstrap`")

        # The emulator enforces the role: SES refuses the send (AccessDenied, transient),
        # Lambda retries twice, then the on-failure queue keeps the event.
        message_id = pipeline.publish()
        sqs, url = pipeline.client("sqs"), pipeline.queue_url()
        pipeline.emulator.wait_until(lambda: int(sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"]), timeout=30, what="the on-failure record")
        story = retried_three_times(pipeline, message_id)
        assert story.verdict.kind == "in-failure-queue", story.verdict
        assert "after 3 attempts" in story.verdict.text
        assert "notifyctl failures redrive" in story.verdict.text
    finally:
        iam.put_role_policy(RoleName=env.role_name, PolicyName=INLINE_POLICY_NAME,
                            PolicyDocument=json.dumps(pipeline.specs.function_policy))
        pipeline.drain()


def test_a_transient_failure_is_retried_then_kept_in_the_failure_queue(
        pipeline: Pipeline) -> None:
    """The function reads a table that does not exist: every claim fails (transient),
    Lambda retries twice, and the on-failure destination keeps the event."""
    env, lam = pipeline.env, pipeline.client("lambda")
    live = lam.get_function_configuration(FunctionName=env.function_name,
                                          Qualifier=env.alias_name)
    good = live["Environment"]["Variables"]

    def release(variables: dict[str, str]) -> None:
        lam.update_function_configuration(FunctionName=env.function_name,
                                          Environment={"Variables": variables})
        pipeline.emulator.wait_until(lambda: lam.get_function_configuration(
            FunctionName=env.function_name)["LastUpdateStatus"] == "Successful",
            what="the configuration update")
        version = lam.publish_version(FunctionName=env.function_name)["Version"]
        lam.update_alias(FunctionName=env.function_name, Name=env.alias_name,
                         FunctionVersion=version)

    release({**good, "TABLE_NAME": f"{env.table_name}-gone"})
    try:
        fails = failing(pipeline.doctor(), after_errors=True)
        assert list(fails) == ["function.environment"]
        assert "TABLE_NAME=" in pipeline.doctor().get("function.environment").evidence

        message_id = pipeline.publish()
        sqs, url = pipeline.client("sqs"), pipeline.queue_url()
        pipeline.emulator.wait_until(lambda: int(sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"]), timeout=30, what="the on-failure record")
        story = retried_three_times(pipeline, message_id)
        assert story.verdict.kind == "in-failure-queue", story.verdict
        assert story.verdict.text.startswith("in the failure queue after 3 attempts: ")
        assert story.verdict.text.endswith(f"run `notifyctl failures redrive {message_id}`")
        assert [e.kind for e in story.timeline][-1] == "failure-queue"
    finally:
        release(good)
        pipeline.drain()
