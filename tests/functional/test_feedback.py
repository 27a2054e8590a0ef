"""The feedback function against moto's DynamoDB: SES's documented event samples
(tests/events/feedback_*.json) -> the de-dup record's delivery state.

Each sample carries the notifier's tags for the key `event:9d7c1f3e-book-42`; the
record is made by the notifier's own DedupStore (claim -> SENT or UNCONFIRMED).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from book_notifier import tags
from book_notifier.dedup import ClaimInfo, DedupStore
from book_notifier.feedback import FeedbackHandler
from book_notifier.log import JsonLogger

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION = "us-east-1"
TABLE = "books-test-dedup"
KEY = "event:9d7c1f3e-book-42"
T0 = 1_501_893_600.0  # 2017-08-05T00:40:00Z, just before the samples' timestamps


def ses_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def sns_of(*messages: dict[str, Any]) -> dict[str, Any]:
    """SES's messages as SNS delivers them to Lambda (the envelope of a real event)."""
    envelope = json.loads((EVENTS / "sns_book_created.json").read_text())
    record = envelope["Records"][0]
    records = []
    for i, message in enumerate(messages):
        r = copy.deepcopy(record)
        r["Sns"]["Message"] = json.dumps(message)
        r["Sns"]["MessageId"] = f"00000000-0000-4000-8000-{i:012d}"
        records.append(r)
    return {"Records": records}


class Ctx:
    aws_request_id = "feedback-req-1"


@pytest.fixture
def store(moto_aws: None) -> DedupStore:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return DedupStore(TABLE, ddb, clock=lambda: T0, sleep=lambda _: None)


@pytest.fixture
def logs() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def handler(store: DedupStore, logs: io.StringIO) -> FeedbackHandler:
    return FeedbackHandler(store, JsonLogger("DEBUG", stream=lambda: logs, clock=lambda: T0))


def sent_record(store: DedupStore, status: str = "SENT") -> None:
    claim = store.claim(KEY, lease_s=60, info=ClaimInfo(
        message_id="sns-1", book_id="book-42", recipient="r***@example.com"))
    if status == "SENT":
        store.mark_sent(claim, "0100015dbd47b1ab-57a6f0b5-4c57-4b1d-8d6a-2f0d9bfb3fe8-000000")
    elif status == "UNCONFIRMED":
        store.mark_unconfirmed(claim, "no answer from SES: Read timeout")


def record(store: DedupStore) -> dict[str, Any]:
    item = store.get(KEY)
    assert item is not None
    return item


@pytest.mark.parametrize(("sample", "delivery", "details"), [
    ("feedback_event_delivery.json", "DELIVERED", {"delivered_at": 1501893604133}),
    ("feedback_event_bounce.json", "BOUNCED", {
        "bounce_type": "Permanent", "bounce_subtype": "General",
        "diagnostic": "smtp; 550 5.1.1 user unknown", "bounced_at": 1501893662669}),
    ("feedback_event_bounce_suppressed.json", "BOUNCED", {
        "bounce_type": "Permanent", "bounce_subtype": "OnAccountSuppressionList"}),
    ("feedback_event_complaint.json", "COMPLAINED", {"complaint_type": "abuse",
                                                "complained_at": 1501893662669}),
    ("feedback_event_delivery_delay.json", "DELAYED", {
        "delay_type": "TransientCommunicationFailure",
        "diagnostic": "smtp; 421 4.4.0 Unable to lookup DNS for example.com"}),
    ("feedback_event_reject.json", "REJECTED_BY_SES", {"delivery_reason": "Bad content"}),
    ("feedback_event_rendering_failure.json", "REJECTED_BY_SES", {
        "delivery_reason": "rendering failure: Attribute 'attributeName' is not present in "
                           "the rendering data."}),
])
def test_each_documented_event_sets_the_records_delivery_state(
        handler: FeedbackHandler, store: DedupStore, sample: str, delivery: str,
        details: dict[str, Any]) -> None:
    sent_record(store)

    summary = handler.handle(sns_of(ses_event(sample)), Ctx())

    assert summary["applied"] == 1, summary
    item = record(store)
    assert item["delivery"] == delivery
    assert item["delivery_message_id"] == ses_event(sample)["mail"]["messageId"]
    assert item["status"] == "SENT"
    for name, value in details.items():
        assert item[name] == value, name


