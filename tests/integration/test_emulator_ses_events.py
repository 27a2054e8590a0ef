"""SES's feedback loop on the emulator (issue 17 item 4): configuration sets and their
SNS event destinations, identity notification topics, the mailbox simulator, the
account-level suppression list, GetSendStatistics and the AWS/SES reputation metrics.

Events are read from an SQS queue subscribed to the topic (raw delivery: the body is the
SES JSON) and compared with AWS's documented samples in tests/events/ses_*.json. Each
test that changes account-level SES state uses a region of its own (the emulator keeps
SES accounts per account and region).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from notifyctl.emulator import outbox, ses_account

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"
DOMAIN = "feedback-probe.example"
SENDER = f"books@{DOMAIN}"
SIM = "simulator.amazonses.com"
ALL_TYPES = ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY",
             "RENDERING_FAILURE"]


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")))


@dataclass
class Feedback:
    """SES set up in one region: a configuration set with an SNS destination for every
    type, the sending domain's notification topics, and an SQS queue on each topic."""

    emulator: Any
    region: str
    config_set: str = ""
    events_queue: str = ""
    notes_queue: str = ""
    notes_topic: str = ""
    events_topic: str = ""
    _seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=self.emulator.endpoint, region_name=self.region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}))

    def queue_on(self, topic_arn: str) -> str:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=self.emulator.unique("ses-q"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs",
                                     Endpoint=arn["Attributes"]["QueueArn"],
                                     Attributes={"RawMessageDelivery": "true"})
        return str(url)

    def setup(self, *, headers: tuple[str, ...] = ()) -> Feedback:
        sns, ses, sesv2 = self.client("sns"), self.client("ses"), self.client("sesv2")
        ses.verify_domain_identity(Domain=DOMAIN)
        self.events_topic = sns.create_topic(Name=self.emulator.unique("ses-events"))["TopicArn"]
        self.notes_topic = sns.create_topic(Name=self.emulator.unique("ses-notes"))["TopicArn"]
        self.events_queue = self.queue_on(self.events_topic)
        self.notes_queue = self.queue_on(self.notes_topic)
        self.config_set = self.emulator.unique("notifications")
        sesv2.create_configuration_set(ConfigurationSetName=self.config_set,
                                       ReputationOptions={"ReputationMetricsEnabled": True})
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=self.config_set, EventDestinationName="sns",
            EventDestination={"Enabled": True, "MatchingEventTypes": ALL_TYPES,
                              "SnsDestination": {"TopicArn": self.events_topic}})
        for kind in ("Bounce", "Complaint", "Delivery"):
            ses.set_identity_notification_topic(Identity=DOMAIN, NotificationType=kind,
                                                SnsTopic=self.notes_topic)
            ses.set_identity_headers_in_notifications_enabled(
                Identity=DOMAIN, NotificationType=kind, Enabled=kind in headers)
        return self

    def send(self, to: str, *, config_set: bool = True, tags: dict[str, str] | None = None,
             **extra: Any) -> str:
        kwargs: dict[str, Any] = {"ConfigurationSetName": self.config_set} if config_set else {}
        tag_list = [{"Name": k, "Value": v} for k, v in (tags or {"book": "b-1"}).items()]
        return str(self.client("ses").send_email(
            Source=SENDER, Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": "New book"}, "Body": {"Text": {"Data": "hello"}}},
            Tags=tag_list, **kwargs, **extra)["MessageId"])

    def _drain(self, queue: str) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        seen = self._seen.setdefault(queue, [])
        while True:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return seen
            for message in got:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def events(self, message_id: str, count: int, *, notes: bool = False) -> list[dict[str, Any]]:
        """The first `count` records about `message_id` (waits for them), in arrival order."""
        queue = self.notes_queue if notes else self.events_queue

        def mine() -> list[dict[str, Any]]:
            return [e for e in self._drain(queue) if e["mail"]["messageId"] == message_id]

        return self.emulator.wait_until(lambda: len(mine()) >= count and mine(),
                                        what=f"{count} SES record(s) for {message_id}")[:count]

    def kinds(self, message_id: str, count: int, *, notes: bool = False) -> list[str]:
        key = "notificationType" if notes else "eventType"
        return [e[key] for e in self.events(message_id, count, notes=notes)]


