"""`notifyctl failures` against moto: list both places, redrive with the original event.

Lambda's Invoke is answered by a before-call hook (moto would need Docker to run the
function): the tests check what redrive sends and what it does with the queue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from notifyctl.config import load
from notifyctl.failures import redrive as redrive_lib
from notifyctl.failures.source import list_failures

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parent.parent / "events"
NOW = 1_764_300_000.0  # 2025-11-28T03:20:00Z
BASE = ["--env", "dev", "--region", "us-east-1"]


@pytest.fixture
def env(repo_config: Path) -> Any:
    return load(str(repo_config), "dev")[0]


def sns_event(message_id: str, event_id: str | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS / "sns_book_created.json").read_text())
    sns = event["Records"][0]["Sns"]
    sns["MessageId"] = message_id
    if event_id:
        sns["Message"] = json.dumps({**json.loads(sns["Message"]), "event_id": event_id})
    return event


def destination_record(request_id: str, event: dict[str, Any]) -> str:
    """Lambda's on-failure invocation record (AWS's format)."""
    return json.dumps({
        "version": "1.0", "timestamp": "2025-11-28T03:10:00.000Z",
        "requestContext": {"requestId": request_id, "condition": "RetriesExhausted",
                           "approximateInvokeCount": 3,
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:"
                                          "function:books-dev-notifier:live"},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "3",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorType": "SendRefused",
                            "errorMessage": "SendingPausedException: paused for "
                                            "jane.doe@example.com"},
    })


@pytest.fixture
def places(aws_clients: Any, env: Any) -> dict[str, Any]:
    from notifyctl.infra.specs import tags_for

    sqs, ddb = aws_clients.client("sqs"), aws_clients.client("dynamodb")
    ours = tags_for(env)  # as bootstrap tags them: redrive refuses what is not ours
    url = sqs.create_queue(QueueName=env.dlq_name, tags=ours)["QueueUrl"]
    ddb.create_table(TableName=env.table_name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     Tags=[{"Key": k, "Value": v} for k, v in ours.items()])
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(
        "req-paused", sns_event("m-paused", "ev-paused")))
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(
        "req-ddb-down", sns_event("m-ddb")))

    def put(pk: str, status: str, reason: str, **extra: Any) -> None:
        item = {"pk": {"S": pk}, "status": {"S": status}, "reason": {"S": reason},
                "attempts": {"N": "1"}, "claimed_at": {"N": str(int(NOW - 60) * 1000)},
                "book_id": {"S": "b-1042"}, "recipient": {"S": "j***@example.com"}}
        item.update({k: {"N": str(v)} if isinstance(v, int) else {"S": v}
                     for k, v in extra.items()})
        ddb.put_item(TableName=env.table_name, Item=item)

    put("event:ev-paused", "FAILED", "SendingPausedException: paused")  # an old record
    put("m-rejected", "FAILED", "MessageRejected: bad address")
    put("m-lost", "UNCONFIRMED", "no answer from SES: Read timeout",
        unconfirmed_at=int(NOW - 30) * 1000)
    put("m-sent", "SENT", "")
    return {"url": url}


def invoked(aws_clients: Any, status: int = 202) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        calls.append({"url": params["url_path"], "query": params["query_string"],
                      "body": json.loads(params["body"]),
                      "type": params["headers"].get("X-Amz-Invocation-Type")})
        return AWSResponse("https://lambda", status, {}, None), {"StatusCode": status}
    aws_clients.client("lambda").meta.events.register("before-call.lambda.Invoke", answer)
    return calls


def queue_ids(aws_clients: Any, env: Any) -> list[str]:
    return [f.id for f in list_failures(aws_clients, env, clock=lambda: NOW).queue]


def test_list_shows_both_places_with_redacted_recipients(aws_clients: Any, env: Any,
                                                         places: Any) -> None:
    found = list_failures(aws_clients, env, clock=lambda: NOW)

    assert sorted(f.id for f in found.queue) == ["req-ddb-down", "req-paused"]
    paused = next(f for f in found.queue if f.id == "req-paused")
    assert (paused.status, paused.attempts, paused.book_id, paused.recipient) == \
        ("RetriesExhausted", 3, "b-1042", "j***@example.com")
    assert paused.dedup_key == "event:ev-paused"
    assert paused.age_s == pytest.approx(600)
    assert "jane.doe@example.com" not in json.dumps(found.to_dict())
    assert sorted((f.id, f.status) for f in found.table) == [
        ("event:ev-paused", "FAILED"), ("m-lost", "UNCONFIRMED"), ("m-rejected", "FAILED")]
    # listing consumed nothing
    assert sorted(queue_ids(aws_clients, env)) == ["req-ddb-down", "req-paused"]


def test_the_plan_resets_transient_failed_records_and_skips_the_rest(
    aws_clients: Any, env: Any, places: Any
) -> None:
    found = list_failures(aws_clients, env, clock=lambda: NOW)

    steps = {s.failure.id: s.action for s in redrive_lib.plan(found, [], True)}

    assert steps == {"req-paused": "reset+invoke", "req-ddb-down": "invoke",
                     "m-rejected": "skip", "m-lost": "skip"}


def test_redrive_all_invokes_live_with_the_original_event_then_deletes_the_messages(
    aws_clients: Any, env: Any, places: Any
) -> None:
    calls = invoked(aws_clients)
    found, steps = redrive_lib.prepare(aws_clients, env, [], True, dry_run=False,
                                       clock=lambda: NOW)

    report = redrive_lib.execute(aws_clients, env, steps, found.queue_url,
                                 table_records={f.dedup_key or "": f for f in found.table})

    assert report.ok
    assert sorted(c["body"]["Records"][0]["Sns"]["MessageId"] for c in calls) == \
        ["m-ddb", "m-paused"]
    assert {c["type"] for c in calls} == {"Event"}
    assert {(c["url"], str(c["query"])) for c in calls} == {
        ("/2015-03-31/functions/books-dev-notifier/invocations", str({"Qualifier": "live"}))}
    assert queue_ids(aws_clients, env) == []
    ddb = aws_clients.client("dynamodb")
    assert "Item" not in ddb.get_item(TableName=env.table_name,
                                      Key={"pk": {"S": "event:ev-paused"}})
    assert ddb.get_item(TableName=env.table_name,
                        Key={"pk": {"S": "m-rejected"}})["Item"]["status"]["S"] == "FAILED"
    assert report.to_dict()["redriven"] == 2


def test_a_message_lambda_did_not_accept_stays_in_the_queue(aws_clients: Any, env: Any,
                                                            places: Any) -> None:
    invoked(aws_clients, status=500)
    found, steps = redrive_lib.prepare(aws_clients, env, ["req-ddb-down"], False,
                                       dry_run=False, clock=lambda: NOW)

    report = redrive_lib.execute(aws_clients, env, steps, found.queue_url, table_records={})

    assert not report.ok and len(report.failed) == 1
    assert sorted(queue_ids(aws_clients, env)) == ["req-ddb-down", "req-paused"]


def test_unknown_id_is_a_usage_error_and_hides_nothing(aws_clients: Any, env: Any,
                                                      places: Any) -> None:
    from notifyctl.errors import UsageError

    with pytest.raises(UsageError, match="no such failure"):
        redrive_lib.prepare(aws_clients, env, ["nope"], False, dry_run=False)
    assert sorted(queue_ids(aws_clients, env)) == ["req-ddb-down", "req-paused"]


def test_an_unconfirmed_record_named_by_id_is_reset(aws_clients: Any, env: Any,
                                                    places: Any) -> None:
    found, steps = redrive_lib.prepare(aws_clients, env, ["m-lost"], False, dry_run=False)
    report = redrive_lib.execute(aws_clients, env, steps, found.queue_url, table_records={})

    assert [r.step.action for r in report.results] == ["reset"] and report.ok
    assert "Item" not in aws_clients.client("dynamodb").get_item(
        TableName=env.table_name, Key={"pk": {"S": "m-lost"}})


def test_cli_list_and_dry_run_as_json(cli: Any, aws_clients: Any, places: Any) -> None:
    listed = cli(*BASE, "-o", "json", "failures", "list")
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)["failures"]) == 5

    plan = cli(*BASE, "-o", "json", "failures", "redrive", "--all", "--dry-run")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert data["dry_run"] is True and len(data["plan"]) == 4

    shown = cli(*BASE, "-o", "json", "failures", "show", "req-pa")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["book_id"] == "b-1042"


def test_cli_redrive_without_yes_when_piped_is_a_usage_error(cli: Any, aws_clients: Any,
                                                             places: Any) -> None:
    result = cli(*BASE, "failures", "redrive", "--all")
    assert result.exit_code == 2 and "--yes" in result.output


def test_list_reads_every_message_of_a_long_queue_and_consumes_none(
    aws_clients: Any, env: Any, places: Any
) -> None:
    sqs = aws_clients.client("sqs")
    for n in range(23):
        sqs.send_message(QueueUrl=places["url"], MessageBody=destination_record(
            f"req-more-{n}", sns_event(f"m-more-{n}")))

    assert len(list_failures(aws_clients, env, clock=lambda: NOW).queue) == 25
    assert len(list_failures(aws_clients, env, clock=lambda: NOW).queue) == 25
