"""The SNS event and the destination record the emulator builds (pure functions)."""

from __future__ import annotations

import base64
import json

import pytest

from notifyctl.emulator.delivery import AsyncEvent, destination_record
from notifyctl.emulator.runtime.pool import Invocation
from notifyctl.emulator.sns_event import build_event, sns_timestamp

pytestmark = pytest.mark.unit

TOPIC = "arn:aws:sns:eu-west-1:123456789012:books"
SUB = TOPIC + ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"


def test_sns_event_has_the_aws_shape() -> None:
    event = build_event(topic_arn=TOPIC, subscription_arn=SUB, message_id="m-1",
                        message='{"a":1}', subject="Hi",
                        attributes={"k": {"Type": "String", "Value": "v"}},
                        timestamp="2024-05-01T10:00:00.123Z")

    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == SUB
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == "m-1"
    assert sns["TopicArn"] == TOPIC
    assert sns["Subject"] == "Hi"
    assert sns["Message"] == '{"a":1}'
    assert sns["Timestamp"] == "2024-05-01T10:00:00.123Z"
    assert sns["SignatureVersion"] == "1"
    assert len(base64.b64decode(sns["Signature"])) == 256
    assert sns["SigningCertUrl"].startswith("https://sns.eu-west-1.amazonaws.com/")
    assert sns["UnsubscribeUrl"].endswith(f"SubscriptionArn={SUB}")
    assert sns["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


def test_sns_event_without_subject_has_null_subject() -> None:
    event = build_event(topic_arn=TOPIC, subscription_arn=SUB, message_id="m", message="x",
                        subject=None, attributes=None)

    assert event["Records"][0]["Sns"]["Subject"] is None
    assert event["Records"][0]["Sns"]["MessageAttributes"] == {}


def test_signatures_differ_per_message() -> None:
    def sig(message_id: str) -> str:
        return build_event(topic_arn=TOPIC, subscription_arn=SUB, message_id=message_id,
                           message="x", subject=None, attributes=None,
                           timestamp="t")["Records"][0]["Sns"]["Signature"]

    assert sig("a") != sig("b")


def test_sns_timestamp_is_iso_with_milliseconds_and_z() -> None:
    assert sns_timestamp(0.5) == "1970-01-01T00:00:00.500Z"


def test_failure_destination_record_has_the_aws_format() -> None:
    event = AsyncEvent("123456789012", "us-east-1", "fn", json.dumps({"order": 1}),
                       request_id="req-1", attempts=3)
    event.last = Invocation(request_id="req-1", payload=b'{"errorMessage": "boom"}',
                            function_error="Unhandled", executed_version="2", duration_ms=1.0)

    record = destination_record(event, "RetriesExhausted",
                                "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
                                clock=lambda: 0.25)

    assert record == {
        "version": "1.0",
        "timestamp": "1970-01-01T00:00:00.250Z",
        "requestContext": {"requestId": "req-1",
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"order": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "2",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom"},
    }


def test_a_record_for_an_event_never_run_has_no_response() -> None:
    event = AsyncEvent("123456789012", "us-east-1", "fn", "not json", request_id="r")

    record = destination_record(event, "EventAgeExceeded", "arn", clock=lambda: 0)

    assert record["requestPayload"] == "not json"
    assert "responseContext" not in record and "responsePayload" not in record