@pytest.fixture
def feedback(emulator: Any) -> Callable[..., Feedback]:
    def make(region: str, **kwargs: Any) -> Feedback:
        return Feedback(emulator, region).setup(**kwargs)
    return make


def assert_documented_shape(record: dict[str, Any], name: str) -> None:
    """Every field AWS's sample has is there (SES may add fields: consumers ignore them)."""
    expected = sample(name)
    assert set(record) == set(expected)
    assert set(expected["mail"]) <= set(record["mail"])
    detail = next(k for k in expected if k not in ("mail", "eventType", "notificationType"))
    assert set(expected[detail]) <= set(record[detail]), (detail, record[detail])


# -- the APIs bootstrap and Terraform call ----------------------------------------------

def test_configuration_set_and_event_destination_apis_read_back(emulator: Any) -> None:
    sesv2, ses = emulator.client("sesv2"), emulator.client("ses")
    name = emulator.unique("cs")
    topic = emulator.client("sns").create_topic(Name=emulator.unique("t"))["TopicArn"]
    sesv2.create_configuration_set(ConfigurationSetName=name,
                                   ReputationOptions={"ReputationMetricsEnabled": True},
                                   SuppressionOptions={"SuppressedReasons": ["BOUNCE"]},
                                   Tags=[{"Key": "owner", "Value": "books"}])
    arn = f"arn:aws:ses:us-east-1:123456789012:configuration-set/{name}"
    sesv2.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    got = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert got["SendingOptions"] == {"SendingEnabled": True}
    assert got["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE"]}
    assert {t["Key"]: t["Value"] for t in got["Tags"]} == {"owner": "books", "env": "test"}

    sesv2.put_configuration_set_reputation_options(ConfigurationSetName=name,
                                                   ReputationMetricsEnabled=False)
    sesv2.put_configuration_set_suppression_options(ConfigurationSetName=name,
                                                    SuppressedReasons=["BOUNCE", "COMPLAINT"])
    got = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is False
    assert got["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]

    definition = {"Enabled": True, "MatchingEventTypes": ALL_TYPES,
                  "SnsDestination": {"TopicArn": topic}}
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="to-sns", EventDestination=definition)
    with pytest.raises(ClientError) as dup:
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName="to-sns", EventDestination=definition)
    assert dup.value.response["Error"]["Code"] == "AlreadyExistsException"
    listed = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert listed["EventDestinations"] == [{"Name": "to-sns", **definition}]
    v1 = ses.describe_configuration_set(ConfigurationSetName=name,
                                        ConfigurationSetAttributeNames=["eventDestinations"])
    assert v1["EventDestinations"][0]["SNSDestination"] == {"TopicARN": topic}
    assert "renderingFailure" in v1["EventDestinations"][0]["MatchingEventTypes"]

    sesv2.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="to-sns",
        EventDestination={**definition, "Enabled": False, "MatchingEventTypes": ["BOUNCE"]})
    listed = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert listed["EventDestinations"][0]["Enabled"] is False
    sesv2.delete_configuration_set_event_destination(ConfigurationSetName=name,
                                                     EventDestinationName="to-sns")
    assert sesv2.get_configuration_set_event_destinations(
        ConfigurationSetName=name)["EventDestinations"] == []

    sesv2.delete_configuration_set(ConfigurationSetName=name)
    for call in (lambda: sesv2.get_configuration_set(ConfigurationSetName=name),
                 lambda: sesv2.delete_configuration_set(ConfigurationSetName=name)):
        with pytest.raises(ClientError) as gone:
            call()
        assert gone.value.response["Error"]["Code"] == "NotFoundException"
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


