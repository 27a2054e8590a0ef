"""SES (v1 and v2 sends, v1 account APIs): every accepted email lands in the outbox with
both its bodies; sends obey the account's rules (emulator/ses_account.py: sandbox,
quota and rate, pause, suppression list); identities may stay Pending."""

from __future__ import annotations

import json
import threading
from email.parser import Parser
from email.utils import getaddresses, parseaddr
from typing import Any

from notifyctl.emulator import ses_account
from notifyctl.emulator.patches import hub

# Which SES API the current request came through ("v1" query, "v2" JSON): errors differ.
_api = threading.local()


def targets() -> list[tuple[Any, str]]:
    from moto.ses.models import EmailIdentity, SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response

    return [(SESBackend, "send_email"), (SESBackend, "send_raw_email"),
            (SESBackend, "_is_verified_address"), (SESBackend, "create_email_identity_v2"),
            (SESBackend, "get_identity_verification_attributes"),
            (SESBackend, "get_send_quota"), (EmailIdentity, "get_response_object"),
            (EmailResponse, "send_email"), (EmailResponse, "send_raw_email"),
            (SESV2Response, "send_email")]


def service_error(code: str, message: str) -> Exception:
    """An error moto serialises in the called API's shape (its class lives outside
    moto's packages, so moto looks the code up in the current service's model)."""
    from moto.core.exceptions import ServiceException

    global _error_class
    if _error_class is None:
        _error_class = type("EmulatorServiceError", (ServiceException,), {})
    return _error_class(code, message)  # type: ignore[no-any-return]


_error_class: Any = None


def refusal(exc: ses_account.SesRefused) -> Exception:
    """SesRefused as the error of the API version in use."""
    version = getattr(_api, "version", "v1")
    return service_error(ses_account.ERROR_CODES[(exc.kind, version)], exc.message)


def identity_verified(backend: Any, identity: str) -> bool:
    found = backend.email_identities.get(identity)
    return found is not None and getattr(found, "verification_status", "SUCCESS") == "SUCCESS"


def address_verified(backend: Any, address: str) -> bool:
    """An address is verified as itself or through its domain (as SES checks)."""
    addr = parseaddr(address)[1]
    return identity_verified(backend, addr) or \
        identity_verified(backend, addr.split("@", 1)[-1].lower())


def mark_verified(account_id: str, region: str, identity: str) -> bool:
    """`notifyctl local ses verify`: the identity's verification succeeds (as when its
    owner clicks the link or publishes the DNS records). False: no such identity.
    Caller holds the moto lock."""
    from moto.ses.models import ses_backends

    found = ses_backends[account_id][region].email_identities.get(identity)
    if found is None:
        return False
    found.verification_status = "SUCCESS"
    return True


def raw_recipients(raw_data: str) -> list[str]:
    parsed = Parser().parsestr(raw_data, headersonly=True)
    fields = [v for k in ("To", "Cc", "Bcc") for v in parsed.get_all(k, [])]
    return [a for _, a in getaddresses(fields) if a]


