"""The core: each SNS record -> validate -> claim -> send -> mark.

=====================================  =======================  ==========  =========
situation                              item                     email       handler
=====================================  =======================  ==========  =========
valid, first delivery                  SENT + ses_message_id    one         returns
any later delivery of a final message  unchanged                none        returns
delivery while a live claim exists     unchanged                none        raises
breaks the contract                    REJECTED + reason + raw  none        returns
SES permanent error                    FAILED + reason          none        returns
SES/DynamoDB transient error           claim released           none        raises
sent, but marking SENT failed          stays IN_PROGRESS        one         returns
=====================================  =======================  ==========  =========

Raising hands the event back to Lambda's asynchronous retries (and, after them, to the
on-failure destination), so nothing is dropped silently. The last row does not raise:
a retry would find the lease ended and email a second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from book_notifier import contract
from book_notifier.config import Settings
from book_notifier.dedup import AlreadyProcessed, ClaimHeld, DedupStore
from book_notifier.log import JsonLogger, redact, scrub
from book_notifier.mailer import Mailer, PermanentSendError, compose
from book_notifier.sns import MalformedRecord, SNSEvent, SNSRecord

SENT = "sent"
DUPLICATE = "duplicate"
REJECTED = "rejected"
FAILED = "failed"
OUTCOMES = (SENT, DUPLICATE, REJECTED, FAILED)

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
        "rejected": .., "failed": ..}. Raises to have Lambda retry the event."""
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

        log = log.bind(book_id=event.book_id, recipient=redact(event.email))
        try:
            claim = self.store.claim(
                message_id,
                lease_s=_remaining_s(context) + LEASE_MARGIN_S,
                book_id=event.book_id,
                recipient=redact(event.email),
                published_at=published_at,
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

        try:
            ses_message_id = self.mailer.send(event.email, compose(event))
        except PermanentSendError as exc:
            self.store.mark_failed(claim, exc.reason)
            log.error("SES refused the message permanently; recorded FAILED",
                      outcome=FAILED, reason=exc.reason, duration_ms=elapsed())
            return FAILED
        except Exception as exc:
            reason = f"transient: {scrub(str(exc))}"
            try:
                self.store.release(claim, reason)
            except Exception as release_exc:  # the lease still ends on its own
                log.warning("could not release the claim; it ends at lease_until",
                            lease_until=claim.lease_until, error=scrub(str(release_exc)))
            log.error("sending failed; claim released, raising to retry", outcome="retry",
                      error=reason, duration_ms=elapsed())
            raise

        try:
            self.store.mark_sent(claim, ses_message_id)
        except Exception as exc:
            log.error("email sent but not recorded as SENT; not raising (a retry would "
                      "send twice)", outcome=SENT, ses_message_id=ses_message_id,
                      error=scrub(str(exc)), duration_ms=elapsed())
            return SENT
        log.info("email sent", outcome=SENT, ses_message_id=ses_message_id,
                 duration_ms=elapsed())
        return SENT

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
        recipient = redact(known["email"]) if "email" in known else None
        log = log.bind(book_id=book_id, recipient=recipient)
        try:
            self.store.reject(message_id, reason=error.reason, raw_message=message,
                              book_id=book_id, recipient=recipient, published_at=published_at)
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


def _remaining_s(context: object) -> float:
    remaining: Any = getattr(context, "get_remaining_time_in_millis", None)
    try:
        millis = float(remaining()) if callable(remaining) else DEFAULT_REMAINING_MS
    except (TypeError, ValueError):
        millis = DEFAULT_REMAINING_MS
    return max(millis, 0.0) / 1000.0