def test_v1_event_destinations_and_identity_notification_settings_read_back(
        emulator: Any) -> None:
    ses = emulator.client("ses")
    name, topic = emulator.unique("v1cs"), "arn:aws:sns:us-east-1:123456789012:anything"
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    dest = {"Name": "d", "Enabled": True, "MatchingEventTypes": ["bounce", "complaint"],
            "SNSDestination": {"TopicARN": topic}}
    ses.create_configuration_set_event_destination(ConfigurationSetName=name,
                                                   EventDestination=dest)
    ses.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination={**dest, "MatchingEventTypes": ["send"]})
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["MatchingEventTypes"] == ["send"]
    ses.delete_configuration_set_event_destination(ConfigurationSetName=name,
                                                   EventDestinationName="d")
    with pytest.raises(ClientError) as missing:
        ses.delete_configuration_set_event_destination(ConfigurationSetName=name,
                                                       EventDestinationName="d")
    assert missing.value.response["Error"]["Code"] == "EventDestinationDoesNotExist"

    identity = f"{emulator.unique('id')}.example"
    ses.verify_domain_identity(Domain=identity)
    ses.set_identity_notification_topic(Identity=identity, NotificationType="Bounce",
                                        SnsTopic=topic)
    ses.set_identity_headers_in_notifications_enabled(Identity=identity,
                                                      NotificationType="Bounce", Enabled=True)
    got = ses.get_identity_notification_attributes(Identities=[identity])
    attrs = got["NotificationAttributes"][identity]
    assert attrs["BounceTopic"] == topic and "ComplaintTopic" not in attrs
    assert attrs["HeadersInBounceNotificationsEnabled"] is True
    assert attrs["HeadersInDeliveryNotificationsEnabled"] is False
    ses.set_identity_notification_topic(Identity=identity, NotificationType="Bounce")
    ses.set_identity_notification_topic(Identity=identity, NotificationType="Bounce")  # again
    attrs = ses.get_identity_notification_attributes(
        Identities=[identity])["NotificationAttributes"][identity]
    assert "BounceTopic" not in attrs


def test_a_send_is_refused_for_an_unknown_configuration_set_or_an_invalid_tag(
        emulator: Any) -> None:
    ses = emulator.client("ses")
    ses.verify_domain_identity(Domain=DOMAIN)
    message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}
    with pytest.raises(ClientError) as unknown:
        ses.send_email(Source=SENDER, Destination={"ToAddresses": [f"a@{SIM}"]},
                       Message=message, ConfigurationSetName=emulator.unique("missing"))
    assert unknown.value.response["Error"]["Code"] == "ConfigurationSetDoesNotExist"
    with pytest.raises(ClientError) as bad_tag:
        ses.send_email(Source=SENDER, Destination={"ToAddresses": [f"success@{SIM}"]},
                       Message=message, Tags=[{"Name": "book", "Value": "id with spaces"}])
    assert bad_tag.value.response["Error"]["Code"] == "InvalidParameterValue"


# -- the mailbox simulator ------------------------------------------------------------------

