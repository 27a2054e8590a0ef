"""The account-level SES suppression list (SESv2): list, check, add, remove.

On AWS this list is ACCOUNT-WIDE (one per account and Region): an address on it is
not sent to by any sender of the account, whatever the configuration set, until it
is removed; SES adds hard bounces and complaints to it itself when the account's
suppression attributes name those reasons (`bootstrap` sets BOUNCE and COMPLAINT).
A send to a listed address is still accepted by SendEmail, counted as a send, and
answered with a Bounce event of subtype OnAccountSuppressionList.

Addresses here are the operator's own data and are shown in full; nothing here
logs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from book_notifier import contract
from notifyctl.aws.calls import SESV2_NOT_FOUND, get_or_none
from notifyctl.errors import OperationError, UsageError

REASONS = ("BOUNCE", "COMPLAINT")
PAGE_SIZE = 1000  # ListSuppressedDestinations' maximum


@dataclass(frozen=True)
class SuppressedAddress:
    address: str
    reason: str
    last_update: str | None  # ISO 8601
    message_id: str | None = None   # the SES message that put it there, when known
    feedback_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "reason": self.reason,
                "last_update": self.last_update, "message_id": self.message_id,
                "feedback_id": self.feedback_id}


@dataclass(frozen=True)
class CheckResult:
    address: str
    suppressed: SuppressedAddress | None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "suppressed": self.suppressed is not None,
                **({"entry": self.suppressed.as_dict()} if self.suppressed else {})}


def check_address(value: str) -> str:
    """A user's ADDR, or UsageError (exit 2) naming the field."""
    try:
        return contract.check_email(value.strip())
    except contract.ContractError as exc:
        raise UsageError(f"ADDR {value!r}: {exc.reason}; expected an email address such as "
                         "jane@example.com") from None


def check_reason(value: str) -> str:
    reason = value.strip().upper()
    if reason not in REASONS:
        raise UsageError(f"--reason {value!r}: expected one of {', '.join(REASONS)}")
    return reason


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


def iter_suppressed(sesv2: Any, reason: str | None = None) -> Iterator[SuppressedAddress]:
    """Every entry, page after page (ListSuppressedDestinations has no botocore
    paginator: NextToken is followed here)."""
    params: dict[str, Any] = {"PageSize": PAGE_SIZE}
    if reason:
        params["Reasons"] = [reason]
    while True:
        page = sesv2.list_suppressed_destinations(**params)
        for entry in page.get("SuppressedDestinationSummaries") or []:
            yield SuppressedAddress(str(entry.get("EmailAddress", "")),
                                    str(entry.get("Reason", "")),
                                    _iso(entry.get("LastUpdateTime")))
        token = page.get("NextToken")
        if not token:
            return
        params["NextToken"] = token


def list_suppressed(sesv2: Any, reason: str | None = None) -> list[SuppressedAddress]:
    return list(iter_suppressed(sesv2, reason))


def check(sesv2: Any, address: str) -> CheckResult:
    got = get_or_none(sesv2.get_suppressed_destination, *SESV2_NOT_FOUND,
                      EmailAddress=address)
    if not got:
        return CheckResult(address, None)
    entry = got.get("SuppressedDestination") or {}
    attrs = entry.get("Attributes") or {}
    return CheckResult(address, SuppressedAddress(
        str(entry.get("EmailAddress", address)), str(entry.get("Reason", "")),
        _iso(entry.get("LastUpdateTime")), attrs.get("MessageId") or None,
        attrs.get("FeedbackId") or None))


def add(sesv2: Any, address: str, reason: str) -> None:
    sesv2.put_suppressed_destination(EmailAddress=address, Reason=reason)


def remove(sesv2: Any, address: str) -> None:
    """Remove the address; OperationError (exit 1) when it is not on the list."""
    if get_or_none(sesv2.delete_suppressed_destination, *SESV2_NOT_FOUND,
                   EmailAddress=address) is None:
        raise OperationError(f"{address} is not on the account's suppression list",
                             hint="`notifyctl suppression list` shows what is.")
