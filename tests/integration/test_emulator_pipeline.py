"""The emulator as an operator meets it: start/stop/status, the SES outbox, and
the whole pipeline with nothing but boto3 (the issue's "done when")."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from notifyctl.emulator import control, outbox
from notifyctl.errors import OperationError
from tests.integration.conftest import ACCOUNT, REGION

pytestmark = pytest.mark.integration

SENDS_EMAIL = """
import boto3

SES = boto3.client("sesv2")

def handler(event, context):
    resp = SES.send_email(
        FromEmailAddress="books@example.com",
        Destination={"ToAddresses": [event["to"]]},
        Content={"Simple": {"Subject": {"Data": event["subject"]},
                            "Body": {"Text": {"Data": "plain body"},
                                     "Html": {"Data": "<p>html body</p>"}}}},
    )
    return {"MessageId": resp["MessageId"]}
"""


def test_start_again_on_the_same_port_reports_already_running(emulator: Any) -> None:
    info = control.start("127.0.0.1", emulator.info.port, state_dir=emulator.state_dir.parent)

    assert info.already_running
    assert info.pid == emulator.info.pid
    assert info.endpoint == emulator.endpoint


def test_start_on_a_port_taken_by_another_program_is_a_clear_error(tmp_path: Any) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        with pytest.raises(OperationError, match=f"port {port} .* in use"):
            control.start("127.0.0.1", port, state_dir=tmp_path)


def test_status_reports_a_running_emulator_and_one_that_is_not(emulator: Any,
                                                               tmp_path: Any) -> None:
    running = control.status("127.0.0.1", emulator.info.port, emulator.state_dir.parent)
    stopped = control.status("127.0.0.1", control.free_port(), tmp_path)

    assert running.running and running.info is not None
    assert running.info.pid == emulator.info.pid
    assert running.uptime_s is not None and running.uptime_s >= 0
    assert not stopped.running


def test_stop_when_nothing_runs_returns_none(tmp_path: Any) -> None:
    assert control.stop("127.0.0.1", control.free_port(), state_dir=tmp_path) is None


def test_a_function_email_lands_in_the_outbox_with_both_bodies(emulator: Any, cli: Any) -> None:
    emulator.client("ses").verify_domain_identity(Domain="example.com")
    role = emulator.role_with({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ses:SendEmail",
         "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.com"}]})
    fn = emulator.create_function(SENDS_EMAIL, timeout=10, role=role)["FunctionName"]
    subject = emulator.unique("subject")

    resp = emulator.client("lambda").invoke(
        FunctionName=fn, Payload=json.dumps({"to": "reader@example.org", "subject": subject}))
    body = json.loads(resp["Payload"].read())

    assert "FunctionError" not in resp, body
    emails = [e for e in outbox.read(emulator.endpoint) if e.subject == subject]
    assert len(emails) == 1
    email = emails[0]
    assert email.message_id == body["MessageId"]
    assert email.sender == "books@example.com"
    assert email.to == ["reader@example.org"]
    assert email.text == "plain body"
    assert email.html == "<p>html body</p>"
    assert email.time.endswith("Z")

    result = cli("--output", "json", "--endpoint-url", emulator.endpoint, "local", "outbox",
                 "--limit", "0")
    assert result.exit_code == 0, result.output
    listed = [e for e in json.loads(result.stdout)["emails"] if e["subject"] == subject]
    assert listed[0]["from"] == "books@example.com"
    assert listed[0]["message_id"] == body["MessageId"]


def test_outbox_of_a_missing_emulator_is_an_operation_error() -> None:
    with pytest.raises(OperationError, match="no emulator answers"):
        outbox.read(f"http://127.0.0.1:{control.free_port()}")


def test_the_whole_pipeline_with_nothing_but_boto3(emulator: Any) -> None:
    """Topic, role, table, function from a zip, lambda subscription; publish; the
    notifier runs with the real MessageId, emails, and logs."""
    from notifyctl.infra.policies import function_policy
    from notifyctl.release.package import HANDLER, build

    sns, lam, ddb = emulator.client("sns"), emulator.client("lambda"), emulator.client("dynamodb")
    emulator.client("ses").verify_domain_identity(Domain="example.com")
    table = emulator.unique("dedup")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    name = emulator.unique("book-notifier")
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
    # The role bootstrap would write (least privilege): IAM is enforced for functions.
    role = emulator.role_with(function_policy(
        log_streams_arn=arn.format("logs", f"log-group:/aws/lambda/{name}:*"),
        table_arn=arn.format("dynamodb", f"table/{table}"),
        queue_arn=arn.format("sqs", "unused"),
        ses_identity_arns=[arn.format("ses", "identity/example.com")],
        sender="books@example.com"))
    fn = lam.create_function(
        FunctionName=name, Runtime="python3.11",
        Role=role, Handler=HANDLER, Timeout=10, MemorySize=256,
        Code={"ZipFile": build(None).data}, Publish=True,
        Environment={"Variables": {"TABLE_NAME": table, "SENDER": "books@example.com",
                                   "LINK_ALLOWED_HOSTS": "books.example.com",
                                   "ALLOW_HTTP_LINKS": "false", "LOG_LEVEL": "INFO",
                                   "DEDUP_RETENTION_HOURS": "24"}})
    alias = lam.create_alias(FunctionName=fn["FunctionName"], Name="live", FunctionVersion="1")
    topic = sns.create_topic(Name=emulator.unique("books"))["TopicArn"]
    lam.add_permission(FunctionName=fn["FunctionName"], Qualifier="live", StatementId="sns",
                       Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                       SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=alias["AliasArn"])
    book_id = emulator.unique("b")
    message = json.dumps({"book_id": book_id, "email": "reader@example.org",
                          "link": f"https://books.example.com/books/{book_id}", "title": "Dune"})

    message_id = sns.publish(TopicArn=topic, Message=message)["MessageId"]

    item = emulator.wait_until(
        lambda: (i := ddb.get_item(TableName=table, Key={"pk": {"S": message_id}}).get("Item"))
        and i["status"]["S"] in ("SENT", "REJECTED", "FAILED") and i,
        what="the dedup record")
    assert item["status"]["S"] == "SENT", item
    emails = [e for e in outbox.read(emulator.endpoint)
              if e.message_id == item["ses_message_id"]["S"]]
    assert len(emails) == 1 and emails[0].to == ["reader@example.org"]
    def log_text() -> str:
        events = emulator.client("logs").filter_log_events(
            logGroupName=f"/aws/lambda/{fn['FunctionName']}")["events"]
        return "".join(e["message"] for e in events)

    # The runtime ships an invocation's lines when it ends, after the record is written.
    text = emulator.wait_until(lambda: "REPORT RequestId" in (t := log_text()) and t,
                               what="the REPORT line")
    assert "START RequestId" in text and "REPORT RequestId" in text
    assert message_id in text


def test_private_emulator_is_stopped_and_cleaned_up_even_on_error() -> None:
    seen: dict[str, Any] = {}

    with pytest.raises(RuntimeError, match="boom"), control.private_emulator() as info:
        seen["health"] = control.health(info.endpoint)
        seen["info"] = info
        raise RuntimeError("boom")

    info = seen["info"]
    assert seen["health"]["pid"] == info.pid
    assert control.health(info.endpoint) is None
    assert not control._alive(info.pid)
    assert info.state_dir is not None and not Path(info.state_dir).exists()


def test_local_start_status_stop_from_the_cli(cli: Any) -> None:
    port = str(control.free_port())
    try:
        started = cli("--output", "json", "local", "start", "--port", port)
        again = cli("local", "start", "--port", port)
        status = cli("--output", "json", "local", "status", "--port", port)
    finally:
        stopped = cli("--output", "json", "local", "stop", "--port", port)
    after = cli("--output", "json", "local", "status", "--port", port)

    assert started.exit_code == 0, started.output
    info = json.loads(started.stdout)
    assert info["endpoint"] == f"http://127.0.0.1:{port}" and not info["already_running"]
    assert again.exit_code == 0 and "already running" in again.stdout
    assert json.loads(status.stdout)["running"] is True
    assert json.loads(status.stdout)["pid"] == info["pid"]
    stop_doc = json.loads(stopped.stdout)
    assert {k: stop_doc[k] for k in ("stopped", "port", "pid", "endpoint")} == {
        "stopped": True, "port": int(port), "pid": info["pid"], "endpoint": info["endpoint"]}
    assert stop_doc["queued"] == 0 and stop_doc["snapshot"]["path"].endswith("snapshot.bin")
    assert json.loads(after.stdout)["running"] is False