@pytest.mark.parametrize(("address", "kinds"), [
    (f"success@{SIM}", ["Send", "Delivery"]),
    (f"success+label-1@{SIM}", ["Send", "Delivery"]),
    (f"bounce@{SIM}", ["Send", "Bounce"]),
    (f"ooto@{SIM}", ["Send", "Delivery"]),
    (f"complaint@{SIM}", ["Send", "Delivery", "Complaint"]),
    (f"suppressionlist@{SIM}", ["Send", "Bounce"]),
    ("reader@ordinary.example", ["Send", "Delivery"]),
])
def test_each_recipient_produces_the_documented_events_in_order(
        feedback: Callable[..., Feedback], address: str, kinds: list[str]) -> None:
    fb = feedback("eu-west-1")
    message_id = fb.send(address, tags={"book": "b-42", "dedup": "k-1"})
    records = fb.events(message_id, len(kinds))
    assert [r["eventType"] for r in records] == kinds
    for record in records:
        name = {"Send": "send", "Delivery": "delivery", "Bounce": "bounce",
                "Complaint": "complaint"}[record["eventType"]]
        assert_documented_shape(record, f"ses_event_{name}")
        mail = record["mail"]
        assert mail["destination"] == [address] and mail["source"] == SENDER
        assert mail["sourceArn"] == f"arn:aws:ses:eu-west-1:123456789012:identity/{DOMAIN}"
        assert mail["tags"]["ses:configuration-set"] == [fb.config_set]
        assert mail["tags"]["book"] == ["b-42"] and mail["tags"]["dedup"] == ["k-1"]
        assert mail["tags"]["ses:from-domain"] == [DOMAIN]
    last = records[-1]
    if last["eventType"] == "Bounce":
        sub = "Suppressed" if address.startswith("suppressionlist") else "General"
        assert (last["bounce"]["bounceType"], last["bounce"]["bounceSubType"]) == \
            ("Permanent", sub)
        assert last["bounce"]["bouncedRecipients"][0]["emailAddress"] == address
    if last["eventType"] == "Complaint":
        assert last["complaint"]["complaintFeedbackType"] == "abuse"
    if last["eventType"] == "Delivery":
        assert last["delivery"]["recipients"] == [address]
    # and nothing more arrives for this message
    assert len([e for e in fb._drain(fb.events_queue)
                if e["mail"]["messageId"] == message_id]) == len(kinds)


def test_identity_notifications_carry_headers_only_when_enabled(
        feedback: Callable[..., Feedback]) -> None:
    fb = feedback("eu-west-2", headers=("Bounce",))
    bounced = fb.send(f"bounce@{SIM}", config_set=False)
    delivered = fb.send(f"success@{SIM}", config_set=False)
    [bounce] = fb.events(bounced, 1, notes=True)
    [delivery] = fb.events(delivered, 1, notes=True)
    assert bounce["notificationType"] == "Bounce"
    assert_documented_shape(bounce, "ses_notification_bounce_dsn")
    assert {"headers", "commonHeaders", "headersTruncated"} <= set(bounce["mail"])
    assert {"name": "Subject", "value": "New book"} in bounce["mail"]["headers"]
    assert bounce["mail"]["commonHeaders"]["subject"] == "New book"
    assert delivery["notificationType"] == "Delivery"
    expected = sample("ses_notification_delivery")
    assert set(expected["delivery"]) <= set(delivery["delivery"])
    assert not {"headers", "commonHeaders", "headersTruncated"} & set(delivery["mail"])
    assert "tags" not in bounce["mail"] and "tags" not in delivery["mail"]  # identity: no tags
    # without a configuration set nothing goes to the event destination
    assert not [e for e in fb._drain(fb.events_queue)
                if e["mail"]["messageId"] in (bounced, delivered)]


def test_complaint_notification_matches_the_documented_sample(
        feedback: Callable[..., Feedback]) -> None:
    fb = feedback("eu-west-2", headers=("Complaint",))
    message_id = fb.send(f"complaint@{SIM}")
    assert fb.kinds(message_id, 2, notes=True) == ["Delivery", "Complaint"]
    complaint = fb.events(message_id, 2, notes=True)[1]
    assert_documented_shape(complaint, "ses_notification_complaint_feedback")
    assert complaint["complaint"]["complainedRecipients"] == [
        {"emailAddress": f"complaint@{SIM}"}]


