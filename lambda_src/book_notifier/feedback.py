"""The feedback function: SES's events about each email -> its de-dup record.

Entry point ``book_notifier.feedback.handler`` (same package as the notifier, its own
role: UpdateItem on the de-dup table and its own log streams, nothing else).
SNS delivers the configuration set's events (``eventType``) and, when an operator
points an identity's notification topic at it, identity notifications
(``notificationType``). Both formats are accepted (SES developer guide, "Contents of
event data that Amazon SES publishes to Amazon SNS" and "Amazon SNS notification
contents"):

====================  ========================  =================  ==================
SES event             record ``delivery``       details            UNCONFIRMED record
====================  ========================  =================  ==================
Send                  (unchanged)               -                  -> SENT
Delivery              DELIVERED                 -                  -> SENT
Bounce                BOUNCED                   bounce_type,       -> SENT
                                                bounce_subtype,
                                                diagnostic
Complaint             COMPLAINED                complaint_type     -> SENT
DeliveryDelay         DELAYED                   delay_type,        -> SENT
                                                diagnostic
Reject                REJECTED_BY_SES           delivery_reason    -> FAILED
Rendering Failure     REJECTED_BY_SES           delivery_reason    -> FAILED
Open, Click, ...      ignored (not published by the configuration set)
====================  ========================  =================  ==================

bootstrap's subscription filters Send out (FilterPolicyScope MessageBody): a Delivery,
Bounce, Complaint or DeliveryDelay of the same email resolves the record as well.

The record is found by the ``notifyctl-dedup-key`` message tag (book_notifier.tags)
that SES copies into every configuration-set event. Identity notifications carry
no message tags (SES documents this), so one without the tag is logged as
unmatched and skipped. Order and idempotency: dedup.DedupStore.record_delivery.

A malformed event, or one for no record, is logged (addresses redacted) and
skipped: retrying cannot fix it. A DynamoDB error raises, so Lambda's asynchronous
retries (two, then the event is dropped and its error log line stays) try again:
nothing is retried forever.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from book_notifier import tags
from book_notifier.dedup import (
    APPLIED,
    BOUNCED,
    COMPLAINED,
    DELAYED,
    DELIVERED,
    FAILED,
    MISSING,
    REJECTED_BY_SES,
    SENT,
    DedupStore,
    DeliveryUpdate,
)
from book_notifier.log import JsonLogger, redact, scrub
from book_notifier.sns import MalformedRecord, SNSEvent

# SES's event names (eventType / notificationType) -> (delivery state, resolves to).
KINDS: dict[str, tuple[str | None, str | None]] = {
    "Send": (None, SENT),
    "Delivery": (DELIVERED, SENT),
    "Bounce": (BOUNCED, SENT),
    "Complaint": (COMPLAINED, SENT),
    "DeliveryDelay": (DELAYED, SENT),
    "Reject": (REJECTED_BY_SES, FAILED),
    "Rendering Failure": (REJECTED_BY_SES, FAILED),
}
IGNORED_KINDS = frozenset({"Open", "Click", "Subscription", "AmazonSnsSubscriptionSucceeded"})
DIAGNOSTIC_CAP = 300

# Handler outcomes (counted in its summary).
UNMATCHED, IGNORED, MALFORMED, STALE = "unmatched", "ignored", "malformed", "stale"
OUTCOMES = (APPLIED, STALE, MISSING, UNMATCHED, IGNORED, MALFORMED)
MALFORMED_METRIC = "MalformedFeedbackEvents"


class MalformedFeedback(ValueError):
    """Not an SES event this function understands (logged, then skipped)."""


@dataclass(frozen=True)
class Feedback:
    """One SES event: what the record needs from it, nothing that names a person."""

    kind: str                     # SES's eventType / notificationType
    ses_message_id: str
    at_ms: int                    # when it happened (the event object's timestamp)
    dedup_key: str | None         # None: no notifyctl tag (not one of ours)
    book_id: str | None
    recipient: str | None         # redacted
    update: DeliveryUpdate | None  # None: a kind this function ignores
    details: dict[str, str] = field(default_factory=dict)


def _obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def epoch_ms(text: str) -> int | None:
    """SES's ISO 8601 timestamps (``2017-08-05T00:41:02.669Z``) -> epoch ms."""
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _tag(mail: Mapping[str, Any], name: str) -> str | None:
    values = _obj(mail, "tags").get(name)
    if isinstance(values, list) and values and isinstance(values[0], str):
        return tags.decode(values[0])
    return None


