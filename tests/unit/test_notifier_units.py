"""The notifier's pieces with no AWS: settings, redaction, logging, email, SNS views."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from book_notifier.config import ConfigurationError, Settings
from book_notifier.contract import BookEvent
from book_notifier.dedup import cap, plain
from book_notifier.log import JsonLogger, redact, scrub
from book_notifier.mailer import SUBJECT_MAX, compose, subject_for
from book_notifier.sns import MalformedRecord, SNSEvent

pytestmark = pytest.mark.unit

EVENTS = Path(__file__).resolve().parent.parent / "events"


# --- settings ---------------------------------------------------------------------------

def test_settings_from_env_with_defaults() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "SENDER": "s@example.com"})
    assert settings.table_name == "t" and settings.sender == "s@example.com"
    assert settings.link_policy.allowed_hosts == ()
    assert settings.link_policy.allow_http is False
    assert settings.log_level == "INFO"
    assert settings.retention_hours == 168
    assert settings.configuration_set is None


def test_settings_from_env_full() -> None:
    settings = Settings.from_env({
        "TABLE_NAME": "t", "SENDER": "s@example.com",
        "LINK_ALLOWED_HOSTS": "books.example.com, cdn.example.com",
        "ALLOW_HTTP_LINKS": "TRUE", "LOG_LEVEL": "debug", "DEDUP_RETENTION_HOURS": "24",
        "SES_CONFIGURATION_SET": "books-events",
    })
    assert settings.link_policy.allowed_hosts == ("books.example.com", "cdn.example.com")
    assert settings.link_policy.allow_http is True
    assert settings.log_level == "DEBUG"
    assert settings.retention_hours == 24
    assert settings.configuration_set == "books-events"


def test_retention_never_below_six_hours() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "SENDER": "s@example.com",
                                  "DEDUP_RETENTION_HOURS": "1"})
    assert settings.retention_hours == 6


@pytest.mark.parametrize(("env", "match"), [
    ({}, "TABLE_NAME, SENDER"),
    ({"TABLE_NAME": "t", "SENDER": "  "}, "SENDER"),
    ({"TABLE_NAME": "t", "SENDER": "s@x.com", "ALLOW_HTTP_LINKS": "yes"}, "ALLOW_HTTP_LINKS"),
    ({"TABLE_NAME": "t", "SENDER": "s@x.com", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"TABLE_NAME": "t", "SENDER": "s@x.com", "DEDUP_RETENTION_HOURS": "a week"},
     "DEDUP_RETENTION_HOURS"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Settings.from_env(env)


# --- redaction and logging ----------------------------------------------------------------

@pytest.mark.parametrize(("email", "shown"), [
    ("jane@example.com", "j***@example.com"),
    ("j@example.com", "j***@example.com"),
    ("no-at-sign", "***"),
    ("a@b@c", "***"),
    ("@example.com", "***"),
    (None, "***"),
])
def test_redact(email: object, shown: str) -> None:
    assert redact(email) == shown


def test_scrub_redacts_every_address_in_a_message() -> None:
    text = ("Email address is not verified. The following identities failed the check "
            "in region US-EAST-1: jane.doe@example.com, bob@example.org")
    assert scrub(text).endswith("US-EAST-1: j***@example.com, b***@example.org")


def test_logger_writes_one_json_object_per_line_and_filters_by_level() -> None:
    buffer = io.StringIO()
    log = JsonLogger("INFO", stream=lambda: buffer, clock=lambda: 0.5).bind(request_id="r-1")

    log.debug("hidden")
    log.info("shown", outcome="sent", duration_ms=1.5)
    log.bind(message_id="m-1").error("also shown")

    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert lines == [
        {"level": "INFO", "message": "shown", "time": "1970-01-01T00:00:00.500Z",
         "request_id": "r-1", "outcome": "sent", "duration_ms": 1.5},
        {"level": "ERROR", "message": "also shown", "time": "1970-01-01T00:00:00.500Z",
         "request_id": "r-1", "message_id": "m-1"},
    ]


# --- the email --------------------------------------------------------------------------

def test_html_part_escapes_every_event_value() -> None:
    event = BookEvent('<b id="x">', "jane@example.com",
                      'https://books.example.com/b?a=1&b="2"', "<script>alert(1)</script>")

    email = compose(event)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert 'href="https://books.example.com/b?a=1&amp;b=&quot;2&quot;"' in email.html
    assert "&lt;b id=&quot;x&quot;&gt;" in email.html
    assert "https://books.example.com/b?a=1&b=\"2\"" in email.text
    assert "jane@example.com" not in email.html + email.text


def test_subject_is_bounded_and_single_line() -> None:
    subject = subject_for("A   very\tlong " + "word " * 100)
    assert len(subject) == SUBJECT_MAX
    assert subject.endswith("\u2026") and "\t" not in subject and "  " not in subject
    assert subject_for(None) == subject_for("   ") == "A new book is available"
    assert subject_for("Dune") == "New book: Dune"


# --- SNS views and store helpers ------------------------------------------------------------

def test_sns_accessors_read_the_documented_shape() -> None:
    event = SNSEvent(json.loads((EVENTS / "sns_book_created.json").read_text()))

    [record] = list(event.records)

    assert record.event_source == "aws:sns"
    assert record.sns.message_id == "0b1d3a4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e"
    assert record.sns.type == "Notification"
    assert record.sns.timestamp == "2025-03-14T09:26:53.589Z"
    assert record.sns.topic_arn.endswith(":books-test-book-created")
    assert record.sns.subject is None
    assert record.sns.message_attributes == {"event_type": "book_created", "schema_version": "1"}
    assert json.loads(record.sns.message)["book_id"] == "b-1042"


@pytest.mark.parametrize("event", [None, {}, {"Records": "x"}, {"Records": [1]},
                                   {"Records": [{"Sns": "x"}]},
                                   {"Records": [{"Sns": {"Message": "{}"}}]},
                                   {"Records": [{"Sns": {"MessageId": "m", "Message": 1}}]}])
def test_sns_views_reject_events_that_are_not_sns(event: object) -> None:
    with pytest.raises(MalformedRecord):
        for record in SNSEvent(event).records:
            _ = record.sns.message_id, record.sns.message


def test_cap_and_plain() -> None:
    assert cap("short", 10) == "short"
    capped = cap("x" * 100, 40)
    assert len(capped) == 40 and capped.endswith("[60 more characters]")
    assert plain({"a": {"S": "x"}, "n": {"N": "12"}, "f": {"N": "1.5"}, "b": {"BOOL": True}}) \
        == {"a": "x", "n": 12, "f": 1.5, "b": True}