def test_send_event_changes_no_delivery_state(handler: FeedbackHandler,
                                              store: DedupStore) -> None:
    sent_record(store)

    summary = handler.handle(sns_of(ses_event("feedback_event_send.json")), Ctx())

    assert summary["stale"] == 1 and "delivery" not in record(store)


def test_a_delivery_event_resolves_an_unconfirmed_record_to_sent(
        handler: FeedbackHandler, store: DedupStore, logs: io.StringIO) -> None:
    sent_record(store, "UNCONFIRMED")

    handler.handle(sns_of(ses_event("feedback_event_delivery.json")), Ctx())

    item = record(store)
    assert (item["status"], item["delivery"], item["resolved_from"]) == (
        "SENT", "DELIVERED", "UNCONFIRMED")
    assert item["ses_message_id"] == ses_event("feedback_event_delivery.json")["mail"]["messageId"]
    assert '"resolved_from": "UNCONFIRMED"' in logs.getvalue()


def test_a_bounce_also_proves_an_unconfirmed_email_was_sent(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store, "UNCONFIRMED")

    handler.handle(sns_of(ses_event("feedback_event_bounce.json")), Ctx())

    assert (record(store)["status"], record(store)["delivery"]) == ("SENT", "BOUNCED")


def test_a_send_event_resolves_an_unconfirmed_record_without_a_delivery_state(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store, "UNCONFIRMED")

    summary = handler.handle(sns_of(ses_event("feedback_event_send.json")), Ctx())

    assert summary["applied"] == 1
    assert record(store)["status"] == "SENT" and "delivery" not in record(store)


def test_a_reject_event_resolves_an_unconfirmed_record_to_failed(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store, "UNCONFIRMED")

    handler.handle(sns_of(ses_event("feedback_event_reject.json")), Ctx())

    item = record(store)
    assert (item["status"], item["delivery"]) == ("FAILED", "REJECTED_BY_SES")
    assert "Bad content" in item["reason"]


def test_an_event_that_overtakes_the_notifiers_own_write_marks_the_claim_sent(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store, "IN_PROGRESS")

    handler.handle(sns_of(ses_event("feedback_event_delivery.json")), Ctx())

    assert (record(store)["status"], record(store)["resolved_from"]) == ("SENT", "IN_PROGRESS")


def test_a_late_delivery_never_overwrites_a_bounce_or_a_complaint(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store)

    summary = handler.handle(sns_of(ses_event("feedback_event_complaint.json"),
                                    ses_event("feedback_event_delivery.json"),
                                    ses_event("feedback_event_delivery_delay.json")), Ctx())

    assert (summary["applied"], summary["stale"]) == (1, 2)
    item = record(store)
    assert item["delivery"] == "COMPLAINED"
    # The delivery's time is still kept (the latency of publish -> delivered).
    assert item["delivered_at"] == 1501893604133


def test_a_complaint_after_the_delivery_replaces_it(handler: FeedbackHandler,
                                                    store: DedupStore) -> None:
    sent_record(store)

    handler.handle(sns_of(ses_event("feedback_event_delivery.json")), Ctx())
    handler.handle(sns_of(ses_event("feedback_event_complaint.json")), Ctx())

    assert record(store)["delivery"] == "COMPLAINED"
    assert record(store)["delivered_at"] == 1501893604133


def test_the_same_event_twice_changes_nothing_the_second_time(
        handler: FeedbackHandler, store: DedupStore) -> None:
    sent_record(store)
    handler.handle(sns_of(ses_event("feedback_event_bounce.json")), Ctx())
    first = record(store)

    summary = handler.handle(sns_of(ses_event("feedback_event_bounce.json")), Ctx())

    assert summary["stale"] == 1
    assert record(store) == first