def apply() -> None:
    from moto.ses import models, responses
    from moto.sesv2 import responses as v2_responses

    SESBackend: Any = models.SESBackend  # Any: we assign to their methods
    EmailIdentity: Any = models.EmailIdentity
    EmailResponse: Any = responses.EmailResponse
    SESV2Response: Any = v2_responses.SESV2Response
    backend_send, backend_raw = SESBackend.send_email, SESBackend.send_raw_email
    v1_send, v2_send = EmailResponse.send_email, SESV2Response.send_email
    v1_raw = EmailResponse.send_raw_email
    original_create = SESBackend.create_email_identity_v2
    original_identity_response = EmailIdentity.get_response_object.fget  # a property

    def _admit(self: Any, source: str, recipients: list[str]) -> list[str]:
        """Raise as SES would, or return the recipients it delivers to."""
        account = ses_account.account(self.account_id, self.region_name)
        try:
            account.admit(recipients, lambda r: address_verified(self, r))
        except ses_account.SesRefused as exc:
            self.rejected_messages_count += 1
            raise refusal(exc) from None
        return account.deliverable(recipients)

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        names = ("source", "subject", "body", "destinations")  # v1's positional order
        values = dict(zip(names, args, strict=False), **kwargs)
        dest = values.get("destinations") or {}
        recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses")
                      for a in dest.get(key) or []]
        if not self._is_verified_address(values.get("source", "")):
            return backend_send(self, *args, **kwargs)  # moto's MessageRejected
        deliver = set(_admit(self, values.get("source", ""), recipients))
        message = backend_send(self, *args, **kwargs)
        if deliver:  # a suppressed recipient: accepted, not delivered
            kept = {k: [a for a in v or [] if a in deliver] for k, v in dest.items()}
            hub().outbox.record_simple(message, values.get("source", ""),
                                       values.get("subject", ""), values.get("body", ""), kept)
        return message

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        recipients = list(destinations or []) or raw_recipients(raw_data)
        sender = source or parseaddr(str(Parser().parsestr(raw_data, headersonly=True)
                                         .get("From", "")))[1]
        deliver: list[str] = []
        if sender and self._is_verified_address(sender):
            deliver = _admit(self, sender, recipients)
        message = backend_raw(self, source, destinations, raw_data)
        if deliver:
            hub().outbox.record_raw(message, source, deliver, raw_data)
        return message

    def is_verified(self: Any, source: str) -> bool:
        return address_verified(self, source)

    def create_identity(self: Any, email_identity: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.email_identities.get(email_identity)
        identity = original_create(self, email_identity, *args, **kwargs)
        if existing is not None:  # verifying again keeps the status it had
            identity.verification_status = existing.verification_status
        elif not ses_account.auto_verify():
            identity.verification_status = "PENDING"
        return identity

    def verification_attributes(self: Any, identities: list[str] | None = None) -> Any:
        out = {}
        for name in identities or []:
            found = self.email_identities.get(name)
            if found is not None:
                status = "Success" if identity_verified(self, name) else "Pending"
                out[name] = {"VerificationStatus": status,
                             "VerificationToken": "ILQMESfEW0p6i6gIJcEWvO65TP5hg6B99hGFZ2lxrIs="}
        return out

    def get_send_quota(self: Any) -> Any:
        account = ses_account.account(self.account_id, self.region_name)
        quota = models.SESQuota(account.sent_last_24h())
        quota.max24_hour_send = account.limits.max_24h
        quota.max_send_rate = account.limits.max_rate
        return quota

    def identity_response(self: Any) -> Any:
        resp = original_identity_response(self)
        verified = getattr(self, "verification_status", "SUCCESS") == "SUCCESS"
        resp["VerifiedForSendingStatus"] = verified  # moto says False even when verified
        resp["VerificationStatus"] = "SUCCESS" if verified else "PENDING"
        return resp

    def _with_api(version: str, method: Any) -> Any:
        def wrapper(self: Any) -> Any:
            _api.version = version
            try:
                return method(self)
            finally:
                _api.version = "v1"
        return wrapper

    def v1_send_email(self: Any) -> Any:
        hub().outbox.pending.bodies = {"text": self._get_param("Message.Body.Text.Data"),
                                       "html": self._get_param("Message.Body.Html.Data")}
        try:
            return v1_send(self)
        finally:
            hub().outbox.pending.bodies = None

    def v2_send_email(self: Any) -> Any:
        try:
            params = json.loads(self.body)
            body = params.get("Content", {}).get("Simple", {}).get("Body", {})
            hub().outbox.pending.bodies = {"text": (body.get("Text") or {}).get("Data"),
                                           "html": (body.get("Html") or {}).get("Data")}
        except (ValueError, AttributeError):
            pass
        try:
            return v2_send(self)
        finally:
            hub().outbox.pending.bodies = None

    def get_account_sending_enabled(self: Any) -> Any:
        account = ses_account.account(self.current_account, self.region)
        return responses.ActionResult({"Enabled": account.sending_enabled})

    def update_account_sending_enabled(self: Any) -> Any:
        account = ses_account.account(self.current_account, self.region)
        account.sending_enabled = self._get_bool_param("Enabled", False)
        return responses.EmptyResult()

    SESBackend.send_email = send_email
    SESBackend.send_raw_email = send_raw_email
    SESBackend._is_verified_address = is_verified
    SESBackend.create_email_identity_v2 = create_identity
    SESBackend.get_identity_verification_attributes = verification_attributes
    SESBackend.get_send_quota = get_send_quota
    EmailIdentity.get_response_object = property(identity_response)
    EmailResponse.send_email = _with_api("v1", v1_send_email)
    EmailResponse.send_raw_email = _with_api("v1", v1_raw)
    SESV2Response.send_email = _with_api("v2", v2_send_email)
    EmailResponse.get_account_sending_enabled = get_account_sending_enabled
    EmailResponse.update_account_sending_enabled = update_account_sending_enabled

    # moto keeps every sent email for its inspection API: only the newest (recent.py).
    from notifyctl.emulator.recent import Recent

    original_init = SESBackend.__init__

    def backend_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.sent_messages = Recent()

    SESBackend.__init__ = backend_init
