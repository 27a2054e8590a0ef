"""SES's event JSON and the mailbox simulator's table, pure (emulator/ses_events.py,
ses_simulator.py, ses_account.SendingStats): compared with AWS's samples in tests/events."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from notifyctl.emulator import ses_events, ses_simulator
from notifyctl.emulator.clock import Clock
from notifyctl.emulator.ses_account import SendingStats
from tests.fakes import FakeClock

EVENTS = Path(__file__).resolve().parents[1] / "events"
SIM = "simulator.amazonses.com"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")))


def mail(**overrides: Any) -> ses_events.SentMail:
    headers, common = ses_events.simple_headers("books@example.com", ["r@example.org"], [],
                                                "New book", "m-1", html=False)
    values: dict[str, Any] = dict(
        message_id="m-1", timestamp=1_700_000_000.25, source="books@example.com",
        source_arn="arn:aws:ses:us-east-1:123456789012:identity/example.com",
        account_id="123456789012", destination=("r@example.org",), headers=headers,
        common_headers=common, message_tags=(("book", "b-1"),), configuration_set="cs")
    values.update(overrides)
    return ses_events.SentMail(**values)


def same_shape(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours) == set(theirs)
    assert set(theirs["mail"]) <= set(ours["mail"])
    for key in set(theirs) - {"mail", "eventType", "notificationType"}:
        assert set(theirs[key]) <= set(ours[key]), key


@pytest.mark.parametrize(("event_type", "detail", "name"), [
    ("SEND", {}, "ses_event_send"),
    ("DELIVERY", ses_events.delivery(["r@example.org"], 1_700_000_001.0, 750),
     "ses_event_delivery"),
    ("BOUNCE", ses_events.bounce(["r@example.org"], 1_700_000_002.0, "General"),
     "ses_event_bounce"),
    ("COMPLAINT", ses_events.complaint(["r@example.org"], 1_700_000_003.0, 1_700_000_000.0),
     "ses_event_complaint"),
    ("REJECT", ses_events.reject(), "ses_event_reject"),
    ("RENDERING_FAILURE", ses_events.rendering_failure("T", "Attribute 'x' is not present."),
     "ses_event_rendering_failure"),
])
def test_event_records_have_every_field_of_aws_samples(event_type: str, detail: dict[str, Any],
                                                       name: str) -> None:
    record = ses_events.event_record(event_type, mail(), detail)
    same_shape(record, sample(name))
    assert record["eventType"] == sample(name)["eventType"]


def test_event_tags_are_the_automatic_ones_then_the_message_tags() -> None:
    tags = ses_events.event_record("DELIVERY", mail(), {})["mail"]["tags"]
    assert list(tags) == ["ses:configuration-set", "ses:source-ip", "ses:from-domain",
                          "ses:caller-identity", "ses:outgoing-ip", "book"]
    assert tags["ses:configuration-set"] == ["cs"] and tags["book"] == ["b-1"]
    assert tags["ses:from-domain"] == ["example.com"]
    assert "ses:outgoing-ip" not in ses_events.event_record("SEND", mail(), {})["mail"]["tags"]


@pytest.mark.parametrize(("headers", "name"), [(True, "ses_notification_bounce_dsn"),
                                               (False, "ses_notification_bounce_no_dsn")])
def test_identity_notifications_have_headers_only_when_asked_and_never_tags(
        headers: bool, name: str) -> None:
    note = ses_events.notification(
        "BOUNCE", mail(), ses_events.bounce(["r@example.org"], 1.0, "General"), headers=headers)
    expected = sample(name)
    assert set(note) == set(expected)
    assert note["notificationType"] == "Bounce" and "tags" not in note["mail"]
    header_fields = {"headers", "commonHeaders", "headersTruncated"}
    assert (header_fields <= set(note["mail"])) is headers
    assert not headers or note["mail"]["commonHeaders"]["subject"] == "New book"


def test_timestamps_are_iso_with_milliseconds_and_z() -> None:
    assert ses_events.iso(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    assert ses_events.event_record("SEND", mail(), {})["mail"]["timestamp"] == \
        "2023-11-14T22:13:20.250Z"


@pytest.mark.parametrize(("sub_type", "remote_ip"), [("General", True), ("Suppressed", False),
                                                     ("OnAccountSuppressionList", False)])
def test_bounce_subtypes(sub_type: str, remote_ip: bool) -> None:
    bounce = ses_events.bounce(["a@x.example", "b@x.example"], 5.0, sub_type, "fb-1")
    assert (bounce["bounceType"], bounce["bounceSubType"], bounce["feedbackId"]) == \
        ("Permanent", sub_type, "fb-1")
    assert [r["emailAddress"] for r in bounce["bouncedRecipients"]] == ["a@x.example",
                                                                        "b@x.example"]
    assert all(r["action"] == "failed" and r["status"].startswith("5.")
               for r in bounce["bouncedRecipients"])
    assert ("remoteMtaIp" in bounce) is remote_ip


def test_raw_headers_give_common_headers_from_the_message() -> None:
    raw = ("From: Books <books@example.com>\nTo: a@x.example, B <b@x.example>\n"
           "Subject: Hi\nMessage-ID: <custom@id>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody")
    headers, common = ses_events.raw_headers(raw, "ses-id")
    assert ("Subject", "Hi") in headers
    assert common == {"from": ["Books <books@example.com>"], "to": ["a@x.example",
                                                                   "B <b@x.example>"],
                      "date": "Mon, 1 Jan 2024 00:00:00 +0000", "messageId": "<custom@id>",
                      "subject": "Hi"}


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("book", "b-1_2", True), ("book", "b 1", False), ("book", "b.1", False),
    ("ses:configuration-set", "x", False), ("k", "v" * 257, False), ("", "v", False)])
def test_message_tags_follow_the_api_reference(name: str, value: str, ok: bool) -> None:
    assert (ses_events.invalid_tag(name, value) is None) is ok


def test_event_destinations_convert_between_v1_and_v2() -> None:
    v1 = {"Name": "d", "Enabled": True, "MatchingEventTypes": ["send", "renderingFailure",
                                                               "deliveryDelay"],
          "SNSDestination": {"TopicARN": "arn:aws:sns:us-east-1:1:t"},
          "KinesisFirehoseDestination": {"IAMRoleARN": "r", "DeliveryStreamARN": "s"}}
    dest = ses_events.EventDestination.from_v1(v1)
    assert dest.types == ("SEND", "RENDERING_FAILURE", "DELIVERY_DELAY")
    assert dest.sns_topic_arn == "arn:aws:sns:us-east-1:1:t"
    assert dest.to_v1() == v1
    v2 = dest.to_v2()
    assert v2["KinesisFirehoseDestination"] == {"IamRoleArn": "r", "DeliveryStreamArn": "s"}
    assert ses_events.EventDestination.from_v2("d", v2) == dest
    assert dest.wants("SEND") and not dest.wants("BOUNCE")
    assert not ses_events.EventDestination.from_v2("d", {**v2, "Enabled": False}).wants("SEND")


@pytest.mark.parametrize(("address", "on_list", "scripted", "fate"), [
    (f"success@{SIM}", False, None, "deliver"),
    (f"Reader <success+x@{SIM}>", False, None, "deliver"),
    (f"bounce+a.b@{SIM}", False, None, "bounce"),
    (f"ooto@{SIM}", False, None, "deliver"),
    (f"COMPLAINT@{SIM}", False, None, "complain"),
    (f"suppressionlist@{SIM}", False, None, "suppressed"),
    (f"success@{SIM}", True, None, "on_list"),
    ("reader@example.org", False, None, "deliver"),
    ("reader@example.org", False, "bounce", "bounce"),
    ("reader@example.org", True, "bounce", "on_list"),
    (f"other@{SIM}", False, None, "deliver"),
])
def test_the_fate_of_each_recipient(address: str, on_list: bool, scripted: str | None,
                                    fate: str) -> None:
    assert ses_simulator.fate(address, on_account_list=on_list, scripted=scripted) == fate


def test_the_eicar_string_is_found_in_any_part() -> None:
    assert ses_simulator.carries_eicar([None, b"x" + ses_simulator.EICAR.encode() + b"y"])
    assert not ses_simulator.carries_eicar(["hello", None])


def test_sending_stats_keep_15_minute_points_for_two_weeks_and_leave_the_simulator_out() -> None:
    clock = FakeClock(900.0 * 1000)
    stats = SendingStats(time_scale=1.0, clock=clock)
    stats.record("Send", 3, reputation=True)
    stats.record("Send", 1, reputation=False)  # the simulator
    stats.record("Bounce", 1, reputation=True)
    stats.record("Bounce", 1, reputation=False)
    clock.sleep(900.0)
    stats.record("Complaint", 1, reputation=True)
    points = stats.points()
    assert [(p.delivery_attempts, p.bounces, p.complaints) for p in points] == [(4, 2, 0),
                                                                               (0, 0, 1)]
    assert points[1].start - points[0].start == 900.0
    assert stats.rates() == (1 / 3, 1 / 3)
    clock.sleep(14 * 86400.0)
    assert stats.points() == [] and stats.rates() == (0.0, 0.0)


class RecordingSink:
    def __init__(self) -> None:
        self.published: list[ses_simulator.Publication] = []
        self.suppressed: list[tuple[str, str]] = []
        self.counts: list[tuple[str, int, bool]] = []

    def publish(self, publication: ses_simulator.Publication) -> None:
        self.published.append(publication)

    def suppress(self, account_id: str, region: str, address: str, reason: str,
                 message_id: str, feedback_id: str) -> None:
        self.suppressed.append((address, reason))

    def count(self, account_id: str, region: str, metric: str, n: int, *, simulator: bool,
              config_set: str | None) -> None:
        self.counts.append((metric, n, simulator))

    def flush(self) -> None:
        pass


def run(fates: dict[str, str], routing: ses_simulator.Routing,
        **kwargs: Any) -> RecordingSink:
    sink = RecordingSink()
    engine = ses_simulator.SesSimulator(sink, Clock(factor=0.0001))
    try:
        engine.accepted(mail(destination=tuple(fates)), "us-east-1", routing, fates, **kwargs)
        deadline = time.monotonic() + 5
        while not engine.idle() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert engine.idle()
    finally:
        engine.close()
    return sink


def test_the_engine_is_not_idle_while_an_event_is_being_published() -> None:
    class SlowSink(RecordingSink):
        def __init__(self) -> None:
            super().__init__()
            self.entered, self.release = threading.Event(), threading.Event()

        def publish(self, publication: ses_simulator.Publication) -> None:
            if json.loads(publication.message).get("eventType") == "Delivery":  # the last
                self.entered.set()
                assert self.release.wait(10)
            super().publish(publication)

    sink = SlowSink()
    engine = ses_simulator.SesSimulator(sink, Clock(factor=0.0001))
    try:
        engine.accepted(mail(destination=("a@x.example",)), "us-east-1",
                        ses_simulator.Routing(destinations=(EVERYTHING,)), {"a@x.example": "deliver"})
        assert sink.entered.wait(10)
        assert not engine.idle()  # the last event: off the heap, still being published
        sink.release.set()
        deadline = time.monotonic() + 10
        while not engine.idle() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert engine.idle() and kinds(sink) == ["Send", "Delivery"]
    finally:
        sink.release.set()
        engine.close()


def kinds(sink: RecordingSink) -> list[str]:
    return [json.loads(p.message).get("eventType") or json.loads(p.message)["notificationType"]
            for p in sink.published]


EVERYTHING = ses_events.EventDestination("d", True, tuple(ses_events.EVENT_NAMES),
                                         {"SnsDestination": {"TopicArn": "arn:t"}})


def test_events_come_in_aws_order_and_bounces_of_one_message_are_combined() -> None:
    sink = run({"a@x.example": "complain", "b@x.example": "bounce", "c@x.example": "bounce",
                "d@x.example": "on_list"},
               ses_simulator.Routing(destinations=(EVERYTHING,),
                                     suppress_reasons=frozenset({"BOUNCE"})))
    assert kinds(sink) == ["Send", "Bounce", "Delivery", "Bounce", "Complaint"]
    general = json.loads(sink.published[3].message)["bounce"]
    assert [r["emailAddress"] for r in general["bouncedRecipients"]] == ["b@x.example",
                                                                        "c@x.example"]
    assert sink.suppressed == [("b@x.example", "BOUNCE"), ("c@x.example", "BOUNCE")]
    assert all(p.subject == ses_events.EVENT_SUBJECT for p in sink.published)
    assert sink.published[0].source_arn == "arn:aws:ses:us-east-1:123456789012:configuration-set/cs"


def test_identity_topics_get_bounce_complaint_delivery_and_no_send() -> None:
    routing = ses_simulator.Routing(identity_topics={"BOUNCE": "arn:b", "DELIVERY": "arn:d"},
                                    identity_headers=frozenset({"BOUNCE"}))
    sink = run({f"bounce@{SIM}": "bounce", "ok@x.example": "deliver"}, routing)
    assert [(p.topic_arn, p.subject) for p in sink.published] == [("arn:d", None),
                                                                   ("arn:b", None)]
    assert "headers" in json.loads(sink.published[1].message)["mail"]
    assert "headers" not in json.loads(sink.published[0].message)["mail"]


def test_a_rejected_message_gets_send_and_reject_only() -> None:
    sink = run({"a@x.example": "deliver"}, ses_simulator.Routing(destinations=(EVERYTHING,)),
               rejected=True)
    assert kinds(sink) == ["Send", "Reject"]


def test_simulator_recipients_are_counted_apart_and_never_suppressed() -> None:
    sink = run({f"bounce@{SIM}": "bounce", "gone@x.example": "bounce"},
               ses_simulator.Routing(suppress_reasons=frozenset({"BOUNCE", "COMPLAINT"})))
    assert ("Bounce", 1, True) in sink.counts and ("Bounce", 1, False) in sink.counts
    assert sink.suppressed == [("gone@x.example", "BOUNCE")]


def test_a_disabled_destination_or_a_type_it_does_not_match_gets_nothing() -> None:
    only_bounces = ses_events.EventDestination("d", True, ("BOUNCE",),
                                               {"SnsDestination": {"TopicArn": "arn:t"}})
    disabled = ses_events.EventDestination("e", False, ("DELIVERY",),
                                           {"SnsDestination": {"TopicArn": "arn:u"}})
    sink = run({"a@x.example": "deliver"},
               ses_simulator.Routing(destinations=(only_bounces, disabled)))
    assert sink.published == []


def _policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
SET_ARN = "arn:aws:ses:us-east-1:123456789012:configuration-set/books-notifications"


@pytest.mark.parametrize(("statement", "allowed"), [
    # the SES Developer Guide's policy, for this configuration set
    ({"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:Publish",
      "Resource": TOPIC, "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012",
                                                        "AWS:SourceArn": SET_ARN}}}, True),
    # ... for another configuration set
    ({"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:Publish",
      "Resource": TOPIC, "Condition": {"StringEquals": {"AWS:SourceArn": SET_ARN + "-other"}}},
     False),
    # SNS's default topic policy: the owner account's callers
    ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["SNS:Publish"], "Resource": TOPIC,
      "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}}}, True),
    # only another service
    ({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
      "Action": "sns:Publish", "Resource": TOPIC}, False),
])
def test_ses_publishes_only_where_the_topic_policy_lets_it(statement: dict[str, Any],
                                                           allowed: bool) -> None:
    from notifyctl.emulator.patches.ses import ses_may_publish

    publication = ses_simulator.Publication(TOPIC, "{}", None, SET_ARN)
    assert ses_may_publish(_policy(statement), publication) is allowed


def test_the_kept_decision_follows_a_changed_policy_and_another_source() -> None:
    from notifyctl.emulator.patches.ses import ses_may_publish

    allow = _policy({"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": TOPIC,
                     "Condition": {"StringEquals": {"AWS:SourceArn": SET_ARN}}})
    deny = allow.replace('"Allow"', '"Deny"')
    ours = ses_simulator.Publication(TOPIC, "{}", None, SET_ARN)
    other = ses_simulator.Publication(TOPIC, "{}", None, SET_ARN + "-other")

    assert [ses_may_publish(allow, ours) for _ in range(3)] == [True] * 3
    assert ses_may_publish(deny, ours) is False
    assert ses_may_publish(allow, other) is False
    assert ses_may_publish(allow, ours) is True
