"""SESv2 account APIs moto lacks (404 there): GetAccount, PutAccountSendingAttributes,
PutAccountSuppressionAttributes and the account-level suppression list
(Put/Get/List/DeleteSuppressedDestination), over emulator/ses_account.py.

Configuration sets: GetConfigurationSet as AWS renders it (moto nests SendingOptions in
itself and drops tags added later), DeleteConfigurationSet of a missing set
(NotFoundException, moto: 500), the PutConfigurationSet*Options calls and the event
destination calls (moto: 404), over the objects v1 shares (patches/ses.py); an identity's
feedback forwarding and default configuration set (PutEmailIdentityFeedbackAttributes /
ConfigurationSetAttributes, moto: 404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from notifyctl.emulator import ses_account, ses_events
from notifyctl.emulator.patches.ses import destinations_of, sending_enabled, service_error

PAGE_SIZE = 1000  # ListSuppressedDestinations' maximum


# moto routes /v2/... through a catch-all its server cannot match past one path segment.
ROUTES = (
    "{0}/v2/email/account$",
    "{0}/v2/email/account/sending$",
    "{0}/v2/email/account/suppression$",
    "{0}/v2/email/suppression/addresses$",
    "{0}/v2/email/suppression/addresses/(?P<EmailAddress>[^/]+)$",
    "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/(?P<Option>[a-z-]+)$",
    "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations/"
    "(?P<EventDestinationName>[^/]+)$",
    "{0}/v2/email/identities/(?P<EmailIdentity>[^/]+)/feedback$",
    "{0}/v2/email/identities/(?P<EmailIdentity>[^/]+)/configuration-set$",
)
# PutConfigurationSet<X>Options: the field of moto's ConfigurationSet each one replaces.
OPTION_FIELDS = {"Reputation": "reputation_options", "Suppression": "suppression_options",
                 "Tracking": "tracking_options", "Delivery": "delivery_options",
                 "Vdm": "vdm_options", "Sending": "enabled"}


def targets() -> list[tuple[Any, str]]:
    from moto.sesv2 import urls
    from moto.sesv2.responses import SESV2Response

    return [(SESV2Response, "sesv2_backend"),  # the class we add operations to
            (SESV2Response, "get_configuration_set"),
            (SESV2Response, "delete_configuration_set"),
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

    _apply_configuration_sets(SESV2Response, _params)
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


def _apply_configuration_sets(SESV2Response: Any, _params: Any) -> None:
    from moto.core.responses import ActionResult, EmptyResult

    def _config_set(self: Any) -> Any:
        name = unquote(str(self._get_param("ConfigurationSetName") or ""))
        found = self.sesv2_backend.core_backend.config_sets.get(name)
        if found is None:
            raise service_error("NotFoundException", f"Configuration set <{name}> does not exist.")
        return found

    def _arn(self: Any, name: str) -> str:
        backend = self.sesv2_backend
        return f"arn:{backend.partition}:ses:{backend.region_name}:{backend.account_id}:" \
               f"configuration-set/{name}"

    def get_configuration_set(self: Any) -> Any:
        found = _config_set(self)
        name = found.configuration_set_name
        reputation = dict(found.reputation_options or {})
        reputation.setdefault("ReputationMetricsEnabled", False)
        result: dict[str, Any] = {
            "ConfigurationSetName": name,
            "ReputationOptions": reputation,
            "SendingOptions": {"SendingEnabled": sending_enabled(found)},
            "Tags": self.sesv2_backend.list_tags_for_resource(_arn(self, name)),
        }
        for key, value in (("TrackingOptions", found.tracking_options),
                           ("DeliveryOptions", found.delivery_options),
                           ("SuppressionOptions", found.suppression_options),
                           ("VdmOptions", found.vdm_options)):
            if value:  # AWS leaves out what was never set
                result[key] = value
        return ActionResult(result)

    def delete_configuration_set(self: Any) -> Any:
        found = _config_set(self)
        self.sesv2_backend.core_backend.config_sets.pop(found.configuration_set_name, None)
        arn = _arn(self, found.configuration_set_name)
        tagger = self.sesv2_backend.core_backend.tagger
        tagger.untag_resource_using_names(arn, list(tagger.get_tag_dict_for_resource(arn)))
        return EmptyResult()

    def put_options(kind: str) -> Any:
        def put(self: Any) -> Any:
            found = _config_set(self)
            params = _params(self)
            if kind == "Sending":
                found.enabled = {"SendingEnabled": bool(params.get("SendingEnabled", False))}
            elif kind == "Reputation":
                found.reputation_options = {
                    **(found.reputation_options or {}),
                    "ReputationMetricsEnabled": bool(params.get("ReputationMetricsEnabled",
                                                                False))}
            elif kind == "Suppression":
                reasons = list(params.get("SuppressedReasons") or [])
                bad = [r for r in reasons if r not in ses_account.SUPPRESSION_REASONS]
                if bad:
                    raise service_error("BadRequestException",
                                        f"Invalid suppression reason: {bad[0]}")
                found.suppression_options = {"SuppressedReasons": reasons}
            else:
                setattr(found, OPTION_FIELDS[kind], {k: v for k, v in params.items()
                                                     if k != "ConfigurationSetName"})
            return EmptyResult()
        return put

    def create_event_destination(self: Any) -> Any:
        found = _config_set(self)
        params = _params(self)
        name = str(params.get("EventDestinationName", ""))
        if name in destinations_of(found):
            raise service_error("AlreadyExistsException",
                                f"Event destination {name} already exists.")
        destinations_of(found)[name] = ses_events.EventDestination.from_v2(
            name, params.get("EventDestination") or {})
        return EmptyResult()

    def get_event_destinations(self: Any) -> Any:
        found = _config_set(self)
        return ActionResult({"EventDestinations": [d.to_v2() for d in
                                                   destinations_of(found).values()]})

    def update_event_destination(self: Any) -> Any:
        found = _config_set(self)
        name = unquote(self.path.rstrip("/").rsplit("/", 1)[-1])
        if name not in destinations_of(found):
            raise service_error("NotFoundException", f"Event destination {name} does not exist.")
        destinations_of(found)[name] = ses_events.EventDestination.from_v2(
            name, _params(self).get("EventDestination") or {})
        return EmptyResult()

    def delete_event_destination(self: Any) -> Any:
        found = _config_set(self)
        name = unquote(self.path.rstrip("/").rsplit("/", 1)[-1])
        if destinations_of(found).pop(name, None) is None:
            raise service_error("NotFoundException", f"Event destination {name} does not exist.")
        return EmptyResult()

    def _identity(self: Any) -> Any:
        name = unquote(str(self._get_param("EmailIdentity") or ""))
        found = self.sesv2_backend.core_backend.email_identities.get(name)
        if found is None:
            raise service_error("NotFoundException", f"Email identity {name} does not exist.")
        return found

    def put_feedback_attributes(self: Any) -> Any:
        found = _identity(self)
        enabled = bool(_params(self).get("EmailForwardingEnabled", False))
        found.feedback_forwarding_status = enabled  # v1's ForwardingEnabled reads the same
        settings = self.sesv2_backend.core_backend.sns_topics.setdefault(found.email_identity, {})
        settings["feedback_forwarding_enabled"] = enabled
        return EmptyResult()

    def put_identity_configuration_set(self: Any) -> Any:
        found = _identity(self)
        name = _params(self).get("ConfigurationSetName")
        if name and name not in self.sesv2_backend.core_backend.config_sets:
            raise service_error("NotFoundException", f"Configuration set <{name}> does not exist.")
        found.configuration_set_name = name or None  # the default set of this identity's sends
        return EmptyResult()

    SESV2Response.put_email_identity_feedback_attributes = put_feedback_attributes
    SESV2Response.put_email_identity_configuration_set_attributes = put_identity_configuration_set
    SESV2Response.get_configuration_set = get_configuration_set
    SESV2Response.delete_configuration_set = delete_configuration_set
    for kind in OPTION_FIELDS:
        setattr(SESV2Response, f"put_configuration_set_{kind.lower()}_options", put_options(kind))
    SESV2Response.create_configuration_set_event_destination = create_event_destination
    SESV2Response.get_configuration_set_event_destinations = get_event_destinations
    SESV2Response.update_configuration_set_event_destination = update_event_destination
    SESV2Response.delete_configuration_set_event_destination = delete_event_destination