# The event object of each kind, and where its first recipient is listed.
_OBJECTS = {"Send": "send", "Delivery": "delivery", "Bounce": "bounce",
            "Complaint": "complaint", "DeliveryDelay": "deliveryDelay", "Reject": "reject",
            "Rendering Failure": "failure"}


def parse(message: str) -> Feedback:
    """An SNS Message from SES -> Feedback; raises MalformedFeedback."""
    try:
        data = json.loads(message)
    except ValueError:
        raise MalformedFeedback("the message is not JSON") from None
    if not isinstance(data, Mapping):
        raise MalformedFeedback("the message is not a JSON object")
    kind = _str(data, "eventType") or _str(data, "notificationType")
    if not kind:
        raise MalformedFeedback("neither eventType nor notificationType")
    mail = _obj(data, "mail")
    message_id = _str(mail, "messageId")
    if not message_id:
        raise MalformedFeedback(f"{kind}: mail.messageId is missing")
    destination = mail.get("destination")
    first = destination[0] if isinstance(destination, list) and destination else None
    key, book_id = _tag(mail, tags.DEDUP_KEY_TAG), _tag(mail, tags.BOOK_ID_TAG)
    recipient = redact(first) if first else None
    if kind in IGNORED_KINDS:
        return Feedback(kind, message_id, 0, key, book_id, recipient, None)
    if kind not in KINDS:
        raise MalformedFeedback(f"unknown event type {kind!r}")
    body = _obj(data, _OBJECTS[kind])
    if kind not in ("Send", "Reject", "Rendering Failure") and not body:
        raise MalformedFeedback(f"{kind}: the {_OBJECTS[kind]} object is missing")
    at_ms = epoch_ms(_str(body, "timestamp")) or epoch_ms(_str(mail, "timestamp"))
    if at_ms is None:
        raise MalformedFeedback(f"{kind}: no valid timestamp")
    details = _details(kind, body)
    delivery, resolves_to = KINDS[kind]
    update = DeliveryUpdate(delivery, message_id, at_ms, resolves_to, details)
    return Feedback(kind, message_id, at_ms, key, book_id, recipient, update, details)


def _details(kind: str, body: Mapping[str, Any]) -> dict[str, str]:
    """The attributes each kind adds to the record (addresses scrubbed)."""
    if kind == "Bounce":
        recipients = body.get("bouncedRecipients")
        first = recipients[0] if isinstance(recipients, list) and recipients and isinstance(
            recipients[0], Mapping) else {}
        return {"bounce_type": _str(body, "bounceType"),
                "bounce_subtype": _str(body, "bounceSubType"),
                "diagnostic": scrub(_str(first, "diagnosticCode"))[:DIAGNOSTIC_CAP]}
    if kind == "Complaint":
        # complaintFeedbackType is present only when the report says (AWS docs).
        return {"complaint_type": _str(body, "complaintFeedbackType")}
    if kind == "DeliveryDelay":
        recipients = body.get("delayedRecipients")
        first = recipients[0] if isinstance(recipients, list) and recipients and isinstance(
            recipients[0], Mapping) else {}
        return {"delay_type": _str(body, "delayType"),
                "diagnostic": scrub(_str(first, "diagnosticCode"))[:DIAGNOSTIC_CAP]}
    if kind == "Reject":
        return {"delivery_reason": scrub(_str(body, "reason")) or "rejected by SES"}
    if kind == "Rendering Failure":
        return {"delivery_reason": "rendering failure: "
                                   + scrub(_str(body, "errorMessage"))[:DIAGNOSTIC_CAP]}
    return {}


