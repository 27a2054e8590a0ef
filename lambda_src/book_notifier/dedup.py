"""The de-duplication store: one DynamoDB item per SNS MessageId (partition key ``pk``).

Item (the contract notifyctl's ``publish-book --wait`` and the demo read):

=================  ======  ==========================================================
attribute          type    meaning
=================  ======  ==========================================================
pk                 S       the SNS MessageId, exactly
status             S       IN_PROGRESS | SENT | REJECTED | FAILED
lease_until        N       epoch seconds; an IN_PROGRESS claim is live until then
expires_at         N       epoch seconds; the table's TTL attribute
attempts           N       how many times the message was claimed
book_id            S       when known
recipient          S       the redacted address only (``j***@example.com``)
published_at       S       the SNS Timestamp, as sent
claimed_at         N       epoch ms of the latest claim
sent_at            N       epoch ms, when SENT
ses_message_id     S       when SENT
reason             S       why REJECTED/FAILED (or, on a released IN_PROGRESS claim,
                           the transient error that released it)
raw_message        S       the message, capped at RAW_MESSAGE_CAP characters (REJECTED)
=================  ======  ==========================================================

Claiming is one conditional PutItem, the pattern of Powertools' idempotency utility::

    delivery A   |--claim--|-----send-----|--mark SENT--|
    delivery B        |--claim: condition fails, item IN_PROGRESS, lease live--> raise
                                                       (Lambda retries later: SENT, skip)
    delivery C (A crashed after its claim)
    A            |--claim--|--send... X (timeout)
                           |<---- remaining time + margin ---->| lease_until
    C                                                               |--claim: lease ended
                                                                    |  -> takes over--|

The condition admits "no item" or "an IN_PROGRESS item whose lease has ended", so a
crashed attempt blocks its message for at most one lease. A lease runs for the
function's remaining time plus a margin, so no live attempt can lose it. Records
live DEDUP_RETENTION_HOURS (never below 6 h, how long Lambda keeps async events);
TTL deletion is lazy, and an expired record still counts as processed until DynamoDB
removes it, which errs on the side of sending once.

PutItem cannot increment ``attempts``: the claim writes 1 and reads the replaced
item (ReturnValues=ALL_OLD); the final update of the attempt writes the true count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

IN_PROGRESS = "IN_PROGRESS"
SENT = "SENT"
REJECTED = "REJECTED"
FAILED = "FAILED"
RAW_MESSAGE_CAP = 4096

_CLAIMABLE = "attribute_not_exists(pk) OR (#status = :in_progress AND lease_until < :now)"


class AlreadyProcessed(Exception):
    """The message reached a final status in an earlier delivery: skip it."""

    def __init__(self, status: str, item: dict[str, Any]) -> None:
        super().__init__(f"message already {status}")
        self.status = status
        self.item = item


class ClaimHeld(Exception):
    """Another attempt holds a live claim: raise so Lambda retries later."""

    def __init__(self, lease_until: int) -> None:
        super().__init__(f"another attempt holds the claim until {lease_until} (epoch s)")
        self.lease_until = lease_until


@dataclass(frozen=True)
class Claim:
    message_id: str
    attempts: int
    claimed_at_ms: int
    lease_until: int


class DedupStore:
    def __init__(
        self,
        table_name: str,
        boto3_client: Any,
        *,
        retention_hours: int = 168,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = boto3_client
        self.retention_s = retention_hours * 3600
        self.clock = clock

    def claim(
        self,
        message_id: str,
        *,
        lease_s: float,
        book_id: str | None = None,
        recipient: str | None = None,
        published_at: str | None = None,
    ) -> Claim:
        """Claim the message for sending, or raise AlreadyProcessed / ClaimHeld.
        DynamoDB errors propagate (transient: the caller raises to be retried)."""
        now = self.clock()
        claim = Claim(message_id, 1, int(now * 1000), math.ceil(now + lease_s))
        item = self._base_item(message_id, IN_PROGRESS, now, book_id, recipient, published_at)
        item["lease_until"] = {"N": str(claim.lease_until)}
        old = self._put_if_claimable(item, now)
        if old is not None:
            claim = Claim(message_id, _attempts(old) + 1, claim.claimed_at_ms, claim.lease_until)
        return claim

    def reject(
        self,
        message_id: str,
        *,
        reason: str,
        raw_message: str,
        book_id: str | None = None,
        recipient: str | None = None,
        published_at: str | None = None,
    ) -> None:
        """Record a message that broke the contract (never emailed, never retried).
        Raises AlreadyProcessed / ClaimHeld like claim()."""
        now = self.clock()
        item = self._base_item(message_id, REJECTED, now, book_id, recipient, published_at)
        item["reason"] = {"S": reason}
        item["raw_message"] = {"S": cap(raw_message, RAW_MESSAGE_CAP)}
        self._put_if_claimable(item, now)

    def mark_sent(self, claim: Claim, ses_message_id: str) -> None:
        # Unconditional: the email went out, so the record must say so whatever else
        # happened to the item meanwhile.
        self.client.update_item(
            TableName=self.table_name,
            Key={"pk": {"S": claim.message_id}},
            UpdateExpression="SET #status = :sent, sent_at = :sent_at, "
                             "ses_message_id = :ses_id, attempts = :attempts REMOVE reason",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sent": {"S": SENT},
                ":sent_at": {"N": str(int(self.clock() * 1000))},
                ":ses_id": {"S": ses_message_id},
                ":attempts": {"N": str(claim.attempts)},
            },
        )

    def mark_failed(self, claim: Claim, reason: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"pk": {"S": claim.message_id}},
            UpdateExpression="SET #status = :failed, reason = :reason, attempts = :attempts",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": FAILED},
                ":reason": {"S": cap(reason, 1024)},
                ":attempts": {"N": str(claim.attempts)},
            },
        )

    def release(self, claim: Claim, reason: str) -> None:
        """End our lease now so Lambda's retry can claim at once. Only while the claim
        is still ours (a takeover after our lease ended must not be undone)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": claim.message_id}},
                UpdateExpression="SET lease_until = :zero, reason = :reason, "
                                 "attempts = :attempts",
                ConditionExpression="#status = :in_progress AND claimed_at = :mine",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":reason": {"S": cap(reason, 1024)},
                    ":attempts": {"N": str(claim.attempts)},
                    ":in_progress": {"S": IN_PROGRESS},
                    ":mine": {"N": str(claim.claimed_at_ms)},
                },
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise

    def get(self, message_id: str) -> dict[str, Any] | None:
        """The item as plain Python values (numbers as int), or None."""
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": message_id}}, ConsistentRead=True)
        item = response.get("Item")
        return plain(item) if item else None

    def _base_item(
        self,
        message_id: str,
        status: str,
        now: float,
        book_id: str | None,
        recipient: str | None,
        published_at: str | None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": message_id},
            "status": {"S": status},
            "expires_at": {"N": str(int(now) + self.retention_s)},
            "attempts": {"N": "1"},
            "claimed_at": {"N": str(int(now * 1000))},
        }
        for name, value in (("book_id", book_id), ("recipient", recipient),
                            ("published_at", published_at)):
            if value:
                item[name] = {"S": value}
        return item

    def _put_if_claimable(self, item: dict[str, Any], now: float) -> dict[str, Any] | None:
        """PutItem under the claim condition; the replaced item (an expired claim) or
        None. Raises AlreadyProcessed or ClaimHeld when the condition fails."""
        try:
            response = self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=_CLAIMABLE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":now": {"N": str(int(now))},
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            existing = plain(exc.response.get("Item") or {})
            status = str(existing.get("status", ""))
            if status == IN_PROGRESS:
                raise ClaimHeld(int(existing.get("lease_until", 0))) from exc
            raise AlreadyProcessed(status or "UNKNOWN", existing) from exc
        old = response.get("Attributes")
        return plain(old) if old else None


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"...[{len(text) - limit} more characters]"
    return text[: max(0, limit - len(marker))] + marker


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attribute values -> Python values (S, N as int, BOOL)."""
    out: dict[str, Any] = {}
    for name, typed in item.items():
        if "S" in typed:
            out[name] = typed["S"]
        elif "N" in typed:
            number = typed["N"]
            out[name] = int(number) if number.lstrip("-").isdigit() else float(number)
        elif "BOOL" in typed:
            out[name] = typed["BOOL"]
        else:
            out[name] = typed
    return out


def _attempts(item: dict[str, Any]) -> int:
    value = item.get("attempts", 0)
    return value if isinstance(value, int) else 0


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