def test_an_event_for_no_record_creates_none(handler: FeedbackHandler,
                                             store: DedupStore) -> None:
    summary = handler.handle(sns_of(ses_event("feedback_event_delivery.json")), Ctx())

    assert summary["missing"] == 1 and store.get(KEY) is None


def test_identity_notifications_are_read_but_carry_no_tag_to_match(
        handler: FeedbackHandler, store: DedupStore, logs: io.StringIO) -> None:
    sent_record(store)

    summary = handler.handle(sns_of(ses_event("feedback_notification_bounce.json"),
                                    ses_event("feedback_notification_complaint.json"),
                                    ses_event("feedback_notification_delivery.json")), Ctx())

    assert summary["unmatched"] == 3 and summary["malformed"] == 0
    assert "delivery" not in record(store)
    assert "jane@example.com" not in logs.getvalue()


def test_an_identity_notification_with_the_tag_is_applied(handler: FeedbackHandler,
                                                          store: DedupStore) -> None:
    sent_record(store)
    notification = ses_event("feedback_notification_delivery.json")
    notification["mail"]["tags"] = {tags.DEDUP_KEY_TAG: [tags.encode(KEY)]}

    handler.handle(sns_of(notification), Ctx())

    assert record(store)["delivery"] == "DELIVERED"


def test_untracked_event_types_are_ignored(handler: FeedbackHandler,
                                           store: DedupStore) -> None:
    sent_record(store)

    summary = handler.handle(sns_of(ses_event("feedback_event_open.json")), Ctx())

    assert summary["ignored"] == 1 and "delivery" not in record(store)


@pytest.mark.parametrize("message", [
    "not json", "[]", json.dumps({"eventType": "Bounce"}),
    json.dumps({"eventType": "Teleport", "mail": {"messageId": "m"}}),
    json.dumps({"eventType": "Bounce", "mail": {"messageId": "m",
                                                "destination": ["jane.doe@example.com"]}}),
])
def test_malformed_events_are_logged_redacted_and_skipped(
        handler: FeedbackHandler, logs: io.StringIO, message: str) -> None:
    event = sns_of({})
    event["Records"][0]["Sns"]["Message"] = message

    summary = handler.handle(event, Ctx())

    assert summary["malformed"] == 1
    assert "jane.doe@example.com" not in logs.getvalue()
    assert "MalformedFeedbackEvents" in logs.getvalue()


def test_no_full_address_reaches_the_record_or_the_logs(
        handler: FeedbackHandler, store: DedupStore, logs: io.StringIO) -> None:
    sent_record(store)
    bounce = ses_event("feedback_event_bounce.json")
    bounce["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = (
        "smtp; 550 5.1.1 <recipient@example.com>: Recipient address rejected")

    handler.handle(sns_of(bounce), Ctx())

    assert "recipient@example.com" not in json.dumps(record(store))
    assert "recipient@example.com" not in logs.getvalue()
    assert "r***@example.com" in record(store)["diagnostic"]


def test_a_dynamodb_error_raises_so_lambda_retries(handler: FeedbackHandler,
                                                   store: DedupStore) -> None:
    from botocore.exceptions import ClientError

    store.table_name = "no-such-table"
    with pytest.raises(ClientError):
        handler.handle(sns_of(ses_event("feedback_event_delivery.json")), Ctx())


def test_the_function_needs_only_update_item(handler: FeedbackHandler,
                                             store: DedupStore) -> None:
    """Its role grants dynamodb:UpdateItem alone (infra.policies.feedback_policy)."""
    sent_record(store, "UNCONFIRMED")
    calls: list[str] = []
    store.client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    samples = sorted(p.name for p in EVENTS.glob("feedback_*.json"))

    handler.handle(sns_of(*(ses_event(n) for n in samples)), Ctx())
    store.table_name = TABLE + "-gone"  # a missing record's answer too
    with pytest.raises(Exception):  # noqa: B017 - the missing table raises; calls matter
        handler.handle(sns_of(ses_event("feedback_event_send.json")), Ctx())

    assert set(calls) == {"UpdateItem"}