class FeedbackHandler:
    def __init__(self, store: DedupStore, logger: JsonLogger, *,
                 perf_counter: Callable[[], float] = time.perf_counter) -> None:
        self.store = store
        self.logger = logger
        self.perf_counter = perf_counter

    def handle(self, event: object, context: object) -> dict[str, int]:
        """{"records": n, "applied": .., "stale": .., "missing": .., "unmatched": ..,
        "ignored": .., "malformed": ..}. Raises only for a DynamoDB error."""
        log = self.logger.bind(request_id=str(getattr(context, "aws_request_id", "") or ""))
        summary = {"records": 0, **{o: 0 for o in OUTCOMES}}
        try:
            records = list(SNSEvent(event).records)
        except MalformedRecord as exc:
            log.error("not an SNS event; skipped", outcome=MALFORMED, error=str(exc))
            log.metric(MALFORMED_METRIC)
            summary[MALFORMED] += 1
            return summary
        for record in records:
            summary["records"] += 1
            summary[self.process(record.sns.message if _has_message(record) else None,
                                 log)] += 1
        return summary

    def process(self, message: str | None, log: JsonLogger) -> str:
        started = self.perf_counter()
        try:
            if message is None:
                raise MalformedFeedback("the SNS record has no Message")
            feedback = parse(message)
        except MalformedFeedback as exc:
            log.error("malformed SES event; skipped", outcome=MALFORMED,
                      error=scrub(str(exc)), size=len(message or ""))
            log.metric(MALFORMED_METRIC)
            return MALFORMED
        log = log.bind(ses_message_id=feedback.ses_message_id, ses_event=feedback.kind,
                       recipient=feedback.recipient, book_id=feedback.book_id)
        if feedback.update is None:
            log.info("event type not tracked; skipped", outcome=IGNORED)
            return IGNORED
        if feedback.dedup_key is None:
            log.warning("no notifyctl-dedup-key tag (not sent by the notifier, or an "
                        "identity notification, which carries no tags); skipped",
                        outcome=UNMATCHED)
            return UNMATCHED
        log = log.bind(dedup_key=feedback.dedup_key)
        try:
            outcome, resolved_from = self.store.record_delivery(feedback.dedup_key,
                                                                feedback.update)
        except (ClientError, BotoCoreError) as exc:
            log.error("could not update the record (DynamoDB); raising to retry",
                      outcome="retry", error=scrub(str(exc)))
            raise
        elapsed = round((self.perf_counter() - started) * 1000, 2)
        fields = {k: v for k, v in feedback.details.items() if v}
        if outcome == MISSING:
            log.warning("no de-dup record for this key (expired, or another environment's "
                        "email); skipped", outcome=MISSING, duration_ms=elapsed)
        elif resolved_from:
            log.info("SES event recorded; the record's status resolved", outcome=outcome,
                     delivery=feedback.update.delivery, resolved_from=resolved_from,
                     resolved_to=feedback.update.resolves_to, duration_ms=elapsed, **fields)
        else:
            log.info("SES event recorded" if outcome == APPLIED else
                     "SES event older than the record's state; kept its time only",
                     outcome=outcome, delivery=feedback.update.delivery,
                     duration_ms=elapsed, **fields)
        return outcome


def _has_message(record: Any) -> bool:
    try:
        return isinstance(record.sns.message, str)
    except MalformedRecord:
        return False


def build(environ: Mapping[str, str] | None = None) -> FeedbackHandler:
    """The handler for this container: TABLE_NAME (required), LOG_LEVEL."""
    import botocore.session
    from botocore.config import Config

    env = os.environ if environ is None else environ
    table = env.get("TABLE_NAME", "").strip()
    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if not table:
        JsonLogger("INFO").error("configuration error: the function cannot start",
                                 outcome="init_failed", error="TABLE_NAME is not set")
        raise RuntimeError("TABLE_NAME is not set")
    # The notifier's settings (book_notifier.handler.BOTO_CONFIG, not imported: that
    # module builds the notifier at import). UpdateItem is idempotent here.
    config = Config(retries={"mode": "standard", "total_max_attempts": 3},
                    connect_timeout=2, read_timeout=5, user_agent_extra="book-feedback")
    client = botocore.session.get_session().create_client("dynamodb", config=config)
    return FeedbackHandler(DedupStore(table, client), JsonLogger(level))


_HANDLER: FeedbackHandler | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda's entry point. Built on the first invocation of a container (not at
    import: book_notifier.handler's module scope needs the notifier's settings)."""
    global _HANDLER
    if _HANDLER is None:
        _HANDLER = build()
    return _HANDLER.handle(event, context)
