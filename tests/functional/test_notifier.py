"""The notifier function against moto in-process: exactly one email per SNS message.

Events are real-shaped SNS events from tests/events/; time is injected (a Clock) so
lease expiry needs no sleeping; failures are injected with botocore event hooks on
the clients the function itself uses.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from book_notifier.config import Settings
from book_notifier.contract import LinkPolicy
from book_notifier.dedup import Claim, ClaimHeld, DedupStore
from book_notifier.log import JsonLogger
from book_notifier.mailer import Mailer, SendRefused
from book_notifier.notifier import Notifier

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parent.parent / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = "books-test-dedup"
SENDER = "notifications@example.com"
T0 = 1_741_944_413.0  # 2025-03-14T09:26:53Z


def load_event(name: str = "sns_book_created.json") -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def with_message(message: str, message_id: str, base: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    event = copy.deepcopy(base or load_event())
    event["Records"][0]["Sns"]["Message"] = message
    event["Records"][0]["Sns"]["MessageId"] = message_id
    return event


def message_id_of(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["Sns"]["MessageId"])


@dataclass
class FakeContext:
    aws_request_id: str = "6f1c2d3e-0000-4000-8000-000000000001"
    function_name: str = "books-test-notifier"
    function_version: str = "1"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:books-test-notifier:live"
    memory_limit_in_mb: int = 256
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    notifier: Notifier
    store: DedupStore
    clock: Clock
    dynamodb: Any
    ses: Any
    calls: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def handle(self, event: dict[str, Any], request_id: str = "req-1") -> dict[str, int]:
        return self.notifier.handle(event, FakeContext(aws_request_id=request_id))

    def item(self, event_or_id: dict[str, Any] | str) -> dict[str, Any]:
        mid = event_or_id if isinstance(event_or_id, str) else message_id_of(event_or_id)
        item = self.store.get(mid)
        assert item is not None, f"no de-dup item for {mid}"
        return item


def sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def respond_with_error(code: str, status: int = 400) -> Callable[..., Any]:
    """A before-call hook that answers the call with an AWS error (no HTTP)."""
    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": f"injected {code} for jane.doe@example.com"},
                  "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://example.invalid", status, {}, None), parsed
    return hook


@pytest.fixture
def aws(moto_aws: None) -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)


@pytest.fixture
def harness(aws: None) -> Harness:
    return make_harness()


def make_harness(sender: str = SENDER, logger: JsonLogger | None = None) -> Harness:
    clock = Clock()
    settings = Settings(TABLE, sender, LinkPolicy.of(["books.example.com"]), "DEBUG")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    ses = boto3.client("sesv2", region_name=REGION)
    sleeps: list[float] = []
    store = DedupStore(TABLE, dynamodb, retention_hours=168, clock=clock, sleep=sleeps.append)
    mailer = Mailer(sender, ses, sleep=sleeps.append)
    notifier = Notifier(settings, store, mailer, logger or JsonLogger("DEBUG"))
    h = Harness(notifier, store, clock, dynamodb, ses, sleeps=sleeps)
    for client in (dynamodb, ses):
        client.meta.events.register(
            "before-call", lambda model, **_: h.calls.append(model.name))
    return h


# --- happy path -----------------------------------------------------------------------

def test_first_delivery_sends_one_email_and_records_sent(harness: Harness) -> None:
    event = load_event()

    summary = harness.handle(event)

    assert summary == {"records": 1, "sent": 1, "duplicate": 0, "rejected": 0, "failed": 0,
                       "unconfirmed": 0}
    [mail] = sent_messages()
    assert mail.destinations == {"ToAddresses": ["jane.doe@example.com"]}
    assert mail.source == SENDER
    assert mail.subject == 'New book: The <Left> Hand of Darkness & Other "Tales"'
    # moto keeps the HTML part: event values are escaped in it.
    assert "The &lt;Left&gt; Hand of Darkness &amp; Other &quot;Tales&quot;" in mail.body
    assert '<a href="https://books.example.com/books/b-1042">' in mail.body
    item = harness.item(event)
    assert item["status"] == "SENT"
    assert item["pk"] == message_id_of(event)
    assert item["ses_message_id"] == mail.id
    assert item["sent_at"] == int(T0 * 1000)
    assert item["claimed_at"] == int(T0 * 1000)
    assert item["published_at"] == "2025-03-14T09:26:53.589Z"
    assert item["book_id"] == "b-1042"
    assert item["recipient"] == "j***@example.com"
    assert item["attempts"] == 1
    assert item["expires_at"] == int(T0) + 168 * 3600
    assert item["lease_until"] > T0
    assert "reason" not in item and "raw_message" not in item
    assert item["message_id"] == message_id_of(event)
    assert item["request_id"] == "req-1"


def test_happy_path_makes_three_api_calls(harness: Harness) -> None:
    harness.handle(load_event())

    assert harness.calls == ["PutItem", "SendEmail", "UpdateItem"]


def test_message_without_title_gets_generic_subject_and_extra_fields_are_ignored(
    harness: Harness,
) -> None:
    harness.handle(load_event("sns_book_created_no_title.json"))

    [mail] = sent_messages()
    assert mail.subject == "A new book is available"
    assert harness.item(load_event("sns_book_created_no_title.json"))["status"] == "SENT"


# --- redelivery and concurrency ---------------------------------------------------------

def test_second_delivery_of_same_message_sends_no_email(harness: Harness) -> None:
    event = load_event()
    harness.handle(event, "req-1")
    harness.clock.advance(120)

    summary = harness.handle(event, "req-2")

    assert summary["duplicate"] == 1 and summary["sent"] == 0
    assert len(sent_messages()) == 1
    assert harness.item(event)["attempts"] == 1


@pytest.fixture
def atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically; moto checks then writes without
    a lock. Serialize moto's writes so the test measures our logic, not moto's race."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("put_item", "update_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.mark.usefixtures("atomic_moto_writes")
def test_ten_concurrent_deliveries_send_one_email(harness: Harness) -> None:
    event = load_event()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def deliver(n: int) -> None:
        barrier.wait()
        try:
            summary = harness.handle(event, f"req-{n}")
            result = "sent" if summary["sent"] else "duplicate"
        except ClaimHeld:
            result = "retry"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == 10
    assert outcomes.count("sent") == 1
    assert len(sent_messages()) == 1
    # Lambda retries the ones that raised: they all find the message SENT.
    for n in range(outcomes.count("retry")):
        assert harness.handle(event, f"retry-{n}")["duplicate"] == 1
    assert len(sent_messages()) == 1
    assert harness.item(event)["status"] == "SENT"


def test_delivery_during_a_live_claim_raises_to_be_retried(harness: Harness) -> None:
    event = load_event()
    harness.store.claim(message_id_of(event), lease_s=40)  # another attempt, still running
    harness.clock.advance(20)

    with pytest.raises(ClaimHeld):
        harness.handle(event)

    assert sent_messages() == []
    assert harness.item(event)["status"] == "IN_PROGRESS"


def test_crash_after_claim_is_retried_once_the_lease_ends(harness: Harness) -> None:
    event = load_event()
    crashed = harness.store.claim(message_id_of(event), lease_s=40)  # then the attempt died
    harness.clock.advance(41)

    summary = harness.handle(event, "req-retry")

    assert summary["sent"] == 1
    assert len(sent_messages()) == 1
    item = harness.item(event)
    assert item["status"] == "SENT"
    assert item["attempts"] == 2
    assert item["claimed_at"] > crashed.claimed_at_ms


def test_lease_covers_remaining_time_plus_margin(harness: Harness) -> None:
    event = load_event()
    harness.ses.meta.events.register("before-call.sesv2.SendEmail",
                                     respond_with_error("SendingPausedException"))
    context = FakeContext(remaining_ms=25_000)
    lease_until: list[int] = []
    real_release = harness.store.release

    def release(claim: Claim, reason: str) -> None:
        lease_until.append(claim.lease_until)
        real_release(claim, reason)

    harness.store.release = release  # type: ignore[method-assign]

    with pytest.raises(SendRefused, match="SendingPausedException"):
        harness.notifier.handle(event, context)

    assert T0 + 25 + 10 <= lease_until[0] <= T0 + 25 + 12


# --- SES failures ---------------------------------------------------------------------

def test_ses_throttled_then_ok_sends_one_email(harness: Harness) -> None:
    event = load_event()
    throttle = respond_with_error("TooManyRequestsException", 429)
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", throttle)

    with pytest.raises(Exception, match="TooManyRequestsException"):
        harness.handle(event, "req-1")

    item = harness.item(event)
    assert item["status"] == "IN_PROGRESS"
    assert item["lease_until"] == 0  # released: the retry need not wait for the lease
    assert "TooManyRequestsException" in item["reason"]
    assert "jane.doe@example.com" not in item["reason"]

    harness.ses.meta.events.unregister("before-call.sesv2.SendEmail", throttle)
    harness.clock.advance(60)  # Lambda's first async retry
    summary = harness.handle(event, "req-2")

    assert summary["sent"] == 1
    assert len(sent_messages()) == 1
    item = harness.item(event)
    assert item["status"] == "SENT" and item["attempts"] == 2
    assert "reason" not in item


def test_ses_message_rejected_records_failed_without_raising(aws: None) -> None:
    # moto's SES rejects an unverified sender with MessageRejected, as SES does.
    harness = make_harness(sender="unverified@example.net")
    event = load_event()

    summary = harness.handle(event)

    assert summary["failed"] == 1
    assert sent_messages() == []
    item = harness.item(event)
    assert item["status"] == "FAILED"
    assert item["reason"].startswith("MessageRejected")
    assert "unverified@example.net" not in item["reason"]
    # A redelivery is a duplicate, not a second attempt.
    assert harness.handle(event)["duplicate"] == 1


@pytest.mark.parametrize("code", ["BadRequestException", "InvalidParameterValue"])
def test_other_per_message_ses_errors_record_failed(harness: Harness, code: str) -> None:
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", respond_with_error(code))

    assert harness.handle(load_event())["failed"] == 1

    item = harness.item(load_event())
    assert item["status"] == "FAILED" and item["reason"].startswith(code)
    assert "jane.doe@example.com" not in item["reason"]


def test_ses_connection_error_releases_claim_and_raises(harness: Harness) -> None:
    def down(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")
    harness.ses.meta.events.register("before-call.sesv2.SendEmail", down)

    with pytest.raises(SendRefused, match="request not sent"):
        harness.handle(load_event())

    assert harness.item(load_event())["lease_until"] == 0


# --- DynamoDB failures ------------------------------------------------------------------

def test_dynamodb_down_raises_and_sends_no_email(harness: Harness) -> None:
    def down(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    harness.dynamodb.meta.events.register("before-call.dynamodb", down)

    with pytest.raises(EndpointConnectionError):
        harness.handle(load_event())

    assert sent_messages() == []


def test_dynamodb_error_on_rejected_message_raises(harness: Harness) -> None:
    harness.dynamodb.meta.events.register(
        "before-call.dynamodb", respond_with_error("InternalServerError", 500))

    with pytest.raises(Exception, match="InternalServerError"):
        harness.handle(load_event("sns_malformed_not_json.json"))




# --- malformed messages ---------------------------------------------------------------

LINK = "https://books.example.com/books/b-1"


def msg(**fields: Any) -> str:
    base: dict[str, Any] = {"book_id": "b-1", "email": "jane@example.com", "link": LINK,
                            "title": "Dune"}
    for key, value in fields.items():
        if value is _DROP:
            base.pop(key)
        else:
            base[key] = value
    return json.dumps(base)


_DROP = object()

MALFORMED: list[tuple[str, str, str]] = [
    # (case id, raw SNS Message, the field the reason must name)
    ("not-json", "Hello from SNS!", "message"),
    ("empty-message", "", "message"),
    ("truncated-json", '{"book_id": "b-1", "email": ', "message"),
    ("json-array", json.dumps([{"book_id": "b-1"}]), "message"),
    ("json-string", json.dumps("book created"), "message"),
    ("json-null", "null", "message"),
    ("json-number", "42", "message"),
    ("duplicate-key", '{"book_id":"b-1","email":"jane@example.com","email":"x@evil.test",'
                      f'"link":"{LINK}"}}', "message"),
    ("missing-book-id", msg(book_id=_DROP), "book_id"),
    ("missing-email", msg(email=_DROP), "email"),
    ("missing-link", msg(link=_DROP), "link"),
    ("book-id-number", msg(book_id=42), "book_id"),
    ("book-id-empty", msg(book_id=""), "book_id"),
    ("book-id-too-long", msg(book_id="b" * 129), "book_id"),
    ("book-id-newline", msg(book_id="b-1\nX-Injected: yes"), "book_id"),
    ("book-id-null", msg(book_id=None), "book_id"),
    ("email-list", msg(email=["jane@example.com"]), "email"),
    ("email-crlf-bcc", msg(email="jane@example.com\r\nBcc: all@example.com"), "email"),
    ("email-lf", msg(email="jane@example.com\nCc: x@example.com"), "email"),
    ("email-display-name", msg(email="Jane <jane@example.com>"), "email"),
    ("email-two-addresses", msg(email="jane@example.com,bob@example.com"), "email"),
    ("email-no-at", msg(email="jane.example.com"), "email"),
    ("email-two-at", msg(email="jane@evil.test@example.com"), "email"),
    ("email-no-tld", msg(email="jane@localhost"), "email"),
    ("email-too-long", msg(email="j" * 64 + "@" + "a" * 190 + ".example.com"), "email"),
    ("email-nul", msg(email="jane\u0000@example.com"), "email"),
    ("email-cyrillic-homoglyph", msg(email="j\u0430ne@example.com"), "email"),
    ("email-zero-width", msg(email="jane\u200b@example.com"), "email"),
    ("link-javascript", msg(link="javascript:alert(document.cookie)"), "link"),
    ("link-data", msg(link="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
     "link"),
    ("link-http-not-allowed", msg(link="http://books.example.com/books/b-1"), "link"),
    ("link-disallowed-host", msg(link="https://evil.example.net/books/b-1"), "link"),
    ("link-lookalike-host", msg(link="https://books.example.com.evil.net/b-1"), "link"),
    ("link-userinfo", msg(link="https://books.example.com@evil.net/b-1"), "link"),
    ("link-relative", msg(link="/books/b-1"), "link"),
    ("link-protocol-relative", msg(link="//books.example.com/books/b-1"), "link"),
    ("link-backslash", msg(link="https:\\\\evil.net/books/b-1"), "link"),
    ("link-space", msg(link="https://books.example.com/books/b 1"), "link"),
    ("link-crlf", msg(link="https://books.example.com/b-1\r\nX: y"), "link"),
    ("link-idn-homoglyph", msg(link="https://b\u043eoks.example.com/b-1"), "link"),
    ("link-number", msg(link=12), "link"),
    ("title-too-long", msg(title="T" * 301), "title"),
    ("title-crlf-subject-injection", msg(title="Dune\r\nBcc: all@example.com"), "title"),
    ("title-rtl-override", msg(title="Dune \u202egnp.exe"), "title"),
    ("title-zero-width-joiner", msg(title="Du\u200dne"), "title"),
    ("title-line-separator", msg(title="Dune\u2028Bcc: x"), "title"),
    ("title-bell", msg(title="Dune\u0007"), "title"),
    ("title-object", msg(title={"text": "Dune"}), "title"),
]


@pytest.mark.parametrize(("case", "message", "fieldname"), MALFORMED,
                         ids=[case for case, _, _ in MALFORMED])
def test_malformed_message_is_rejected_with_reason(
    harness: Harness, case: str, message: str, fieldname: str
) -> None:
    event = with_message(message, f"bad-{case}")

    summary = harness.handle(event)

    assert summary == {"records": 1, "sent": 0, "duplicate": 0, "rejected": 1, "failed": 0,
                       "unconfirmed": 0}
    assert sent_messages() == []
    item = harness.item(event)
    assert item["status"] == "REJECTED"
    assert item["reason"].startswith(f"{fieldname}:"), item["reason"]
    assert "raw_message" not in item
    assert item["message_size"] == len(message.encode("utf-8", "surrogatepass"))
    assert "jane@example.com" not in item["preview"]
    assert item["published_at"] == "2025-03-14T09:26:53.589Z"
    assert harness.calls == ["PutItem", "GetItem"]  # one write to record it (+ this read)


def test_rejected_message_redelivered_is_a_duplicate(harness: Harness) -> None:
    event = load_event("sns_malformed_not_json.json")
    assert harness.handle(event)["rejected"] == 1

    assert harness.handle(event)["duplicate"] == 1
    assert harness.item(event)["preview"] == "Hello from SNS!"


def test_rejected_record_keeps_reason_size_and_a_redacted_preview_not_the_message(
    harness: Harness,
) -> None:
    message = msg(title="T" * 5000)
    event = with_message(message, "bad-huge-title")

    harness.handle(event)

    item = harness.item(event)
    assert item["book_id"] == "b-1"
    assert item["recipient"] == "j***@example.com"
    assert item["message_size"] == len(message)
    assert len(item["preview"]) == 200 and item["preview"].endswith("\u2026")
    assert item["preview"].startswith('{"book_id": "b-1", "email": "j***@example.com"')
    assert "raw_message" not in item and "jane@example.com" not in json.dumps(item)


def test_oversized_message_is_rejected(harness: Harness) -> None:
    event = with_message(msg(padding="x" * (256 * 1024)), "bad-oversized")

    assert harness.handle(event)["rejected"] == 1
    assert harness.item(event)["reason"].startswith("message:")


def test_event_that_is_not_from_sns_raises(harness: Harness) -> None:
    with pytest.raises(ValueError, match="Records"):
        harness.handle({"detail-type": "Scheduled Event"})
    broken = load_event()
    del broken["Records"][0]["Sns"]["MessageId"]
    with pytest.raises(ValueError, match="MessageId"):
        harness.handle(broken)


# --- logging --------------------------------------------------------------------------

def test_log_lines_are_json_with_request_id_and_no_full_address(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_harness(logger=JsonLogger("INFO"))
    harness.handle(load_event(), "req-happy")
    harness.handle(load_event(), "req-dup")
    harness.handle(with_message(msg(email="bob@example.com\r\nBcc: x@y.com"), "bad-1"), "req-bad")

    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(li["request_id"], li["outcome"]) for li in lines] == [
        ("req-happy", "sent"), ("req-dup", "duplicate"), ("req-bad", "rejected")]
    sent = lines[0]
    assert sent["level"] == "INFO"
    assert sent["message_id"] == "0b1d3a4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e"
    assert sent["book_id"] == "b-1042"
    assert sent["recipient"] == "j***@example.com"
    assert isinstance(sent["duration_ms"], float)
    assert "jane.doe@example.com" not in out
    assert "bob@example.com" not in out
    assert "Hand of Darkness" not in out  # no message bodies at INFO


# --- the deployed entry point (module-scope wiring) --------------------------------------

FUNCTION_ENV = {
    "TABLE_NAME": TABLE,
    "SENDER": SENDER,
    "LINK_ALLOWED_HOSTS": "books.example.com",
    "ALLOW_HTTP_LINKS": "false",
    "LOG_LEVEL": "INFO",
    "DEDUP_RETENTION_HOURS": "168",
}


@pytest.fixture
def handler_module(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in FUNCTION_ENV.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("book_notifier.handler", None)
    module = importlib.import_module("book_notifier.handler")
    yield module
    sys.modules.pop("book_notifier.handler", None)


def test_handler_module_sends_with_clients_built_at_import(handler_module: Any) -> None:
    calls: list[str] = []
    for client in (handler_module.NOTIFIER.store.client, handler_module.NOTIFIER.mailer.client):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    event = load_event()

    first = handler_module.handler(event, FakeContext())
    second = handler_module.handler(event, FakeContext(aws_request_id="req-again"))

    assert first["sent"] == 1 and second["duplicate"] == 1
    assert len(sent_messages()) == 1
    assert calls == ["PutItem", "SendEmail", "UpdateItem", "PutItem"]
    config = handler_module.NOTIFIER.store.client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.read_timeout <= 5 and config.connect_timeout <= 2
    ses_config = handler_module.NOTIFIER.mailer.client.meta.config
    assert ses_config.retries == {"mode": "standard", "total_max_attempts": 1}


def test_missing_required_variable_fails_init_with_one_log_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENDER", SENDER)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    sys.modules.pop("book_notifier.handler", None)

    from book_notifier.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        importlib.import_module("book_notifier.handler")
    sys.modules.pop("book_notifier.handler", None)

    [line] = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert logged["level"] == "ERROR" and logged["outcome"] == "init_failed"
    assert "TABLE_NAME" in logged["error"]


# --- the SES feedback loop (issue 17) ----------------------------------------------------

def test_the_send_carries_the_configuration_set_and_the_tags_in_the_same_call(
        aws: None) -> None:
    from book_notifier import tags

    h = make_harness()
    h.notifier.mailer.configuration_set = "books-test-notifications"
    params: list[dict[str, Any]] = []
    h.ses.meta.events.register("provide-client-params.sesv2.SendEmail",
                               lambda params_in=None, **kw: params.append(kw["params"]))
    event = load_event()

    h.handle(event)

    [sent] = params
    assert sent["ConfigurationSetName"] == "books-test-notifications"
    wanted = {tags.DEDUP_KEY_TAG: message_id_of(event), tags.BOOK_ID_TAG: "b-1042"}
    assert {t["Name"]: tags.decode(t["Value"]) for t in sent["EmailTags"]} == wanted
    assert h.calls == ["PutItem", "SendEmail", "UpdateItem"]  # no extra API call
