"""SESv2 account APIs moto lacks (404 there): GetAccount, PutAccountSendingAttributes,
PutAccountSuppressionAttributes and the account-level suppression list
(Put/Get/List/DeleteSuppressedDestination), over emulator/ses_account.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from notifyctl.emulator import ses_account
from notifyctl.emulator.patches.ses import service_error

PAGE_SIZE = 1000  # ListSuppressedDestinations' maximum


# moto routes /v2/... through a catch-all its server cannot match past one path segment.
ROUTES = (
    "{0}/v2/email/account$",
    "{0}/v2/email/account/sending$",
    "{0}/v2/email/account/suppression$",
    "{0}/v2/email/suppression/addresses$",
    "{0}/v2/email/suppression/addresses/(?P<EmailAddress>[^/]+)$",
)


def targets() -> list[tuple[Any, str]]:
    from moto.sesv2 import urls
    from moto.sesv2.responses import SESV2Response

    return [(SESV2Response, "sesv2_backend"),  # the class we add operations to
            (urls, "url_paths")]


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _epoch(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def apply() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.sesv2 import responses

    SESV2Response: Any = responses.SESV2Response  # Any: we add methods

    def _account(self: Any) -> ses_account.SesAccount:
        return ses_account.account(self.current_account, self.region)

    def _params(self: Any) -> dict[str, Any]:
        try:
            data = json.loads(self.body or "{}")
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def _address(self: Any) -> str:
        return unquote(self.path.rstrip("/").rsplit("/", 1)[-1])

    def get_account(self: Any) -> Any:
        account = _account(self)
        return ActionResult({
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": not account.sandbox,
            "SendQuota": {"Max24HourSend": float(account.limits.max_24h),
                          "MaxSendRate": float(account.limits.max_rate),
                          "SentLast24Hours": float(account.sent_last_24h())},
            "SendingEnabled": account.sending_enabled,
            "SuppressionAttributes": {"SuppressedReasons": list(account.suppressed_reasons)},
        })

    def put_account_sending_attributes(self: Any) -> Any:
        _account(self).sending_enabled = bool(_params(self).get("SendingEnabled", False))
        return EmptyResult()

    def put_account_suppression_attributes(self: Any) -> Any:
        reasons = list(_params(self).get("SuppressedReasons") or [])
        bad = [r for r in reasons if r not in ses_account.SUPPRESSION_REASONS]
        if bad:
            raise service_error("BadRequestException", f"Invalid suppression reason: {bad[0]}")
        _account(self).suppressed_reasons = reasons
        return EmptyResult()

    def put_suppressed_destination(self: Any) -> Any:
        params = _params(self)
        address, reason = str(params.get("EmailAddress", "")), str(params.get("Reason", ""))
        if reason not in ses_account.SUPPRESSION_REASONS:
            raise service_error("BadRequestException", f"Invalid reason: {reason}")
        if "@" not in address:
            raise service_error("BadRequestException", f"Invalid email address: {address}")
        try:
            _account(self).put_suppressed(address, reason)
        except ses_account.SuppressionDisabled as exc:
            raise service_error("BadRequestException", str(exc)) from None
        return EmptyResult()

    def get_suppressed_destination(self: Any) -> Any:
        found = _account(self).get_suppressed(_address(self))
        if found is None:
            raise service_error("NotFoundException",
                                f"Email address {_address(self)} does not exist on your "
                                "suppression list.")
        return ActionResult({"SuppressedDestination": {
            "EmailAddress": found.address, "Reason": found.reason,
            "LastUpdateTime": _when(found.last_update),
            "Attributes": {"MessageId": found.message_id, "FeedbackId": found.feedback_id}}})

    def delete_suppressed_destination(self: Any) -> Any:
        try:
            deleted = _account(self).delete_suppressed(_address(self))
        except ses_account.SuppressionDisabled as exc:
            raise service_error("BadRequestException", str(exc)) from None
        if not deleted:
            raise service_error("NotFoundException",
                                f"Email address {_address(self)} does not exist on your "
                                "suppression list.")
        return EmptyResult()

    def list_suppressed_destinations(self: Any) -> Any:
        query = self.querystring
        reasons = list(query.get("Reason") or query.get("Reasons") or [])
        start = _epoch((query.get("StartDate") or [None])[0])
        end = _epoch((query.get("EndDate") or [None])[0])
        size = int((query.get("PageSize") or [PAGE_SIZE])[0])
        offset = int((query.get("NextToken") or [0])[0])
        items = _account(self).list_suppressed(reasons, start, end)
        page = items[offset:offset + size]
        result: dict[str, Any] = {"SuppressedDestinationSummaries": [
            {"EmailAddress": s.address, "Reason": s.reason, "LastUpdateTime": _when(s.last_update)}
            for s in page]}
        if offset + size < len(items):
            result["NextToken"] = str(offset + size)
        return ActionResult(result)

    from moto.sesv2 import urls

    for route in ROUTES:
        urls.url_paths.setdefault(route, SESV2Response.dispatch)
    SESV2Response.get_account = get_account
    SESV2Response.put_account_sending_attributes = put_account_sending_attributes
    SESV2Response.put_account_suppression_attributes = put_account_suppression_attributes
    SESV2Response.put_suppressed_destination = put_suppressed_destination
    SESV2Response.get_suppressed_destination = get_suppressed_destination
    SESV2Response.delete_suppressed_destination = delete_suppressed_destination
    SESV2Response.list_suppressed_destinations = list_suppressed_destinations