def test_a_message_with_the_eicar_test_string_is_accepted_then_rejected(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("eu-west-1")
    to = "reader@ordinary.example"
    attachment = base64.b64encode(
        b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").decode()
    raw = (f"From: {SENDER}\nTo: {to}\nSubject: virus\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nhi\n"
           "--b1\nContent-Type: text/plain\nContent-Disposition: attachment; filename=s.txt\n"
           f"Content-Transfer-Encoding: base64\n\n{attachment}\n--b1--\n")
    message_id = fb.client("ses").send_raw_email(
        Source=SENDER, Destinations=[to], RawMessage={"Data": raw.encode()},
        ConfigurationSetName=fb.config_set)["MessageId"]
    records = fb.events(message_id, 2)
    assert [r["eventType"] for r in records] == ["Send", "Reject"]
    assert_documented_shape(records[1], "ses_event_reject")
    assert message_id not in [e.message_id for e in outbox.read(emulator.endpoint)]


# -- the account-level suppression list --------------------------------------------------

def test_a_hard_bounce_suppresses_the_address_and_the_next_send_bounces_on_the_list(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("ap-southeast-1")
    gone = f"{emulator.unique('gone')}@ordinary.example"
    ses_account.script_mailbox(emulator.endpoint, gone, "bounce", region=fb.region)
    first = fb.send(gone)
    assert fb.kinds(first, 2) == ["Send", "Bounce"]
    sesv2 = fb.client("sesv2")
    listed = emulator.wait_until(lambda: _suppressed(sesv2, gone), what="the suppression")
    assert listed["Reason"] == "BOUNCE"
    assert listed["Attributes"]["MessageId"] == first

    second = fb.send(gone)
    records = fb.events(second, 2)
    assert [r["eventType"] for r in records] == ["Send", "Bounce"]
    bounce = records[1]["bounce"]
    assert (bounce["bounceType"], bounce["bounceSubType"]) == \
        ("Permanent", "OnAccountSuppressionList")
    assert_documented_shape(records[1], "ses_event_bounce")
    assert second not in [e.message_id for e in outbox.read(emulator.endpoint)]
    stats = fb.client("ses").get_send_statistics()["SendDataPoints"]
    assert sum(p["Bounces"] for p in stats) == 1  # the list's bounce is no delivery attempt


def test_a_removed_address_is_deliverable_again(feedback: Callable[..., Feedback],
                                                emulator: Any) -> None:
    fb = feedback("ap-southeast-2")
    reader = f"{emulator.unique('back')}@ordinary.example"
    sesv2 = fb.client("sesv2")
    sesv2.put_suppressed_destination(EmailAddress=reader, Reason="COMPLAINT")
    suppressed = fb.send(reader)
    assert fb.events(suppressed, 2)[1]["bounce"]["bounceSubType"] == "OnAccountSuppressionList"
    sesv2.delete_suppressed_destination(EmailAddress=reader)
    delivered = fb.send(reader)
    assert fb.kinds(delivered, 2) == ["Send", "Delivery"]
    assert delivered in [e.message_id for e in outbox.read(emulator.endpoint)]


def test_complaints_suppress_only_when_the_account_says_so_and_never_simulator_addresses(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("ca-central-1")
    sesv2 = fb.client("sesv2")
    sesv2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    angry = f"{emulator.unique('angry')}@ordinary.example"
    ses_account.script_mailbox(emulator.endpoint, angry, "complain", region=fb.region)
    first = fb.send(angry)
    assert fb.kinds(first, 3) == ["Send", "Delivery", "Complaint"]
    assert _suppressed(sesv2, angry) is None

    sesv2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE", "COMPLAINT"])
    second = fb.send(angry)
    assert fb.kinds(second, 3) == ["Send", "Delivery", "Complaint"]
    assert emulator.wait_until(lambda: _suppressed(sesv2, angry),
                               what="the suppression")["Reason"] == "COMPLAINT"
    for address in (f"bounce@{SIM}", f"complaint@{SIM}"):
        fb.events(fb.send(address), 2)
        assert _suppressed(sesv2, address) is None  # AWS never lists simulator addresses


def _suppressed(sesv2: Any, address: str) -> dict[str, Any] | None:
    try:
        return dict(sesv2.get_suppressed_destination(EmailAddress=address)
                    ["SuppressedDestination"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            return None
        raise


# -- statistics and reputation ------------------------------------------------------------

def test_send_statistics_and_reputation_metrics_reflect_what_happened(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("sa-east-1")
    since = datetime.now(UTC) - timedelta(minutes=5)
    bad = f"{emulator.unique('bad')}@ordinary.example"
    ses_account.script_mailbox(emulator.endpoint, bad, "bounce", region=fb.region)
    # the three deliveries are counted before the bounce, so the rate only ever rises to
    # its final value and the Maximum statistic below is exactly that value
    for message_id in [fb.send(f"ok-{i}@ordinary.example") for i in range(3)]:
        fb.events(message_id, 2)
    for message_id in (fb.send(bad), fb.send(f"bounce@{SIM}")):
        fb.events(message_id, 2)
    points = fb.client("ses").get_send_statistics()["SendDataPoints"]
    assert sum(p["DeliveryAttempts"] for p in points) == 5
    assert sum(p["Bounces"] for p in points) == 2
    assert sum(p["Complaints"] + p["Rejects"] for p in points) == 0

    cloudwatch = fb.client("cloudwatch")

    def highest(metric: str, dims: list[dict[str, str]]) -> float | None:
        found = cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "m", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": "AWS/SES", "MetricName": metric, "Dimensions": dims},
                "Period": 60, "Stat": "Maximum"}}],
            StartTime=since, EndTime=since + timedelta(hours=1),
        )["MetricDataResults"][0]["Values"]
        return max(float(v) for v in found) if found else None

    per_set = [{"Name": "ses:configuration-set", "Value": fb.config_set}]
    # 1 bounce in 4 delivery attempts: the simulator's bounce counts in neither
    emulator.wait_until(lambda: highest("Reputation.BounceRate", []) == 0.25,
                        what="Reputation.BounceRate 0.25")
    emulator.wait_until(lambda: highest("Reputation.BounceRate", per_set) == 0.25,
                        what="the configuration set's Reputation.BounceRate 0.25")
    assert highest("Reputation.ComplaintRate", []) == 0.0
    assert highest("Bounce", []) is not None and highest("Delivery", []) is not None


def test_events_reach_a_topic_only_if_its_policy_lets_ses_publish_for_the_set(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("us-west-1")
    sns = fb.client("sns")
    set_arn = f"arn:aws:ses:us-west-1:123456789012:configuration-set/{fb.config_set}"

    def only_ses_for(topic: str, source_arn: str) -> None:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                 AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": [{
                                     "Effect": "Allow",
                                     "Principal": {"Service": "ses.amazonaws.com"},
                                     "Action": "sns:Publish", "Resource": topic,
                                     "Condition": {"StringEquals": {
                                         "AWS:SourceAccount": "123456789012",
                                         "AWS:SourceArn": source_arn}}}]}))

    # the fixture's destination (published to first) allows another set only; a second
    # destination's topic allows this set
    only_ses_for(fb.events_topic, set_arn + "-another")
    allowed_topic = sns.create_topic(Name=emulator.unique("ses-allowed"))["TopicArn"]
    only_ses_for(allowed_topic, set_arn)
    allowed_queue = fb.queue_on(allowed_topic)
    fb.client("sesv2").create_configuration_set_event_destination(
        ConfigurationSetName=fb.config_set, EventDestinationName="allowed",
        EventDestination={"Enabled": True, "MatchingEventTypes": ALL_TYPES,
                          "SnsDestination": {"TopicArn": allowed_topic}})
    message_id = fb.send(f"success@{SIM}")
    fb.events_queue, refused_queue = allowed_queue, fb.events_queue
    assert fb.kinds(message_id, 2) == ["Send", "Delivery"]
    assert not [e for e in fb._drain(refused_queue) if e["mail"]["messageId"] == message_id]


