"""The core: each SNS record -> validate -> compose -> claim -> send -> mark.

=========================================  ==========================  =====  =========
situation                                  item                        email  handler
=========================================  ==========================  =====  =========
valid, first delivery                      SENT + ses_message_id       one    returns
any later delivery of a final event        unchanged                   none   returns
delivery while a live claim exists         unchanged                   none   raises
breaks the contract                        REJECTED + reason, size,    none   returns
                                           redacted preview
SES refuses this message (MessageRejected,  FAILED + reason             none   returns
bad address)
SES refuses the account (paused,           claim released              none   raises
suspended, quota, throttling) / DynamoDB
or the network before the send
SES's answer lost (read timeout, dropped   UNCONFIRMED + time, reason  0 or 1 returns
connection, 5xx)
sent, marking SENT failed                  retried with backoff, then  one    returns
                                           written whole (PutItem)
takeover of an expired, unreleased claim   as above; possible_duplicate  0-1  as above
                                           logged + metric
=========================================  ==========================  =====  =========

Raising hands the event back to Lambda's asynchronous retries (and, after them, to the
on-failure destination, where ``notifyctl failures redrive`` picks it up), so nothing
is dropped silently. No row where SES may have accepted the email raises or releases:
a retry would find the event claimable and email a second time.

The email is composed before the claim: a bug in composing raises (Lambda's retries,
then the failure queue: recoverable after a fix) without taking a claim or being
mistaken for an SES error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from book_notifier import contract, tags
from book_notifier.config import Settings
from book_notifier.dedup import AlreadyProcessed, Claim, ClaimHeld, ClaimInfo, DedupStore
from book_notifier.log import JsonLogger, redact, scrub
from book_notifier.mailer import (
    Mailer,
    PermanentSendError,
    SendOutcomeUnknown,
    SendRefused,
    compose,
)
from book_notifier.sns import MalformedRecord, SNSEvent, SNSRecord

SENT = "sent"
DUPLICATE = "duplicate"
REJECTED = "rejected"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"
OUTCOMES = (SENT, DUPLICATE, REJECTED, FAILED, UNCONFIRMED)
POSSIBLE_DUPLICATE_METRIC = "PossibleDuplicates"
UNCONFIRMED_METRIC = "UnconfirmedSends"
PREVIEW_CHARS = 200

# Beyond the function's remaining time, so a live attempt never loses its lease.
LEASE_MARGIN_S = 10.0
DEFAULT_REMAINING_MS = 60_000


class Notifier:
    def __init__(
        self,
        settings: Settings,
        store: DedupStore,
        mailer: Mailer,
        logger: JsonLogger | None = None,
        *,
        perf_counter: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self.store = store
        self.mailer = mailer
        self.logger = logger or JsonLogger(settings.log_level)
        self.perf_counter = perf_counter

    def handle(self, event: object, context: object) -> dict[str, int]:
        """The Lambda entry point's body: {"records": n, "sent": .., "duplicate": ..,
        "rejected": .., "failed": .., "unconfirmed": ..}. Raises to have Lambda retry the event."""
        request_id = str(getattr(context, "aws_request_id", "") or "")
        log = self.logger.bind(request_id=request_id)
        summary = {"records": 0, **{outcome: 0 for outcome in OUTCOMES}}
        try:
            records = list(SNSEvent(event).records)
        except MalformedRecord as exc:
            log.error("not an SNS event; raising so it reaches the failure destination",
                      outcome="error", error=str(exc))
            raise
        for record in records:
            outcome = self.process(record, context, log)
            summary["records"] += 1
            summary[outcome] += 1
        return summary

    def process(self, record: SNSRecord, context: object, log: JsonLogger) -> str:
        """One record -> its outcome; raises when it must be retried (see module doc)."""
        started = self.perf_counter()

        def elapsed() -> float:
            return round((self.perf_counter() - started) * 1000, 2)

        try:
            sns = record.sns
            message_id = sns.message_id
            message = sns.message
        except MalformedRecord as exc:
            log.error("record is not an SNS notification; raising", outcome="error",
                      error=str(exc))
            raise
        log = log.bind(message_id=message_id)
        published_at = sns.timestamp or None

        try:
            event = contract.parse(message, self.settings.link_policy)
        except contract.ContractError as exc:
            return self._reject(message_id, message, exc, published_at, log, elapsed)

        key = contract.dedup_key(event.event_id, message_id)
        log = log.bind(book_id=event.book_id, recipient=redact(event.email))
        if event.event_id:
            log = log.bind(event_id=event.event_id)
        email = compose(event)  # a bug here raises before any claim (module doc)
        request_id = str(getattr(context, "aws_request_id", "") or "")
        try:
            claim = self.store.claim(
                key,
                lease_s=_remaining_s(context) + LEASE_MARGIN_S,
                info=ClaimInfo(message_id=message_id, request_id=request_id,
                               event_id=event.event_id, book_id=event.book_id,
                               recipient=redact(event.email), published_at=published_at),
            )
        except AlreadyProcessed as exc:
            log.info("duplicate delivery skipped", outcome=DUPLICATE, status=exc.status,
                     duration_ms=elapsed())
            return DUPLICATE
        except ClaimHeld as exc:
            log.warning("another attempt is sending this message; raising to retry later",
                        outcome="retry", lease_until=exc.lease_until, duration_ms=elapsed())
            raise
        except (ClientError, BotoCoreError) as exc:
            log.error("could not claim the message (DynamoDB); raising to retry",
                      outcome="retry", error=scrub(str(exc)), duration_ms=elapsed())
            raise
        log = log.bind(attempt=claim.attempts)
        if claim.taken_over_from is not None:
            previous = claim.taken_over_from
            log.warning("took over an expired claim whose attempt may have sent already",
                        outcome="possible_duplicate",
                        previous_request_id=previous.request_id,
                        previous_claimed_at=previous.claimed_at_ms)
            log.metric(POSSIBLE_DUPLICATE_METRIC)

        try:
            ses_message_id = self.mailer.send(event.email, email,
                                              tags.message_tags(key, event.book_id))
        except PermanentSendError as exc:
            return self._failed(claim, exc.reason, log, elapsed)
        except SendOutcomeUnknown as exc:
            return self._unconfirmed(claim, exc.reason, log, elapsed)
        except Exception as exc:
            reason = exc.reason if isinstance(exc, SendRefused) else scrub(str(exc))
            self._release(claim, f"transient: {reason}", log)
            log.error("sending failed; claim released, raising to retry", outcome="retry",
                      error=reason, duration_ms=elapsed())
            raise
        return self._sent(claim, ses_message_id, log, elapsed)

    def _sent(self, claim: Claim, ses_message_id: str, log: JsonLogger,
              elapsed: Callable[[], float]) -> str:
        try:
            self.store.mark_sent(claim, ses_message_id)
        except Exception as exc:
            # Every write failed (the store retried, then tried PutItem). Not raising:
            # a retry would send twice; the lease still protects it until it ends.
            log.error("email sent but not recorded as SENT after every retry; not raising "
                      "(a retry would send twice)", outcome=SENT, unrecorded=True,
                      ses_message_id=ses_message_id, lease_until=claim.lease_until,
                      error=scrub(str(exc)), duration_ms=elapsed())
            return SENT
        log.info("email sent", outcome=SENT, ses_message_id=ses_message_id,
                 duration_ms=elapsed())
        return SENT

    def _failed(self, claim: Claim, reason: str, log: JsonLogger,
                elapsed: Callable[[], float]) -> str:
        if not self.store.mark_failed(claim, reason):
            log.warning("SES refused the message, but a newer attempt owns the record; "
                        "left as it is", outcome=FAILED, reason=reason, duration_ms=elapsed())
            return FAILED
        log.error("SES refused this message; recorded FAILED", outcome=FAILED,
                  reason=reason, duration_ms=elapsed())
        return FAILED

    def _unconfirmed(self, claim: Claim, reason: str, log: JsonLogger,
                     elapsed: Callable[[], float]) -> str:
        try:
            self.store.mark_unconfirmed(claim, reason)
        except Exception as exc:
            log.error("SES's answer was lost and the record could not say so; the lease "
                      "protects it until it ends", outcome=UNCONFIRMED, unrecorded=True,
                      reason=reason, lease_until=claim.lease_until, error=scrub(str(exc)),
                      duration_ms=elapsed())
        else:
            log.error("SES's answer was lost: the email may have gone out; recorded "
                      "UNCONFIRMED, not retried", outcome=UNCONFIRMED, reason=reason,
                      duration_ms=elapsed())
        log.metric(UNCONFIRMED_METRIC)
        return UNCONFIRMED

    def _release(self, claim: Claim, reason: str, log: JsonLogger) -> None:
        try:
            self.store.release(claim, reason)
        except Exception as exc:  # the lease still ends on its own
            log.warning("could not release the claim; it ends at lease_until",
                        lease_until=claim.lease_until, error=scrub(str(exc)))

    def _reject(
        self,
        message_id: str,
        message: str,
        error: contract.ContractError,
        published_at: str | None,
        log: JsonLogger,
        elapsed: Callable[[], float],
    ) -> str:
        try:
            data = contract.decode(message)
        except contract.ContractError:
            data = None
        known = contract.known_fields(data)
        book_id = known.get("book_id")
        event_id = known.get("event_id")
        recipient = redact(known["email"]) if "email" in known else None
        log = log.bind(book_id=book_id, recipient=recipient)
        try:
            self.store.reject(
                contract.dedup_key(event_id, message_id),
                reason=error.reason,
                message_size=len(message.encode("utf-8", "surrogatepass")),
                preview=preview(message),
                info=ClaimInfo(message_id=message_id, event_id=event_id, book_id=book_id,
                               recipient=recipient, published_at=published_at),
            )
        except AlreadyProcessed as exc:
            log.info("duplicate delivery skipped", outcome=DUPLICATE, status=exc.status,
                     duration_ms=elapsed())
            return DUPLICATE
        except ClaimHeld:
            log.warning("another attempt holds this message; raising to retry later",
                        outcome="retry", duration_ms=elapsed())
            raise
        except (ClientError, BotoCoreError) as exc:
            log.error("could not record the rejected message (DynamoDB); raising",
                      outcome="retry", reason=error.reason, error=scrub(str(exc)),
                      duration_ms=elapsed())
            raise
        log.warning("message rejected", outcome=REJECTED, reason=error.reason,
                    duration_ms=elapsed())
        return REJECTED


def preview(message: str) -> str:
    """The start of a rejected message, safe to keep: every address redacted, control
    characters shown escaped, at most PREVIEW_CHARS characters."""
    head = message[: PREVIEW_CHARS * 2]
    shown = scrub(head).encode("unicode_escape").decode("ascii")
    if len(shown) > PREVIEW_CHARS or len(message) > len(head):
        return shown[: PREVIEW_CHARS - 1] + "\u2026"
    return shown


def _remaining_s(context: object) -> float:
    remaining: Any = getattr(context, "get_remaining_time_in_millis", None)
    try:
        millis = float(remaining()) if callable(remaining) else DEFAULT_REMAINING_MS
    except (TypeError, ValueError):
        millis = DEFAULT_REMAINING_MS
    return max(millis, 0.0) / 1000.0
