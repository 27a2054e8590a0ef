"""SES's event publishing (patches/ses.py MotoSesSink) holds what an SNS Publish holds
(sns + sqs), not every service's lock: a Send/Delivery event reaches its topic while a
DynamoDB request (a running function's de-dup write) holds the DynamoDB group, instead
of waiting for it and stopping every other service meanwhile."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from notifyctl.emulator.patches import ses as ses_patch
from notifyctl.emulator.ses_simulator import Publication


def test_an_ses_event_is_published_while_another_service_holds_its_lock(
        moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.emulator.backends import MOTO_LOCK

    monkeypatch.setattr(ses_patch, "_checking_permissions", lambda: False)
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})

    holding, release = threading.Event(), threading.Event()

    def dynamodb_request() -> None:
        with MOTO_LOCK.hold("dynamodb"):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=dynamodb_request, daemon=True)
    holder.start()
    assert holding.wait(10)
    published = threading.Thread(target=ses_patch.MotoSesSink().publish, daemon=True, args=(
        Publication(topic_arn=topic, message=json.dumps({"eventType": "Delivery"}),
                    subject="Amazon SES Email Event Notification",
                    source_arn="arn:aws:ses:us-east-1:123456789012:configuration-set/c"),))
    try:
        published.start()
        published.join(20)
        done_while_held = not published.is_alive()
    finally:
        release.set()
        holder.join(10)
        published.join(10)

    assert done_while_held, "the SES event waited for the DynamoDB lock"
    messages: list[Any] = sqs.receive_message(QueueUrl=queue_url).get("Messages", [])
    assert [json.loads(m["Body"]) for m in messages] == [{"eventType": "Delivery"}]