def test_v1_delivery_and_tracking_options_read_back(emulator: Any) -> None:
    ses = emulator.client("ses")
    name = emulator.unique("v1opts")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.put_configuration_set_delivery_options(ConfigurationSetName=name,
                                               DeliveryOptions={"TlsPolicy": "Require"})
    ses.create_configuration_set_tracking_options(
        ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "t.example.com"})
    with pytest.raises(ClientError) as again:
        ses.create_configuration_set_tracking_options(
            ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "x.example.com"})
    assert again.value.response["Error"]["Code"] == "TrackingOptionsAlreadyExistsException"
    got = ses.describe_configuration_set(
        ConfigurationSetName=name,
        ConfigurationSetAttributeNames=["deliveryOptions", "trackingOptions"])
    assert got["DeliveryOptions"] == {"TlsPolicy": "Require"}
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "t.example.com"}
    ses.delete_configuration_set_tracking_options(ConfigurationSetName=name)
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["trackingOptions"])
    assert "TrackingOptions" not in got


def test_a_template_missing_an_attribute_is_accepted_then_a_rendering_failure(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("eu-west-1")
    ses = fb.client("ses")
    template = emulator.unique("tpl")
    ses.create_template(Template={"TemplateName": template, "SubjectPart": "Hi {{name}}",
                                  "TextPart": "Book {{book}}", "HtmlPart": "<p>{{book}}</p>"})

    def send(data: dict[str, str]) -> str:
        return str(ses.send_templated_email(
            Source=SENDER, Destination={"ToAddresses": ["reader@ordinary.example"]},
            Template=template, TemplateData=json.dumps(data),
            ConfigurationSetName=fb.config_set)["MessageId"])

    failed = send({"name": "Ann"})
    records = fb.events(failed, 2)
    assert [r["eventType"] for r in records] == ["Send", "Rendering Failure"]
    assert_documented_shape(records[1], "ses_event_rendering_failure")
    assert records[1]["failure"] == {
        "errorMessage": "Attribute 'book' is not present in the rendering data.",
        "templateName": template}
    rendered = send({"name": "Ann", "book": "Dune"})
    assert fb.kinds(rendered, 2) == ["Send", "Delivery"]
    [email] = [e for e in outbox.read(emulator.endpoint) if e.message_id == rendered]
    assert (email.subject, email.text, email.html) == ("Hi Ann", "Book Dune", "<p>Dune</p>")
    assert failed not in [e.message_id for e in outbox.read(emulator.endpoint)]


def test_identity_feedback_forwarding_and_default_configuration_set(
        feedback: Callable[..., Feedback], emulator: Any) -> None:
    fb = feedback("us-west-2")
    sesv2, ses = fb.client("sesv2"), fb.client("ses")
    assert sesv2.get_email_identity(EmailIdentity=DOMAIN)["FeedbackForwardingStatus"] is True
    sesv2.put_email_identity_feedback_attributes(EmailIdentity=DOMAIN,
                                                 EmailForwardingEnabled=False)
    attrs = ses.get_identity_notification_attributes(Identities=[DOMAIN])
    assert attrs["NotificationAttributes"][DOMAIN]["ForwardingEnabled"] is False
    ses.set_identity_feedback_forwarding_enabled(Identity=DOMAIN, ForwardingEnabled=True)
    assert sesv2.get_email_identity(EmailIdentity=DOMAIN)["FeedbackForwardingStatus"] is True

    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity=DOMAIN,
                                                          ConfigurationSetName=fb.config_set)
    assert sesv2.get_email_identity(EmailIdentity=DOMAIN)["ConfigurationSetName"] == \
        fb.config_set
    # a send naming no configuration set uses the identity's default one
    message_id = fb.send(f"success@{SIM}", config_set=False)
    assert fb.kinds(message_id, 2) == ["Send", "Delivery"]
    assert fb.events(message_id, 1)[0]["mail"]["tags"]["ses:configuration-set"] == \
        [fb.config_set]
    sesv2.put_email_identity_configuration_set_attributes(EmailIdentity=DOMAIN)
