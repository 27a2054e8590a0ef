"""Delivery under faults (issue 12) and the de-dup store's bugs (issue 11, bug 4).

Same harness as test_notifier.py: moto in-process, an injected clock and sleep, faults
injected with botocore event hooks on the clients the function itself uses.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from test_notifier import (  # the shared harness and fixtures
    FakeContext,
    Harness,
    aws,
    handler_module,
    harness,
    load_event,
    make_harness,
    message_id_of,
    msg,
    respond_with_error,
    sent_messages,
    with_message,
)

from book_notifier import notifier as notifier_module
from book_notifier.contract import dedup_key
from book_notifier.dedup import Claim, ClaimInfo
from book_notifier.log import JsonLogger
from book_notifier.mailer import SendRefused

pytestmark = pytest.mark.functional
__all__ = ["aws", "harness", "handler_module"]  # fixtures, imported for pytest

SES_URL = "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails"


def lose_response_after_sending(client: Any, exc: Exception) -> None:
    """SES accepts (moto sends) and then the answer never arrives."""
    def hook(http_response: Any, **_: Any) -> None:
        raise exc
    client.meta.events.register("after-call.sesv2.SendEmail", hook)


def fail_final_writes(h: Harness, times: int | None) -> list[int]:
    """Fail the UpdateItem that marks SENT/UNCONFIRMED (not the claim) `times` times
    (None: always). Returns the list of failures, one entry each."""
    failures: list[int] = []

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body", b"")
        body = body if isinstance(body, bytes) else str(body).encode()
        if b":sent_at" not in body and b":unconfirmed_at" not in body:
            return None
        if times is not None and len(failures) >= times:
            return None
        failures.append(1)
        return respond_with_error("InternalServerError", 500)()
    h.dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", hook)
    return failures


# --- issue 11, bug 4: the store ------------------------------------------------------------

def test_attempts_counts_every_claim_including_crashed_ones(harness: Harness) -> None:
    event = load_event()
    for _ in range(3):  # three attempts claim, then die before any final write
        harness.store.claim(message_id_of(event), lease_s=40)
        harness.clock.advance(41)

    harness.handle(event, "req-4")

    assert harness.item(event)["attempts"] == 4


def test_late_failed_mark_does_not_overwrite_a_newer_owners_claim(harness: Harness) -> None:
    key = message_id_of(load_event())
    late = harness.store.claim(key, lease_s=40)
    harness.clock.advance(41)
    newer = harness.store.claim(key, lease_s=40)

    harness.store.mark_failed(late, "MessageRejected: late writer")

    item = harness.item(key)
    assert item["status"] == "IN_PROGRESS"
    assert item["claimed_at"] == newer.claimed_at_ms
    assert "reason" not in item


def test_a_bug_composing_the_email_is_not_treated_as_a_transient_ses_error(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: object) -> None:
        raise KeyError("template")
    monkeypatch.setattr(notifier_module, "compose", broken)

    with pytest.raises(KeyError):
        harness.handle(load_event())

    assert "SendEmail" not in harness.calls
    assert harness.store.get(message_id_of(load_event())) is None  # no claim taken


# --- 1. never repeat a send whose outcome is unknown -----------------------------------------

def test_the_functions_ses_client_never_retries_a_read_timeout(handler_module: Any) -> None:
    client = handler_module.NOTIFIER.mailer.client
    sends: list[int] = []

    def timeout(**_: Any) -> None:
        sends.append(1)
        raise ReadTimeoutError(endpoint_url=SES_URL)
    client.meta.events.register("before-send.sesv2.SendEmail", timeout)

    summary = handler_module.handler(load_event(), FakeContext())

    assert sends == [1]
    assert summary["unconfirmed"] == 1


@pytest.mark.parametrize("lost", [
    ConnectionClosedError(endpoint_url=SES_URL),
    ReadTimeoutError(endpoint_url=SES_URL),
], ids=["dropped-connection", "read-timeout"])
def test_lost_ses_answer_records_unconfirmed_and_a_redelivery_sends_nothing(
    harness: Harness, lost: Exception
) -> None:
    event = load_event()
    lose_response_after_sending(harness.ses, lost)

    first = harness.handle(event, "req-1")
    harness.clock.advance(60)  # Lambda's retry / an SNS redelivery
    second = harness.handle(event, "req-2")

    assert first["unconfirmed"] == 1 and second["duplicate"] == 1
    assert len(sent_messages()) == 1
    item = harness.item(event)
    assert item["status"] == "UNCONFIRMED"
    assert item["unconfirmed_at"] == int((harness.clock.now - 60) * 1000)
    assert "no answer from SES" in item["reason"]


def test_ses_5xx_is_ambiguous_not_retried(harness: Harness) -> None:
    answers: list[int] = []

    def internal_failure(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        answers.append(1)
        return respond_with_error("InternalFailure", 500)()
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", internal_failure)

    assert harness.handle(load_event())["unconfirmed"] == 1

    assert answers == [1]
    assert harness.item(load_event())["status"] == "UNCONFIRMED"


def test_unconfirmed_emits_a_metric_line(aws: None) -> None:
    out = io.StringIO()
    h = make_harness(logger=JsonLogger("INFO", stream=lambda: out))
    h.ses.meta.events.register("before-call.sesv2.SendEmail",
                               respond_with_error("ServiceUnavailable", 503))

    h.handle(load_event())

    metrics = [json.loads(line) for line in out.getvalue().splitlines() if "_aws" in line]
    assert [m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for m in metrics] \
        == ["UnconfirmedSends"]


# --- 2. the mark is durable -------------------------------------------------------------------

def test_marking_sent_is_retried_with_backoff(harness: Harness) -> None:
    failures = fail_final_writes(harness, times=2)

    assert harness.handle(load_event())["sent"] == 1

    assert len(failures) == 2
    assert harness.sleeps == [0.1, 0.3]
    assert harness.item(load_event())["status"] == "SENT"


def test_marking_sent_that_keeps_failing_still_leaves_no_record_a_redelivery_resends(
    harness: Harness,
) -> None:
    event = load_event()
    fail_final_writes(harness, times=None)

    assert harness.handle(event, "req-1")["sent"] == 1
    harness.clock.advance(41)  # past the lease: the old design sent again here
    assert harness.handle(event, "req-2")["duplicate"] == 1

    assert len(sent_messages()) == 1
    item = harness.item(event)
    assert item["status"] == "SENT" and item["ses_message_id"] == sent_messages()[0].id


# --- 3. account-level refusals are transient ---------------------------------------------------

@pytest.mark.parametrize(("code", "message"), [
    ("SendingPausedException", "sending paused"),
    ("AccountSuspendedException", "suspended"),
    ("LimitExceededException", "Daily message quota exceeded"),
    ("Throttling", "Daily message quota exceeded"),
    ("MailFromDomainNotVerifiedException", "not verified"),
])
def test_account_level_refusal_releases_the_claim_and_raises(
    harness: Harness, code: str, message: str
) -> None:
    event = load_event()

    refusals: list[int] = []

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        refusals.append(1)
        return (AWSResponse(SES_URL, 400, {}, None),
                {"Error": {"Code": code, "Message": message},
                 "ResponseMetadata": {"HTTPStatusCode": 400}})
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", refuse)

    with pytest.raises(SendRefused, match=code):
        harness.handle(event, "req-1")

    item = harness.item(event)
    assert item["status"] == "IN_PROGRESS" and item["lease_until"] == 0
    assert refusals == [1]  # a quota or a pause: no quick retry
    harness.ses.meta.events.unregister("before-call.sesv2.SendEmail", refuse)
    harness.clock.advance(60)
    assert harness.handle(event, "req-2")["sent"] == 1
    assert len(sent_messages()) == 1


def test_rate_throttling_is_retried_in_the_invocation(harness: Harness) -> None:
    throttles: list[int] = []

    def throttle(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if len(throttles) >= 2:
            return None
        throttles.append(1)
        return respond_with_error("TooManyRequestsException", 429)()
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", throttle)

    assert harness.handle(load_event())["sent"] == 1

    assert harness.sleeps == [0.2, 0.8]
    assert len(sent_messages()) == 1


# --- 4. producer idempotency ---------------------------------------------------------------

def test_a_producer_retry_with_a_new_message_id_sends_nothing_twice(harness: Harness) -> None:
    message = msg(event_id="book-b-1-created")
    first = with_message(message, "sns-message-1")
    retry = with_message(message, "sns-message-2")  # PublishBatch re-sent by the SDK

    assert harness.handle(first)["sent"] == 1
    assert harness.handle(retry)["duplicate"] == 1

    assert len(sent_messages()) == 1
    item = harness.item(dedup_key("book-b-1-created", "sns-message-1"))
    assert item["status"] == "SENT"
    assert item["pk"] == "event:book-b-1-created"
    assert item["event_id"] == "book-b-1-created"
    assert item["message_id"] == "sns-message-1"
    assert harness.store.get("sns-message-1") is None


def test_a_bad_event_id_is_rejected_naming_the_field(harness: Harness) -> None:
    event = with_message(msg(event_id="has spaces"), "bad-event-id")

    assert harness.handle(event)["rejected"] == 1
    assert harness.item(event)["reason"].startswith("event_id:")


# --- 5. takeover of an expired claim --------------------------------------------------------

def test_takeover_of_an_expired_claim_is_logged_with_the_previous_request_and_counted(
    aws: None,
) -> None:
    out = io.StringIO()
    h = make_harness(logger=JsonLogger("INFO", stream=lambda: out))
    event = load_event()
    h.store.claim(message_id_of(event), lease_s=40,
                  info=ClaimInfo(request_id="req-crashed"))  # then the worker died
    h.clock.advance(41)

    assert h.handle(event, "req-retry")["sent"] == 1

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    [warning] = [li for li in lines if li.get("outcome") == "possible_duplicate"]
    assert warning["previous_request_id"] == "req-crashed"
    assert warning["request_id"] == "req-retry"
    [metric] = [li for li in lines if "_aws" in li]
    assert metric["PossibleDuplicates"] == 1
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BookNotifier"


def test_retaking_a_released_claim_is_not_a_possible_duplicate(aws: None) -> None:
    out = io.StringIO()
    h = make_harness(logger=JsonLogger("INFO", stream=lambda: out))
    event = load_event()
    claim: Claim = h.store.claim(message_id_of(event), lease_s=40)
    h.store.release(claim, "transient: throttled")

    assert h.handle(event, "req-retry")["sent"] == 1

    assert "possible_duplicate" not in out.getvalue()
