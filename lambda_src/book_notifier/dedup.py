"""The de-duplication store: one DynamoDB item per event (partition key ``pk``).

The key is the producer's ``event_id`` when the message carries one, the SNS MessageId
otherwise (:func:`book_notifier.contract.dedup_key`), so a producer retry that SNS gave
a new MessageId still finds the first delivery's record.

Item (the contract notifyctl's ``publish-book --wait``, ``failures`` and the demo read):

=================  ======  ==========================================================
attribute          type    meaning
=================  ======  ==========================================================
pk                 S       the de-dup key (``event:<event_id>`` or the MessageId)
message_id         S       the SNS MessageId of the latest claim or rejection
event_id           S       the producer's event id, when given
status             S       IN_PROGRESS | SENT | UNCONFIRMED | REJECTED | FAILED
lease_until        N       epoch seconds; an IN_PROGRESS claim is live until then
                           (0: released after a transient error, nothing was sent)
expires_at         N       epoch seconds; the table's TTL attribute
attempts           N       how many times the event was claimed (a retake writes the
                           replaced count + 1 at once, so crashed attempts count too)
claim_token        S       random, one per claim: the owner fence of every later write
request_id         S       the Lambda request id of the latest claim
book_id            S       when known
recipient          S       the redacted address only (``j***@example.com``)
published_at       S       the SNS Timestamp, as sent
claimed_at         N       epoch ms of the latest claim
sent_at            N       epoch ms, when SENT
ses_message_id     S       when SENT
unconfirmed_at     N       epoch ms, when UNCONFIRMED (SES's answer was lost: the
                           email may or may not have gone out)
reason             S       why REJECTED / FAILED / UNCONFIRMED (or, on a released
                           IN_PROGRESS claim, the transient error that released it)
message_size       N       REJECTED: the raw message's size in bytes
preview            S       REJECTED: the start of the message, addresses redacted
=================  ======  ==========================================================

What SES said happened to the email (written by the feedback function,
``book_notifier.feedback``, from the configuration set's events; :meth:`DedupStore.record_delivery`):

===================  ======  ========================================================
delivery             S       DELAYED | DELIVERED | BOUNCED | COMPLAINED | REJECTED_BY_SES
delivery_rank        N       the state's rank (below): a state replaces only a lower one
delivery_at          N       epoch ms of the event that set ``delivery``
delivery_message_id  S       the SES message id the event names
delayed_at, delivered_at, bounced_at, complained_at, rejected_at
                     N       epoch ms of each state's first event (kept even when a
                             higher state came first: SNS does not keep order)
bounce_type          S       Permanent | Transient | Undetermined
bounce_subtype       S       e.g. General, NoEmail, Suppressed, OnAccountSuppressionList
diagnostic           S       the receiving server's answer, addresses scrubbed, capped
complaint_type       S       the feedback report's type (abuse, fraud...), when given
delay_type           S       e.g. MailboxFull, TransientCommunicationFailure
delivery_reason      S       REJECTED_BY_SES: why (virus, rendering failure)
resolved_from        S       UNCONFIRMED (or IN_PROGRESS) when an SES event proved the
                             email was sent and set ``status`` to SENT
===================  ======  ========================================================

Event order is not guaranteed (SNS, Lambda retries), so states are ranked and an
update applies only over a lower rank, in one conditional UpdateItem::

    DELAYED (1) < DELIVERED (2) < BOUNCED, REJECTED_BY_SES (3) < COMPLAINED (4)

A Delivery arriving after its Bounce changes nothing but ``delivered_at``; the same
event twice changes nothing (equal rank): the update is idempotent.

Claiming is one conditional PutItem, the pattern of Powertools' idempotency utility::

    delivery A   |--claim--|-----send-----|--mark SENT--|
    delivery B        |--claim: condition fails, item IN_PROGRESS, lease live--> raise
                                                       (Lambda retries later: SENT, skip)
    delivery C (A crashed after its claim)
    A            |--claim--|--send... X (killed)
                           |<---- remaining time + margin ---->| lease_until
    C                                                               |--claim: lease ended
                                                                    |  -> takes over--|
                                                                    possible_duplicate

The condition admits "no item" or "an IN_PROGRESS item whose lease has ended", so a
crashed attempt blocks its event for at most one lease. A lease runs for the
function's remaining time plus a margin, so no live attempt can lose it. A takeover of
a lease that was not released is the one place an email can go out twice (A may have
died after SES accepted): the claim reports it (:attr:`Claim.taken_over_from`). SES's
events narrow that window: an event proving the send (Send, Delivery, Bounce...) marks
the claim SENT through :meth:`DedupStore.record_delivery`, usually seconds after the
send and long before the lease ends, so the retry finds it SENT.
UNCONFIRMED, SENT, REJECTED and FAILED are final: no delivery sends for them.

Records live DEDUP_RETENTION_HOURS (never below 6 h, how long Lambda keeps async
events); TTL deletion is lazy, and an expired record still counts as processed until
DynamoDB removes it, which errs on the side of sending once.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

IN_PROGRESS = "IN_PROGRESS"
SENT = "SENT"
UNCONFIRMED = "UNCONFIRMED"
REJECTED = "REJECTED"
FAILED = "FAILED"
FINAL_STATUSES = (SENT, UNCONFIRMED, REJECTED, FAILED)
# What SES said happened (the `delivery` attribute) and each state's rank.
DELAYED = "DELAYED"
DELIVERED = "DELIVERED"
BOUNCED = "BOUNCED"
COMPLAINED = "COMPLAINED"
REJECTED_BY_SES = "REJECTED_BY_SES"
DELIVERY_RANK = {DELAYED: 1, DELIVERED: 2, BOUNCED: 3, REJECTED_BY_SES: 3, COMPLAINED: 4}
DELIVERY_TIME_ATTRIBUTE = {DELAYED: "delayed_at", DELIVERED: "delivered_at",
                           BOUNCED: "bounced_at", COMPLAINED: "complained_at",
                           REJECTED_BY_SES: "rejected_at"}
# record_delivery's outcomes.
APPLIED, STALE, MISSING = "applied", "stale", "missing"
REASON_CAP = 1024
PREVIEW_CAP = 256

# Waits between attempts of a final write (mark SENT / UNCONFIRMED): the write is
# idempotent, and losing it is what could make a later redelivery send again.
FINAL_WRITE_BACKOFF_S = (0.1, 0.3, 0.9, 2.0)

_CLAIMABLE = "attribute_not_exists(pk) OR (#status = :in_progress AND lease_until < :now)"
_MINE = "#status = :in_progress AND claim_token = :token"


class AlreadyProcessed(Exception):
    """The event reached a final status in an earlier delivery: skip it."""

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
class Takeover:
    """The claim replaced an expired, unreleased one: its owner may have sent."""

    request_id: str
    claimed_at_ms: int
    attempts: int


@dataclass(frozen=True)
class Claim:
    key: str
    attempts: int
    claimed_at_ms: int
    lease_until: int
    token: str = ""
    taken_over_from: Takeover | None = None
    # The attributes the claim wrote, for the PutItem fallback of a final write.
    item: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ClaimInfo:
    """What a claim records besides its status (all optional, all safe to store)."""

    message_id: str = ""
    request_id: str = ""
    event_id: str | None = None
    book_id: str | None = None
    recipient: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class DeliveryUpdate:
    """One SES event, as the record takes it.

    `delivery` is None for an event that only proves SES accepted the email (Send).
    `resolves_to` is the status an UNCONFIRMED record takes from this event: SENT when
    the event proves SES accepted the email, FAILED when it proves SES did not send it
    (Reject), None otherwise."""

    delivery: str | None
    ses_message_id: str
    at_ms: int
    resolves_to: str | None = None
    details: dict[str, str] = field(default_factory=dict)


class DedupStore:
    def __init__(
        self,
        table_name: str,
        boto3_client: Any,
        *,
        retention_hours: int = 168,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        final_write_backoff: Sequence[float] = FINAL_WRITE_BACKOFF_S,
        token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.table_name = table_name
        self.client = boto3_client
        self.retention_s = retention_hours * 3600
        self.clock = clock
        self.sleep = sleep
        self.final_write_backoff = tuple(final_write_backoff)
        self.token = token

    def claim(self, key: str, *, lease_s: float, info: ClaimInfo = ClaimInfo()) -> Claim:
        """Claim the event for sending, or raise AlreadyProcessed / ClaimHeld.
        DynamoDB errors propagate (transient: the caller raises to be retried)."""
        now = self.clock()
        claimed_at_ms = int(now * 1000)
        lease_until = math.ceil(now + lease_s)
        token = self.token()
        item: dict[str, Any] = {
            "pk": {"S": key},
            "status": {"S": IN_PROGRESS},
            "lease_until": {"N": str(lease_until)},
            "claim_token": {"S": token},
            "attempts": {"N": "1"},
            **self._common(now, info),
        }
        old = self._put_if_claimable(item, now)
        if not old:
            return Claim(key, 1, claimed_at_ms, lease_until, token, None, item)
        # A retake: PutItem cannot increment, so the count the replaced item held + 1
        # is written at once (crashed attempts never reach a final write) and again by
        # the final write, whichever survives.
        attempts = _int(old.get("attempts")) + 1
        item["attempts"] = {"N": str(attempts)}
        with contextlib.suppress(ClientError, BotoCoreError):
            self.client.update_item(
                TableName=self.table_name, Key={"pk": {"S": key}},
                UpdateExpression="SET attempts = :n", ConditionExpression="claim_token = :token",
                ExpressionAttributeValues={":n": {"N": str(attempts)}, ":token": {"S": token}})
        return Claim(key, attempts, claimed_at_ms, lease_until, token, _takeover(old), item)

    def reject(
        self,
        key: str,
        *,
        reason: str,
        message_size: int,
        preview: str,
        info: ClaimInfo = ClaimInfo(),
    ) -> None:
        """Record a message that broke the contract (never emailed, never retried): the
        reason, its size and a redacted preview, never the raw message (it may hold
        an address). Raises AlreadyProcessed / ClaimHeld like claim()."""
        now = self.clock()
        item: dict[str, Any] = {
            "pk": {"S": key},
            "status": {"S": REJECTED},
            "attempts": {"N": "1"},
            "reason": {"S": cap(reason, REASON_CAP)},
            "message_size": {"N": str(message_size)},
            "preview": {"S": cap(preview, PREVIEW_CAP)},
            **self._common(now, info),
        }
        self._put_if_claimable(item, now)

    def mark_sent(self, claim: Claim, ses_message_id: str) -> None:
        """Record the send; retried with backoff, then written whole with PutItem.
        Unconditional: the email went out, so the record must say so whatever else
        happened to the item meanwhile. Raises only when every write failed."""
        now_ms = int(self.clock() * 1000)
        self._final_write(claim, SENT, {"sent_at": {"N": str(now_ms)},
                                        "ses_message_id": {"S": ses_message_id}},
                          owned=False)

    def mark_unconfirmed(self, claim: Claim, reason: str) -> None:
        """SES's answer was lost: the email may have gone out. Final (no delivery sends
        again); the operator, or SES's delivery events, decide. Retried like mark_sent,
        fenced on the claim's owner."""
        now_ms = int(self.clock() * 1000)
        self._final_write(claim, UNCONFIRMED, {"unconfirmed_at": {"N": str(now_ms)},
                                               "reason": {"S": cap(reason, REASON_CAP)}},
                          owned=True)

    def mark_failed(self, claim: Claim, reason: str) -> bool:
        """FAILED for a per-message refusal; False when the claim is no longer ours (a
        newer attempt took over after our lease ended: its record must stand)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": claim.key}},
                UpdateExpression="SET #status = :failed, reason = :reason, attempts = :attempts",
                ConditionExpression=_MINE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":failed": {"S": FAILED},
                    ":reason": {"S": cap(reason, REASON_CAP)},
                    ":attempts": {"N": str(claim.attempts)},
                    ":in_progress": {"S": IN_PROGRESS},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release(self, claim: Claim, reason: str) -> None:
        """End our lease now so Lambda's retry can claim at once. Only while the claim
        is still ours (a takeover after our lease ended must not be undone)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": claim.key}},
                UpdateExpression="SET lease_until = :zero, reason = :reason, "
                                 "attempts = :attempts",
                ConditionExpression=_MINE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":reason": {"S": cap(reason, REASON_CAP)},
                    ":attempts": {"N": str(claim.attempts)},
                    ":in_progress": {"S": IN_PROGRESS},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise

    def record_delivery(self, key: str, update: DeliveryUpdate) -> tuple[str, str | None]:
        """Apply an SES event to the record of `key`: (APPLIED | STALE | MISSING, the
        status the record was resolved from, or None). Never creates a record.

        One conditional UpdateItem sets the delivery state when it outranks the
        record's (module doc). When the event proves the email was sent and the
        record is UNCONFIRMED (SES's answer was lost) or still IN_PROGRESS (the event
        overtook the notifier's own write), a second conditional UpdateItem sets
        SENT: no later delivery of the book event may send it again. DynamoDB errors
        propagate (the caller raises: Lambda retries the event)."""
        now_ms = int(self.clock() * 1000)
        status: str | None = None
        outcome = APPLIED
        if update.delivery is not None:
            outcome, status = self._set_delivery(key, update, now_ms)
            if outcome == MISSING:
                return MISSING, None
        if update.resolves_to is None:
            return outcome, None
        if status is not None and status not in self._resolvable(update.resolves_to):
            return outcome, None
        resolved, exists = self._resolve(key, update)
        if update.delivery is None:  # a Send event: resolving was all it could do
            return (APPLIED if resolved else STALE if exists else MISSING), resolved
        return outcome, resolved

    @staticmethod
    def _resolvable(to: str) -> tuple[str, ...]:
        return (UNCONFIRMED, IN_PROGRESS) if to == SENT else (UNCONFIRMED,)

    def _set_delivery(self, key: str, update: DeliveryUpdate,
                      now_ms: int) -> tuple[str, str | None]:
        assert update.delivery is not None
        rank = DELIVERY_RANK[update.delivery]
        when = DELIVERY_TIME_ATTRIBUTE[update.delivery]
        values: dict[str, Any] = {
            ":delivery": {"S": update.delivery}, ":rank": {"N": str(rank)},
            ":at": {"N": str(update.at_ms)}, ":mid": {"S": update.ses_message_id},
            ":now": {"N": str(now_ms)}}
        sets = ["delivery = :delivery", "delivery_rank = :rank", "delivery_at = :at",
                "delivery_message_id = :mid", "feedback_at = :now",
                f"{when} = if_not_exists({when}, :at)"]
        for name, value in sorted(update.details.items()):
            if value:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": cap(value, REASON_CAP)}
        try:
            response = self.client.update_item(
                TableName=self.table_name, Key={"pk": {"S": key}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists("
                                    "delivery_rank) OR delivery_rank < :rank)",
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            old = plain(exc.response.get("Item") or {})
            if not old:
                return MISSING, None
            # Outranked (or the same event again): keep this state's first time only.
            with contextlib.suppress(ClientError):
                self.client.update_item(
                    TableName=self.table_name, Key={"pk": {"S": key}},
                    UpdateExpression=f"SET {when} = if_not_exists({when}, :at)",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":at": {"N": str(update.at_ms)}})
            return STALE, str(old.get("status", ""))
        return APPLIED, str(plain(response.get("Attributes") or {}).get("status", ""))

    def _resolve(self, key: str, update: DeliveryUpdate) -> tuple[str | None, bool]:
        """UNCONFIRMED (or IN_PROGRESS, for SENT) -> update.resolves_to: (the status it
        replaced or None when the record was in neither, whether the record exists).
        UpdateItem only (the feedback function's role has no GetItem)."""
        to = update.resolves_to
        assert to is not None
        allowed = self._resolvable(to)
        names = {"#status": "status"}
        values: dict[str, Any] = {":to": {"S": to}, ":from": {"S": UNCONFIRMED}}
        condition = "#status = :from"
        if IN_PROGRESS in allowed:
            condition += " OR #status = :in_progress"
            values[":in_progress"] = {"S": IN_PROGRESS}
        # The old status is read before any SET applies (and is listed first).
        expression = "SET resolved_from = #status, #status = :to"
        if to == SENT:
            expression += (", ses_message_id = if_not_exists(ses_message_id, :mid), "
                           "sent_at = if_not_exists(sent_at, :at)")
            values.update({":mid": {"S": update.ses_message_id},
                           ":at": {"N": str(update.at_ms)}})
        else:
            expression += ", reason = :reason"
            values[":reason"] = {"S": "SES did not send it after accepting it: "
                                      + cap(update.details.get("delivery_reason", ""), 200)}
        try:
            response = self.client.update_item(
                TableName=self.table_name, Key={"pk": {"S": key}},
                UpdateExpression=expression, ConditionExpression=condition,
                ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return None, bool(exc.response.get("Item"))
        return str(plain(response.get("Attributes") or {}).get("status", "")), True

    def get(self, key: str) -> dict[str, Any] | None:
        """The item as plain Python values (numbers as int), or None. For tests and
        tools: the function itself never reads an item."""
        response = self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True)
        item = response.get("Item")
        return plain(item) if item else None

    def _common(self, now: float, info: ClaimInfo) -> dict[str, Any]:
        values: dict[str, Any] = {
            "expires_at": {"N": str(int(now) + self.retention_s)},
            "claimed_at": {"N": str(int(now * 1000))},
        }
        for name, value in (("message_id", info.message_id), ("request_id", info.request_id),
                            ("event_id", info.event_id), ("book_id", info.book_id),
                            ("recipient", info.recipient),
                            ("published_at", info.published_at)):
            if value:
                values[name] = {"S": value}
        return values

    def _put_if_claimable(self, item: dict[str, Any], now: float) -> dict[str, Any]:
        """PutItem under the claim condition; the replaced item (plain values, empty when
        there was none). Raises AlreadyProcessed or ClaimHeld when the condition fails."""
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
            raise _claim_refused(exc) from exc
        return plain(response.get("Attributes") or {})

    def _final_write(self, claim: Claim, status: str, values: dict[str, Any], *,
                     owned: bool) -> None:
        """UpdateItem, retried with backoff; if every attempt failed, one PutItem of
        the whole record (a different request path: an UpdateItem-only fault or a hot
        partition's throttling of updates still leaves it). Raises the last error."""
        values = {**values, "attempts": {"N": str(claim.attempts)}}
        sets = ", ".join(f"{name} = :{name}" for name in values)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": {"S": claim.key}},
            "UpdateExpression": f"SET #status = :status, {sets}"
                                + ("" if "reason" in values else " REMOVE reason"),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": status},
                                          **{f":{k}": v for k, v in values.items()}},
        }
        if owned:
            request["ConditionExpression"] = _MINE
            request["ExpressionAttributeValues"].update(
                {":in_progress": {"S": IN_PROGRESS}, ":token": {"S": claim.token}})
        error: Exception | None = None
        for wait in (0.0, *self.final_write_backoff):
            if wait:
                self.sleep(wait)
            try:
                self.client.update_item(**request)
                return
            except ClientError as exc:
                if _code(exc) == "ConditionalCheckFailedException":
                    return  # no longer ours: the newer owner's record stands
                error = exc
            except BotoCoreError as exc:
                error = exc
        if not claim.item:
            raise error or RuntimeError("final write failed")
        item = {**claim.item, "status": {"S": status}, **values}
        item.pop("lease_until", None)
        put: dict[str, Any] = {"TableName": self.table_name, "Item": item}
        if owned:
            put["ConditionExpression"] = "claim_token = :token"
            put["ExpressionAttributeValues"] = {":token": {"S": claim.token}}
        try:
            self.client.put_item(**put)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return
            raise


def _claim_refused(exc: ClientError) -> Exception:
    """The condition failed: the existing item says why (final, or a live claim)."""
    if _code(exc) != "ConditionalCheckFailedException":
        return exc
    existing = plain(exc.response.get("Item") or {})
    status = str(existing.get("status", ""))
    if status == IN_PROGRESS:
        return ClaimHeld(_int(existing.get("lease_until")))
    return AlreadyProcessed(status or "UNKNOWN", existing)


def _takeover(old: dict[str, Any]) -> Takeover | None:
    """An expired claim whose owner never released it (released: lease_until 0)."""
    if old.get("status") != IN_PROGRESS or _int(old.get("lease_until")) == 0:
        return None
    return Takeover(str(old.get("request_id", "")), _int(old.get("claimed_at")),
                    _int(old.get("attempts")))


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


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
