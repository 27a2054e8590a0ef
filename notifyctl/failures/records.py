"""Typed views of what `failures` lists: queue entries and de-dup records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from book_notifier.contract import dedup_key
from book_notifier.log import redact, scrub

QUEUE = "queue"
TABLE = "table"
FAILED = "FAILED"
UNCONFIRMED = "UNCONFIRMED"
# SES refusals of the account, not of the message: a FAILED record with one of these
# (written before they were retried) or a "transient:" reason may be sent again.
TRANSIENT_CAUSES = ("SendingPausedException", "AccountSuspendedException",
                    "AccountSendingPausedException", "LimitExceededException",
                    "TooManyRequestsException", "Throttling", "ThrottlingException",
                    "MailFromDomainNotVerifiedException", "transient:")


@dataclass(frozen=True)
class Failure:
    """One thing that did not become an email, from either place."""

    id: str  # queue: Lambda's request id; table: the record's key
    source: str  # QUEUE | TABLE
    status: str  # queue: the condition (RetriesExhausted...); table: FAILED | UNCONFIRMED
    age_s: float | None
    attempts: int | None
    book_id: str | None
    recipient: str | None  # redacted
    error: str | None
    dedup_key: str | None = None
    message_id: str | None = None
    # queue only: what redrive needs (never rendered)
    receipt_handle: str | None = field(default=None, repr=False, compare=False)
    payload: Any = field(default=None, repr=False, compare=False)

    @property
    def transient(self) -> bool:
        """A FAILED record whose cause may pass (so it may be reset and sent again)."""
        return self.status == FAILED and any(cause in (self.error or "")
                                             for cause in TRANSIENT_CAUSES)

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in (
            "id", "source", "status", "attempts", "book_id", "recipient", "error",
            "dedup_key", "message_id")}
        data["age_s"] = None if self.age_s is None else round(self.age_s, 1)
        if self.source == TABLE:
            data["transient"] = self.transient
        return data


def from_queue_message(message: dict[str, Any], now: float) -> Failure:
    """An SQS message holding Lambda's invocation record (AWS's destination format)."""
    try:
        record = json.loads(message.get("Body", ""))
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    context = record.get("requestContext") or {}
    response = record.get("responsePayload")
    event = record.get("requestPayload")
    sns = _sns(event)
    book = _book(sns.get("Message"))
    error = None
    if isinstance(response, dict):
        error = scrub(f"{response.get('errorType', '')}: {response.get('errorMessage', '')}"
                      .strip(": "))
    message_id = sns.get("MessageId") if isinstance(sns.get("MessageId"), str) else None
    event_id = book.get("event_id") if isinstance(book.get("event_id"), str) else None
    return Failure(
        id=str(context.get("requestId") or message.get("MessageId", "")),
        source=QUEUE,
        status=str(context.get("condition") or "unknown"),
        age_s=_age(record.get("timestamp"), now),
        attempts=_int(context.get("approximateInvokeCount")),
        book_id=book.get("book_id") if isinstance(book.get("book_id"), str) else None,
        recipient=redact(book["email"]) if "email" in book else None,
        error=error or None,
        dedup_key=dedup_key(event_id, message_id) if message_id else None,
        message_id=message_id,
        receipt_handle=message.get("ReceiptHandle"),
        payload=event,
    )


def from_item(item: dict[str, Any], now: float) -> Failure:
    """A FAILED / UNCONFIRMED de-dup record (plain values, see dedup.plain)."""
    status = str(item.get("status", ""))
    at_ms = item.get("unconfirmed_at") if status == UNCONFIRMED else item.get("claimed_at")
    return Failure(
        id=str(item.get("pk", "")),
        source=TABLE,
        status=status,
        age_s=max(0.0, now - int(at_ms) / 1000) if isinstance(at_ms, int) else None,
        attempts=_int(item.get("attempts")),
        book_id=item.get("book_id"),
        recipient=item.get("recipient"),
        error=item.get("reason"),
        dedup_key=str(item.get("pk", "")),
        message_id=item.get("message_id"),
    )


def _sns(event: Any) -> dict[str, Any]:
    try:
        sns = event["Records"][0]["Sns"]
    except (KeyError, IndexError, TypeError):
        return {}
    return sns if isinstance(sns, dict) else {}


def _book(message: Any) -> dict[str, Any]:
    try:
        data = json.loads(message) if isinstance(message, str) else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _age(timestamp: Any, now: float) -> float | None:
    if not isinstance(timestamp, str):
        return None
    try:
        at = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return max(0.0, now - at)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
