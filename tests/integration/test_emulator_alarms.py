"""CloudWatch alarms in the emulator evaluate, keep history and notify SNS (plain boto3).

The session's emulator runs at a time scale of 0.001: a 60-second period is 60 ms.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration

FAILS = """
def handler(event, context):
    raise RuntimeError("boom")
"""


def state(emulator: Any, alarm: str) -> dict[str, Any]:
    return dict(emulator.client("cloudwatch").describe_alarms(
        AlarmNames=[alarm])["MetricAlarms"][0])


def history(emulator: Any, alarm: str, kind: str | None = None) -> list[dict[str, Any]]:
    kwargs = {"HistoryItemType": kind} if kind else {}
    return list(emulator.client("cloudwatch").describe_alarm_history(
        AlarmName=alarm, **kwargs)["AlarmHistoryItems"])


def topic_into_queue(emulator: Any) -> tuple[str, str]:
    """An SNS topic whose messages land in an SQS queue: (topic ARN, queue URL)."""
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    topic = sns.create_topic(Name=emulator.unique("alarms"))["TopicArn"]
    url = sqs.create_queue(QueueName=emulator.unique("inbox"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def notifications(emulator: Any, url: str) -> list[dict[str, Any]]:
    got = emulator.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_an_errors_alarm_goes_to_alarm_and_notifies_its_topic(emulator: Any) -> None:
    cw, lam = emulator.client("cloudwatch"), emulator.client("lambda")
    name = emulator.create_function(FAILS)["FunctionName"]
    topic, inbox = topic_into_queue(emulator)
    alarm = emulator.unique("errors")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors",
                        Dimensions=[{"Name": "FunctionName", "Value": name}], Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=0,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic])
    created = state(emulator, alarm)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"

    lam.invoke(FunctionName=name, Payload=b"{}")
    # The state as it fired (one scaled period later it may already be INSUFFICIENT_DATA).
    fired = emulator.wait_until(lambda: (s := state(emulator, alarm))["StateValue"] == "ALARM"
                                and s, what="the alarm to fire")

    assert fired["StateReason"].startswith("Threshold Crossed: 1 datapoint [1.0")
    summaries = [h["HistorySummary"] for h in history(emulator, alarm)]
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in summaries
    assert f'Alarm "{alarm}" created' in summaries
    assert f"Successfully executed action {topic}" in summaries
    envelope = emulator.wait_until(lambda: notifications(emulator, inbox),
                                   what="the alarm notification")[0]
    assert envelope["Subject"] == f'ALARM: "{alarm}" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == alarm and message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "INSUFFICIENT_DATA"
    assert message["Trigger"]["MetricName"] == "Errors"
    assert message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["Dimensions"] == [{"value": name, "name": "FunctionName"}]

    # no more errors: the period passes, no data -> INSUFFICIENT_DATA (TreatMissingData=missing)
    emulator.wait_until(lambda: state(emulator, alarm)["StateValue"] == "INSUFFICIENT_DATA",
                        what="the alarm to leave ALARM")


def test_set_alarm_state_records_history_and_runs_actions(emulator: Any) -> None:
    cw = emulator.client("cloudwatch")
    topic, inbox = topic_into_queue(emulator)
    alarm = emulator.unique("drill")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="Drill", MetricName="Nothing",
                        Statistic="Sum", Period=3600, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic],
                        TreatMissingData="ignore")
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="drill")

    assert state(emulator, alarm)["StateValue"] == "ALARM"
    assert state(emulator, alarm)["StateReason"] == "drill"
    updates = history(emulator, alarm, "StateUpdate")
    assert updates[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(updates[0]["HistoryData"])["newState"]["stateReason"] == "drill"
    envelope = emulator.wait_until(lambda: notifications(emulator, inbox),
                                   what="the drill notification")[0]
    assert json.loads(envelope["Message"])["NewStateReason"] == "drill"

    # updating the alarm keeps its state (AWS)
    cw.put_metric_alarm(AlarmName=alarm, Namespace="Drill", MetricName="Nothing",
                        Statistic="Sum", Period=3600, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    assert state(emulator, alarm)["StateValue"] == "ALARM"
    assert f'Alarm "{alarm}" updated' in [h["HistorySummary"]
                                         for h in history(emulator, alarm, "ConfigurationUpdate")]


def test_a_queue_depth_alarm_on_sqs_approximate_number_of_messages_visible(
        emulator: Any) -> None:
    cw, sqs = emulator.client("cloudwatch"), emulator.client("sqs")
    queue = emulator.unique("failures")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    alarm = emulator.unique("depth")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/SQS",
                        MetricName="ApproximateNumberOfMessagesVisible",
                        Dimensions=[{"Name": "QueueName", "Value": queue}], Statistic="Maximum",
                        Period=60, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=2,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    emulator.wait_until(lambda: state(emulator, alarm)["StateValue"] == "OK",
                        what="the empty queue to be OK")
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"failed event {n}")

    emulator.wait_until(lambda: state(emulator, alarm)["StateValue"] == "ALARM",
                        what="the queue depth alarm")
    assert "2 out of the last 2 datapoints" in state(emulator, alarm)["StateReason"]
