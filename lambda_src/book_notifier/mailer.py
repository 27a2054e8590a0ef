"""Composing and sending the email through SES v2 (simple content, text + HTML).

Every value that came from the event is HTML-escaped in the HTML part; the subject
is bounded. SendEmail is not idempotent (SES has no idempotency key), so the SES client
makes ONE attempt (``handler.SES_CONFIG``) and :meth:`Mailer.send` sorts the outcome:

=====================================  ==========================  ====================
SES answered / what happened            raised                      the notifier
=====================================  ==========================  ====================
MessageId                               (returns it)                SENT
per-message refusal (MessageRejected,   PermanentSendError          FAILED
bad address)
account-level refusal (sending paused,  SendRefused                 release, raise:
suspended, quota, throttling, MAIL                                  Lambda retries, then
FROM domain, missing config set...)                                 the failure queue
request never left (connection          SendRefused                 release, raise
refused, connect timeout, bad params)
read timeout, dropped connection, 5xx   SendOutcomeUnknown          UNCONFIRMED: never
(SES may have accepted it)                                          sent again
=====================================  ==========================  ====================

Throttling proves SES refused the request, so a throttled send is retried here a few
times (sleep injected) before it is raised; nothing else is.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError

from book_notifier.contract import BookEvent
from book_notifier.log import scrub

SUBJECT_MAX = 100
SUBJECT_PREFIX = "New book: "
SUBJECT_NO_TITLE = "A new book is available"

# Refusals of this one message: no retry, no wait can fix them (v2 and v1 codes).
PER_MESSAGE_ERRORS = frozenset({
    "MessageRejected",                      # content rejected, this recipient refused...
    "BadRequestException",                  # e.g. an address SES considers invalid
    "InvalidParameterValue",
})
# Throttling: SES refused the request; it may be retried at once, a little later.
THROTTLING_ERRORS = frozenset({"TooManyRequestsException", "Throttling",
                               "ThrottlingException"})
THROTTLE_BACKOFF_S = (0.2, 0.8)


class SendRefused(Exception):
    """SES refused the request, or it never reached SES: nothing was sent. Transient:
    the caller releases its claim and raises so Lambda retries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendOutcomeUnknown(Exception):
    """The request may have reached SES and been accepted (read timeout, dropped
    connection, 5xx). Never retried: the caller records UNCONFIRMED."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentSendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ComposedEmail:
    """What the function sends: subject and both bodies, composed before any claim."""

    subject: str
    text: str
    html: str


def subject_for(title: str | None) -> str:
    if not title or not title.strip():
        return SUBJECT_NO_TITLE
    title = " ".join(title.split())
    room = SUBJECT_MAX - len(SUBJECT_PREFIX)
    if len(title) > room:
        title = title[: room - 1].rstrip() + "\u2026"
    return SUBJECT_PREFIX + title


def compose(event: BookEvent) -> ComposedEmail:
    name = event.title.strip() if event.title and event.title.strip() else "A new book"
    text = (
        f"{name} is now available.\n\n"
        f"Open it here: {event.link}\n\n"
        f"Book id: {event.book_id}\n"
    )
    e_name = html.escape(name)
    e_link = html.escape(event.link, quote=True)
    e_id = html.escape(event.book_id)
    body = (
        "<!DOCTYPE html><html><body>"
        f"<p><strong>{e_name}</strong> is now available.</p>"
        f'<p><a href="{e_link}">Open the book</a></p>'
        f"<p style=\"color:#666\">Book id: {e_id}</p>"
        "</body></html>"
    )
    return ComposedEmail(subject_for(event.title), text, body)


class Mailer:
    def __init__(
        self,
        sender: str,
        boto3_client: Any,
        *,
        configuration_set: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        throttle_backoff: Sequence[float] = THROTTLE_BACKOFF_S,
    ) -> None:
        self.sender = sender
        self.client = boto3_client
        self.configuration_set = configuration_set
        self.sleep = sleep
        self.throttle_backoff = tuple(throttle_backoff)

    def send(self, to: str, email: ComposedEmail,
             tags: Sequence[dict[str, str]] = ()) -> str:
        """Send; the SES MessageId. Raises PermanentSendError, SendRefused or
        SendOutcomeUnknown (see the module's table). `tags` (book_notifier.tags) go
        out in the same SendEmail call: SES copies them into every event it publishes
        for this email through the configuration set."""
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        if tags:
            kwargs["EmailTags"] = [dict(t) for t in tags]
        for wait in (*self.throttle_backoff, None):
            try:
                response = self.client.send_email(**kwargs)
            except ClientError as exc:
                if wait is None or not _retryable_throttle(exc):
                    raise classify(exc) from exc
                self.sleep(wait)
                continue
            except BotoCoreError as exc:
                raise classify(exc) from exc
            return str(response["MessageId"])
        raise AssertionError("unreachable: the last attempt returns or raises")


def classify(exc: ClientError | BotoCoreError) -> Exception:
    """A failed SendEmail -> PermanentSendError, SendRefused or SendOutcomeUnknown.
    SES messages can name the address: the reason is scrubbed."""
    if isinstance(exc, HTTPClientError):   # read timeout, connection dropped mid-call
        return SendOutcomeUnknown(f"no answer from SES: {scrub(str(exc))}")
    if isinstance(exc, BotoCoreError):     # never connected, or never sent
        return SendRefused(f"request not sent: {scrub(str(exc))}")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    reason = f"{code}: {scrub(str(error.get('Message', '')))}"
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if status >= 500:
        return SendOutcomeUnknown(reason)
    if code in PER_MESSAGE_ERRORS:
        return PermanentSendError(reason)
    return SendRefused(reason)


def _retryable_throttle(exc: ClientError) -> bool:
    """A rate throttle (not the daily quota, which no short wait lifts)."""
    error = exc.response.get("Error", {})
    return (str(error.get("Code", "")) in THROTTLING_ERRORS
            and "daily" not in str(error.get("Message", "")).lower())
