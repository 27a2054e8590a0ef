"""Asynchronous invocation in the emulator: SNS -> Lambda events, retries,
maximum event age, on-failure destinations."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.integration

RECORDER = """
import json

def handler(event, context):
    print("EVENT " + json.dumps(event))
    return {"ok": True}
"""

ALWAYS_FAILS = """
import json

def handler(event, context):
    print("ATTEMPT " + context.aws_request_id)
    raise RuntimeError("downstream is down")
"""


def recorded_events(emulator: Any, name: str) -> list[dict[str, Any]]:
    try:
        page = emulator.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                                         filterPattern="EVENT")
    except emulator.client("logs").exceptions.ResourceNotFoundException:
        return []
    return [json.loads(e["message"][len("EVENT "):]) for e in page["events"]
            if e["message"].startswith("EVENT ")]


def attempts(emulator: Any, name: str) -> list[str]:
    try:
        page = emulator.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                                         filterPattern="ATTEMPT")
    except emulator.client("logs").exceptions.ResourceNotFoundException:
        return []
    return [e["message"].split()[1] for e in page["events"] if e["message"].startswith("ATTEMPT")]


def make_queue(emulator: Any) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=emulator.unique("dest"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive_one(emulator: Any, url: str) -> dict[str, Any]:
    sqs = emulator.client("sqs")

    def poll() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])

    return json.loads(emulator.wait_until(poll, what="a destination record")[0]["Body"])


def test_sns_delivers_the_real_event_to_the_function(emulator: Any) -> None:
    sns = emulator.client("sns")
    fn = emulator.create_function(RECORDER)
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    sub = {"SubscriptionArn": emulator.subscribe_function(topic, fn["FunctionArn"])}

    ids = [
        sns.publish(TopicArn=topic, Message=json.dumps({"book": i}), Subject="Book created",
                    MessageAttributes={
                        "event_type": {"DataType": "String", "StringValue": "book.created"},
                        "schema": {"DataType": "Number", "StringValue": "2"},
                    })["MessageId"]
        for i in range(2)
    ]
    events = emulator.wait_until(
        lambda: (e := recorded_events(emulator, fn["FunctionName"])) and len(e) == 2 and e,
        what="two SNS deliveries")

    records = sorted((e["Records"][0] for e in events), key=lambda r: json.loads(r["Sns"]["Message"])["book"])
    assert [r["Sns"]["MessageId"] for r in records] == ids
    assert len(set(ids)) == 2
    for record in records:
        assert record["EventSource"] == "aws:sns"
        assert record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == sub["SubscriptionArn"]
        message = record["Sns"]
        assert message["Type"] == "Notification"
        assert message["TopicArn"] == topic
        assert message["Subject"] == "Book created"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["Timestamp"])
        assert message["SignatureVersion"] == "1"
        assert message["Signature"] and message["SigningCertUrl"].startswith("https://sns.")
        assert sub["SubscriptionArn"] in message["UnsubscribeUrl"]
        assert message["MessageAttributes"] == {
            "event_type": {"Type": "String", "Value": "book.created"},
            "schema": {"Type": "Number", "Value": "2"},
        }


def test_sns_delivers_to_an_alias_arn(emulator: Any) -> None:
    sns, lam = emulator.client("sns"), emulator.client("lambda")
    fn = emulator.create_function(RECORDER, publish=True)
    alias = lam.create_alias(FunctionName=fn["FunctionName"], Name="live", FunctionVersion="1")
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    emulator.subscribe_function(topic, alias["AliasArn"])

    message_id = sns.publish(TopicArn=topic, Message="hello")["MessageId"]

    events = emulator.wait_until(lambda: recorded_events(emulator, fn["FunctionName"]),
                                 what="the delivery")
    assert events[0]["Records"][0]["Sns"]["MessageId"] == message_id
    assert events[0]["Records"][0]["Sns"]["Subject"] is None
    streams = emulator.client("logs").describe_log_streams(
        logGroupName=f"/aws/lambda/{fn['FunctionName']}")["logStreams"]
    assert all("[1]" in s["logStreamName"] for s in streams)


def test_a_subscription_to_a_missing_function_does_not_fail_publish(emulator: Any) -> None:
    sns = emulator.client("sns")
    fn = emulator.create_function(RECORDER)
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda",
                  Endpoint="arn:aws:lambda:us-east-1:123456789012:function:does-not-exist")
    emulator.subscribe_function(topic, fn["FunctionArn"])

    message_id = sns.publish(TopicArn=topic, Message="still delivered")["MessageId"]

    events = emulator.wait_until(lambda: recorded_events(emulator, fn["FunctionName"]),
                                 what="delivery to the existing function")
    assert events[0]["Records"][0]["Sns"]["MessageId"] == message_id


def test_sns_needs_a_resource_policy_for_the_exact_arn_it_invokes(emulator: Any) -> None:
    sns, lam = emulator.client("sns"), emulator.client("lambda")
    fn = emulator.create_function(RECORDER, publish=True)
    alias = lam.create_alias(FunctionName=fn["FunctionName"], Name="live", FunctionVersion="1")
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    # Allowed on the unqualified function only: not enough for the alias ARN.
    emulator.allow_sns(fn["FunctionName"], topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=alias["AliasArn"])
    failed_before = emulator.status()["async"]["sns_failed"]

    sns.publish(TopicArn=topic, Message="denied")

    emulator.wait_until(lambda: emulator.status()["async"]["sns_failed"] > failed_before,
                        what="the refused delivery")
    assert recorded_events(emulator, fn["FunctionName"]) == []


def test_filter_policies_still_apply_to_lambda_subscriptions(emulator: Any) -> None:
    sns = emulator.client("sns")
    fn = emulator.create_function(RECORDER)
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    emulator.subscribe_function(topic, fn["FunctionArn"],
                                Attributes={"FilterPolicy": json.dumps({"kind": ["wanted"]})})

    sns.publish(TopicArn=topic, Message="skip", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "other"}})
    wanted = sns.publish(TopicArn=topic, Message="take", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "wanted"}})["MessageId"]

    events = emulator.wait_until(lambda: recorded_events(emulator, fn["FunctionName"]),
                                 what="the wanted delivery")
    assert [e["Records"][0]["Sns"]["MessageId"] for e in events] == [wanted]


def test_failed_async_invocations_are_retried_then_sent_to_the_on_failure_queue(
        emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function(ALWAYS_FAILS)
    url, queue_arn = make_queue(emulator)
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"], MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    resp = lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event",
                      Payload=json.dumps({"order": 7}))
    record = receive_one(emulator, url)

    assert resp["StatusCode"] == 202
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == fn["FunctionArn"] + ":$LATEST"
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "downstream is down"
    request_ids = attempts(emulator, fn["FunctionName"])
    assert len(request_ids) == 3 and len(set(request_ids)) == 1  # retries keep the request id
    assert request_ids[0] == record["requestContext"]["requestId"]


def test_sns_deliveries_get_lambda_retries_too(emulator: Any) -> None:
    sns, lam = emulator.client("sns"), emulator.client("lambda")
    fn = emulator.create_function(ALWAYS_FAILS)
    url, queue_arn = make_queue(emulator)
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    emulator.subscribe_function(topic, fn["FunctionArn"])

    message_id = sns.publish(TopicArn=topic, Message="x")["MessageId"]
    record = receive_one(emulator, url)

    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["Records"][0]["Sns"]["MessageId"] == message_id


def test_an_updated_event_invoke_config_takes_effect(emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function(ALWAYS_FAILS)
    url, queue_arn = make_queue(emulator)
    lam.put_function_event_invoke_config(FunctionName=fn["FunctionName"], MaximumRetryAttempts=2)
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"], MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event", Payload=b"{}")
    record = receive_one(emulator, url)

    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert lam.get_function_event_invoke_config(
        FunctionName=fn["FunctionName"])["MaximumRetryAttempts"] == 0


def test_events_older_than_the_maximum_age_are_not_retried(emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function(ALWAYS_FAILS)
    url, queue_arn = make_queue(emulator)
    # 60 s at the tests' 1/1000 scale is 60 ms: the first retry (after "1 minute") is too late.
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"], MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})

    lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event", Payload=b'{"a": 1}')
    record = receive_one(emulator, url)

    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_successful_async_invocations_go_to_the_on_success_destination(emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function(RECORDER)
    url, queue_arn = make_queue(emulator)
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"],
        DestinationConfig={"OnSuccess": {"Destination": queue_arn}})

    lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event", Payload=b'{"b": 2}')
    record = receive_one(emulator, url)

    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"ok": True}
    assert "functionError" not in record["responseContext"]


def test_status_counts_invocations_per_function(emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function(RECORDER)
    for _ in range(2):
        lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}")

    functions = {f["name"]: f for f in emulator.status()["functions"]}

    entry = functions[fn["FunctionName"]]
    assert entry["invocations"] == 2
    assert entry["errors"] == 0
    assert entry["warm"] == 1
