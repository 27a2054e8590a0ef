"""Composing and sending the email through SES v2 (simple content, text + HTML).

Every value that came from the event is HTML-escaped in the HTML part; the subject
is bounded. SES errors are split into permanent ones (the message can never be sent:
recorded FAILED, not retried) and everything else (transient: raised, retried).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from book_notifier.contract import BookEvent
from book_notifier.log import scrub

SUBJECT_MAX = 100
SUBJECT_PREFIX = "New book: "
SUBJECT_NO_TITLE = "A new book is available"

# SES v2 SendEmail errors that no retry can fix. Everything else (TooManyRequests,
# LimitExceeded, 5xx, timeouts, NotFound for a missing configuration set, access
# denied...) is treated as transient: raised, so the event is retried and, at worst,
# kept by the on-failure destination for the operator to redrive after a fix.
PERMANENT_ERRORS = frozenset({
    "MessageRejected",                      # content rejected, unverified sender...
    "MailFromDomainNotVerifiedException",
    "SendingPausedException",               # sending paused for this identity/account
    "AccountSuspendedException",
    "BadRequestException",                  # e.g. an address SES considers invalid
    "InvalidParameterValue",
})


class PermanentSendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Email:
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


def compose(event: BookEvent) -> Email:
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
    return Email(subject_for(event.title), text, body)


class Mailer:
    def __init__(
        self, sender: str, boto3_client: Any, *, configuration_set: str | None = None
    ) -> None:
        self.sender = sender
        self.client = boto3_client
        self.configuration_set = configuration_set

    def send(self, to: str, email: Email) -> str:
        """Send; the SES MessageId. Raises PermanentSendError for errors no retry can
        fix; other errors (ClientError, BotoCoreError) propagate as transient."""
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
        try:
            response = self.client.send_email(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in PERMANENT_ERRORS:
                # SES messages can name the address: never store or log it in full.
                raise PermanentSendError(f"{code}: {scrub(str(error.get('Message', '')))}") \
                    from exc
            raise
        return str(response["MessageId"])
