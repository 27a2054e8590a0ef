"""SES (v1 and v2 sends, v1 account APIs): every accepted email lands in the outbox with
both its bodies; sends obey the account's rules (emulator/ses_account.py: sandbox,
quota and rate, pause, suppression list); identities may stay Pending.

After an accepted send, the mailbox simulator and the event publishing
(emulator/ses_simulator.py) take over: `MotoSesSink` is its way into moto (SNS publish,
suppression list, metrics). Configuration sets (shared by v1 and v2: moto keeps one
ConfigurationSet object per name) carry their event destinations here, as
`notifyctl_destinations` ({name: ses_events.EventDestination}); identity notification
topics and their header flags live in moto's `sns_topics[identity]`."""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import Parser
from email.utils import getaddresses, parseaddr
from typing import Any

from notifyctl.emulator import ses_account, ses_events, ses_simulator
from notifyctl.emulator.patches import hub

# Which SES API the current request came through ("v1" query, "v2" JSON): errors differ.
_api = threading.local()


def targets() -> list[tuple[Any, str]]:
    from moto.ses.models import EmailIdentity, SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response

    return [(SESBackend, "send_email"), (SESBackend, "send_raw_email"),
            (SESBackend, "__process_sns_feedback__"),
            (SESBackend, "create_configuration_set_event_destination"),
            (SESBackend, "delete_configuration_set"),
            (SESBackend, "get_identity_notification_attributes"),
            (SESBackend, "set_identity_notification_topic"),
            (SESBackend, "set_identity_feedback_forwarding_enabled"),
            (SESBackend, "send_templated_email"), (EmailResponse, "send_templated_email"),
            (EmailResponse, "describe_configuration_set"),
            (EmailResponse, "get_send_statistics"),
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
    addr = ses_account.address_of(address)
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


def raw_parts(raw_data: str) -> list[bytes | str | None]:
    """Every part of a raw message, decoded (what a virus scan reads)."""
    import email

    parts: list[bytes | str | None] = [raw_data]
    for part in email.message_from_string(raw_data).walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            parts.append(payload if isinstance(payload, bytes) else None)
    return parts


def raw_recipients(raw_data: str) -> list[str]:
    parsed = Parser().parsestr(raw_data, headersonly=True)
    fields = [v for k in ("To", "Cc", "Bcc") for v in parsed.get_all(k, [])]
    return [a for _, a in getaddresses(fields) if a]


NOTIFICATION_TYPES = ("Bounce", "Complaint", "Delivery")  # SetIdentityNotificationTopic's


@dataclass(frozen=True)
class SendOptions:
    """What a send request says besides the message: its configuration set and tags."""

    config_set: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, config_set: Any, tags: Any) -> SendOptions:
        pairs = tuple((str(t.get("Name", "")), str(t.get("Value", "")))
                      for t in tags or [] if isinstance(t, dict))
        return cls(str(config_set) if config_set else None, pairs)


def _options() -> SendOptions:
    return getattr(_api, "options", None) or SendOptions()


def destinations_of(config_set: Any) -> dict[str, ses_events.EventDestination]:
    """A configuration set's event destinations, by name (kept on moto's object so that
    deleting the set deletes them)."""
    found = getattr(config_set, "notifyctl_destinations", None)
    if found is None:
        found = {}
        config_set.notifyctl_destinations = found
    return found  # type: ignore[no-any-return]


def sending_enabled(config_set: Any) -> bool:
    """moto keeps SendingOptions ({"SendingEnabled": bool}, {} when never set) in `enabled`."""
    options = config_set.enabled
    if isinstance(options, dict):
        return bool(options.get("SendingEnabled", True))
    return bool(options)


def sending_identity(backend: Any, source: str) -> str:
    """The identity a message is sent as: the address when it is an identity itself,
    else its domain (SES prefers the address identity when both exist)."""
    address = ses_account.address_of(source)
    return address if address in backend.email_identities else \
        address.split("@", 1)[-1].lower()


def check_send(backend: Any, options: SendOptions) -> None:
    """Refuse a send as SES does: an invalid message tag, an unknown or paused
    configuration set (v1 and v2 name the errors differently)."""
    v1 = getattr(_api, "version", "v1") == "v1"
    for name, value in options.tags:
        why = ses_events.invalid_tag(name, value)
        if why:
            raise service_error("InvalidParameterValue" if v1 else "BadRequestException", why)
    if options.config_set is None:
        return
    found = backend.config_sets.get(options.config_set)
    if found is None:
        raise service_error("ConfigurationSetDoesNotExist" if v1 else "NotFoundException",
                            f"Configuration set <{options.config_set}> does not exist.")
    if not sending_enabled(found):
        raise service_error("ConfigurationSetSendingPausedException" if v1
                            else "SendingPausedException",
                            f"Sending is paused for configuration set <{options.config_set}>.")


def routing_of(backend: Any, identity: str, config_set: str | None) -> ses_simulator.Routing:
    """Where the events of a message sent as `identity` go (read at the send)."""
    account = ses_account.account(backend.account_id, backend.region_name)
    reasons = frozenset(account.suppressed_reasons)
    destinations: tuple[ses_events.EventDestination, ...] = ()
    reputation = None
    found = backend.config_sets.get(config_set) if config_set else None
    if found is not None:
        destinations = tuple(destinations_of(found).values())
        own = found.suppression_options or {}
        if "SuppressedReasons" in own:  # the set's own suppression settings override the account's
            reasons = frozenset(own.get("SuppressedReasons") or [])
        if (found.reputation_options or {}).get("ReputationMetricsEnabled"):
            reputation = found.configuration_set_name
    settings = backend.sns_topics.get(identity, {})
    return ses_simulator.Routing(
        destinations=destinations,
        identity_topics={t.upper(): settings[t] for t in NOTIFICATION_TYPES if settings.get(t)},
        identity_headers=frozenset(t.upper() for t in NOTIFICATION_TYPES
                                   if settings.get(f"headers:{t}")),
        suppress_reasons=reasons, reputation_set=reputation)


def raw_options(raw_data: str, options: SendOptions) -> SendOptions:
    """A raw message may name its configuration set and tags in X-SES-* headers."""
    parsed = Parser().parsestr(raw_data, headersonly=True)
    config_set = options.config_set or parsed.get("X-SES-CONFIGURATION-SET")
    tags = list(options.tags)
    for item in str(parsed.get("X-SES-MESSAGE-TAGS") or "").split(","):
        name, _, value = item.strip().partition("=")
        if name:
            tags.append((name.strip(), value.strip()))
    return SendOptions(str(config_set).strip() if config_set else None, tuple(tags))


def accepted(backend: Any, message_id: str, source: str, recipients: list[str],
             headers: tuple[tuple[str, str], ...], common: dict[str, Any],
             options: SendOptions, *, rejected: bool,
             rendering_failure: dict[str, Any] | None = None) -> None:
    """Hand an accepted message to the mailbox simulator / event publishing."""
    engine = getattr(hub(), "ses_simulator", None)
    if engine is None:
        return
    identity = sending_identity(backend, source)
    config_set = options.config_set
    if config_set is None:  # the identity's default configuration set
        found = backend.email_identities.get(identity)
        config_set = getattr(found, "configuration_set_name", None) or None
    account = ses_account.account(backend.account_id, backend.region_name)
    mail = ses_events.SentMail(
        message_id=message_id, timestamp=time.time(), source=source,
        source_arn=f"arn:{backend.partition}:ses:{backend.region_name}:{backend.account_id}:"
                   f"identity/{identity}",
        account_id=backend.account_id, destination=tuple(recipients), headers=headers,
        common_headers=common, message_tags=options.tags, configuration_set=config_set)
    fates = ses_simulator.fates_of(recipients,
                                   suppressed=lambda r: account.get_suppressed(r) is not None,
                                   scripted=account.mailboxes)
    engine.accepted(mail, backend.region_name, routing_of(backend, identity, config_set),
                    fates, rejected=rejected, rendering_failure=rendering_failure)


class MotoSesSink:
    """ses_simulator.Sink over moto: SES publishes like any SNS publisher (so lambda
    subscriptions go through the emulator's SNS -> Lambda path), keeps the account's
    suppression list and counts what happened (GetSendStatistics, and the AWS/SES
    CloudWatch metrics at each flush: the counts since the last one, and the
    Reputation.BounceRate / ComplaintRate of the account and of each configuration set
    with reputation metrics on; one datapoint per metric per flush, never one per
    message; metric_store.py bounds what CloudWatch keeps of them, as of every metric)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], dict[str, int]] = {}  # (account, region) -> counts
        self._sets: dict[tuple[str, str], set[str]] = {}  # reputation-tracked sets touched

    def publish(self, publication: ses_simulator.Publication) -> None:
        from moto.sns.models import sns_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        parts = publication.topic_arn.split(":")
        if len(parts) < 6:
            _dropped(publication, "not a topic ARN")
            return
        # What an SNS Publish request holds (sns + sqs: SQS subscriptions are written
        # inside it), not every service: a Send/Delivery event must not wait for the
        # DynamoDB or Lambda requests of the functions running meanwhile, nor stop them.
        with MOTO_LOCK.hold(*MOTO_LOCK.for_service("sns")):
            backend = sns_backends[parts[4]][parts[3]]
            topic = backend.topics.get(publication.topic_arn)
            if topic is None:
                _dropped(publication, "the topic does not exist")
                return
            if _checking_permissions() and not ses_may_publish(topic.policy, publication):
                _dropped(publication, "its access policy does not allow ses.amazonaws.com to "
                                      f"publish for {publication.source_arn}")
                return
            backend.publish(publication.message, arn=publication.topic_arn,
                            subject=publication.subject)

    def suppress(self, account_id: str, region: str, address: str, reason: str,
                 message_id: str, feedback_id: str) -> None:
        ses_account.account(account_id, region).auto_suppress(address, reason, message_id,
                                                              feedback_id)

    def count(self, account_id: str, region: str, metric: str, n: int, *, simulator: bool,
              config_set: str | None) -> None:
        ses_account.account(account_id, region).record(metric, n, simulator=simulator,
                                                       config_set=config_set)
        with self._lock:
            counts = self._pending.setdefault((account_id, region), {})
            counts[metric] = counts.get(metric, 0) + n
            if config_set is not None:
                self._sets.setdefault((account_id, region), set()).add(config_set)

    def flush(self) -> None:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.core.utils import utcnow

        from notifyctl.emulator.backends import MOTO_LOCK

        with self._lock:
            pending, self._pending = self._pending, {}
            sets, self._sets = self._sets, {}
        now = utcnow()
        for (account_id, region), counts in pending.items():
            account = ses_account.account(account_id, region)
            data: list[dict[str, Any]] = [
                {"MetricName": metric, "Value": float(n), "Unit": "Count", "Timestamp": now,
                 "Dimensions": []} for metric, n in sorted(counts.items())]
            scopes: list[tuple[str | None, list[dict[str, str]]]] = [(None, [])]
            scopes += [(name, [{"Name": "ses:configuration-set", "Value": name}])
                       for name in sorted(sets.get((account_id, region), ()))]
            for name, dims in scopes:
                bounce_rate, complaint_rate = account.reputation(name)
                data += [{"MetricName": "Reputation.BounceRate", "Value": bounce_rate,
                          "Unit": "None", "Timestamp": now, "Dimensions": dims},
                         {"MetricName": "Reputation.ComplaintRate", "Value": complaint_rate,
                          "Unit": "None", "Timestamp": now, "Dimensions": dims}]
            with MOTO_LOCK.hold("cloudwatch"):  # PutMetricData writes CloudWatch only
                cloudwatch_backends[account_id][region].put_metric_data("AWS/SES", data)


def ses_may_publish(policy: str, publication: ses_simulator.Publication) -> bool:
    """The topic's access policy lets SES publish this event (SES DG: "you need to give
    access to SES to publish notifications to the topic"; conditions on AWS:SourceAccount
    and AWS:SourceArn, the configuration set or identity). The default topic policy allows
    the owner account's callers (AWS:SourceOwner), SES acting for it included."""
    return _ses_may_publish(policy, publication.topic_arn, publication.source_arn)


@functools.lru_cache(maxsize=256)
def _ses_may_publish(policy: str, topic_arn: str, source_arn: str) -> bool:
    """The decision, kept per policy TEXT and ARNs: it reads nothing else (no time or
    request keys), and a changed policy is a new text (every SES event asked it: 5 % of
    the emulator's CPU under the pipeline)."""
    from notifyctl.emulator.iam_policy import Policy, Request, evaluate

    account = topic_arn.split(":")[4]
    request = Request(action="sns:Publish", resource=topic_arn, account=account,
                      service="ses.amazonaws.com",
                      context={"aws:SourceAccount": [account],
                               "aws:SourceArn": [source_arn],
                               "aws:SourceOwner": [account]})
    try:
        parsed = Policy.parse(policy, source_id=topic_arn, kind="resource")
    except ValueError:
        return False
    return evaluate(request, [], [parsed]).allowed


def _checking_permissions() -> bool:
    """The emulator's one switch for service-to-service permission checks
    (NOTIFYCTL_EMULATOR_CHECK_PERMISSIONS, the SNS -> Lambda check's too)."""
    dispatcher = getattr(hub(), "dispatcher", None)
    return bool(getattr(dispatcher, "check_permissions", True))


def _dropped(publication: ses_simulator.Publication, why: str) -> None:
    """SES cannot publish (AWS gives no error to anyone either): say so in the log."""
    print(f"emulator: SES could not publish an event to {publication.topic_arn}: {why}",
          file=sys.stderr, flush=True)


def apply() -> None:
    from moto.ses import models, responses
    from moto.sesv2 import responses as v2_responses

    SESBackend: Any = models.SESBackend  # Any: we assign to their methods
    EmailIdentity: Any = models.EmailIdentity
    EmailResponse: Any = responses.EmailResponse
    SESV2Response: Any = v2_responses.SESV2Response
    backend_send, backend_raw = SESBackend.send_email, SESBackend.send_raw_email
    backend_templated = SESBackend.send_templated_email
    from moto.ses.exceptions import MissingRenderingAttributeException
    from moto.ses.template import parse_template
    v1_send, v2_send = EmailResponse.send_email, SESV2Response.send_email
    v1_raw, v1_templated = EmailResponse.send_raw_email, EmailResponse.send_templated_email
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
        source = values.get("source", "")
        recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses")
                      for a in dest.get(key) or []]
        if not self._is_verified_address(source):
            return backend_send(self, *args, **kwargs)  # moto's MessageRejected
        options = _options()
        check_send(self, options)
        deliver = set(_admit(self, source, recipients))
        message = backend_send(self, *args, **kwargs)
        bodies = getattr(hub().outbox.pending, "bodies", None) or {}
        rejected = ses_simulator.carries_eicar([values.get("subject"), values.get("body"),
                                                bodies.get("text"), bodies.get("html")])
        if deliver and not rejected:  # suppressed: accepted, not delivered; rejected: dropped
            kept = {k: [a for a in v or [] if a in deliver] for k, v in dest.items()}
            hub().outbox.record_simple(message, source, values.get("subject", ""),
                                       values.get("body", ""), kept)
        headers, common = ses_events.simple_headers(
            source, list(dest.get("ToAddresses") or []), list(dest.get("CcAddresses") or []),
            values.get("subject", ""), message.id,
            html=bodies.get("html") is not None and bodies.get("text") is None)
        accepted(self, message.id, source, recipients, headers, common, options,
                 rejected=rejected)
        return message

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        recipients = list(destinations or []) or raw_recipients(raw_data)
        sender = source or parseaddr(str(Parser().parsestr(raw_data, headersonly=True)
                                         .get("From", "")))[1]
        deliver: list[str] = []
        options = raw_options(raw_data, _options())
        verified = bool(sender) and self._is_verified_address(sender)
        if verified:
            check_send(self, options)
            deliver = _admit(self, sender, recipients)
        message = backend_raw(self, source, destinations, raw_data)
        rejected = ses_simulator.carries_eicar(raw_parts(raw_data))
        if deliver and not rejected:
            hub().outbox.record_raw(message, source, deliver, raw_data)
        if verified:
            headers, common = ses_events.raw_headers(raw_data, message.id)
            accepted(self, message.id, str(source or sender), recipients, headers, common,
                     options, rejected=rejected)
        return message

    def send_templated_email(self: Any, source: str, template: str, template_data: str,
                             destinations: dict[str, list[str]]) -> Any:
        """SendTemplatedEmail: accepted like any send; the template is rendered after the
        accept, and a missing attribute is a Rendering Failure event, not an error."""
        recipients = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses")
                      for a in destinations.get(key) or []]
        if not self._is_verified_address(source):
            return backend_templated(self, source, template, template_data, destinations)
        options = _options()
        check_send(self, options)
        deliver = set(_admit(self, source, recipients))
        message = backend_templated(self, source, template, template_data, destinations)
        found = self.templates[template]
        try:
            data = json.loads(template_data or "{}")
            subject, text, html = (parse_template(str(found.get(part) or ""), data)
                                   for part in ("subject_part", "text_part", "html_part"))
            failure = None
        except MissingRenderingAttributeException as exc:
            failure, subject, text, html = exc.message, "", "", ""
        except ValueError:
            failure, subject, text, html = "Template rendering data is invalid", "", "", ""
        if deliver and failure is None:
            kept = {k: [a for a in v or [] if a in deliver] for k, v in destinations.items()}
            hub().outbox.pending.bodies = {"text": text or None, "html": html or None}
            hub().outbox.record_simple(message, source, subject, text or html, kept)
        headers, common = ses_events.simple_headers(
            source, list(destinations.get("ToAddresses") or []),
            list(destinations.get("CcAddresses") or []), subject, message.id, html=not text)
        accepted(self, message.id, source, recipients, headers, common, options,
                 rejected=False, rendering_failure=None if failure is None
                 else ses_events.rendering_failure(template, failure))
        return message

    def is_verified(self: Any, source: str) -> bool:
        return address_verified(self, source)

    def create_identity(self: Any, email_identity: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.email_identities.get(email_identity)
        identity = original_create(self, email_identity, *args, **kwargs)
        if existing is not None:  # verifying again keeps the status it had
            identity.verification_status = existing.verification_status
            identity.feedback_forwarding_status = existing.feedback_forwarding_status
        else:
            identity.feedback_forwarding_status = True  # AWS's default: forwarding on
            if not ses_account.auto_verify():
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
                _api.version, _api.options = "v1", None
        return wrapper

    def _v1_options(self: Any) -> None:
        _api.options = SendOptions.of(self._get_param("ConfigurationSetName"),
                                      self._get_param("Tags"))

    def v1_raw_email(self: Any) -> Any:
        _v1_options(self)
        return v1_raw(self)

    def v1_templated_email(self: Any) -> Any:
        _v1_options(self)
        return v1_templated(self)

    def v1_send_email(self: Any) -> Any:
        _v1_options(self)
        hub().outbox.pending.bodies = {"text": self._get_param("Message.Body.Text.Data"),
                                       "html": self._get_param("Message.Body.Html.Data")}
        try:
            return v1_send(self)
        finally:
            hub().outbox.pending.bodies = None

    def v2_send_email(self: Any) -> Any:
        try:
            params = json.loads(self.body)
            _api.options = SendOptions.of(params.get("ConfigurationSetName"),
                                          params.get("EmailTags"))
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
    SESBackend.send_templated_email = send_templated_email
    EmailResponse.send_templated_email = _with_api("v1", v1_templated_email)
    SESBackend._is_verified_address = is_verified
    SESBackend.create_email_identity_v2 = create_identity
    SESBackend.get_identity_verification_attributes = verification_attributes
    SESBackend.get_send_quota = get_send_quota
    EmailIdentity.get_response_object = property(identity_response)
    EmailResponse.send_email = _with_api("v1", v1_send_email)
    EmailResponse.send_raw_email = _with_api("v1", v1_raw_email)
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
    _apply_feedback_settings()


def _v1_error(code: str, message: str) -> Exception:
    return service_error(code, message)


def _apply_feedback_settings() -> None:
    """v1 configuration sets, event destinations, identity notification settings and
    sending statistics, as SES keeps and returns them (moto: see targets())."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.ses import models, responses

    SESBackend: Any = models.SESBackend
    EmailResponse: Any = responses.EmailResponse

    def _config_set(backend: Any, name: str) -> Any:
        found = backend.config_sets.get(name)
        if found is None:
            raise _v1_error("ConfigurationSetDoesNotExist",
                            f"Configuration set <{name}> does not exist.")
        return found

    def create_event_destination(self: Any, configuration_set_name: str,
                                 event_destination: dict[str, Any]) -> None:
        found = _config_set(self, configuration_set_name)
        dest = ses_events.EventDestination.from_v1(event_destination)
        if dest.name in destinations_of(found):
            raise _v1_error("EventDestinationAlreadyExists",
                            f"Event destination {dest.name} already exists.")
        destinations_of(found)[dest.name] = dest

    def delete_configuration_set(self: Any, configuration_set_name: str) -> None:
        _config_set(self, configuration_set_name)
        self.config_sets.pop(configuration_set_name)

    def notification_attributes(self: Any, identities: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for identity in identities or []:
            if identity not in self.email_identities:
                continue  # AWS answers for the identities it has
            settings = self.sns_topics.get(identity, {})
            entry: dict[str, Any] = {f"{t}Topic": settings[t] for t in NOTIFICATION_TYPES
                                     if settings.get(t)}
            entry["ForwardingEnabled"] = bool(settings.get("feedback_forwarding_enabled", True))
            for t in NOTIFICATION_TYPES:
                entry[f"HeadersIn{t}NotificationsEnabled"] = bool(settings.get(f"headers:{t}"))
            out[identity] = entry
        return out

    def set_forwarding(self: Any, identity: str, enabled: bool) -> None:
        self.sns_topics.setdefault(identity, {})["feedback_forwarding_enabled"] = enabled
        found = self.email_identities.get(identity)
        if found is not None:  # v2's FeedbackForwardingStatus reads the same
            found.feedback_forwarding_status = enabled

    def set_notification_topic(self: Any, identity: str, notification_type: str,
                               sns_topic: str | None) -> None:
        if notification_type not in NOTIFICATION_TYPES:
            raise _v1_error("InvalidParameterValue",
                            f"Invalid notification type {notification_type!r}: expected "
                            "Bounce, Complaint or Delivery.")
        settings = self.sns_topics.setdefault(identity, {})
        if sns_topic:
            settings[notification_type] = sns_topic
        else:  # unsetting one that is not set is fine on AWS
            settings.pop(notification_type, None)

    def update_event_destination(self: Any) -> Any:
        found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
        dest = ses_events.EventDestination.from_v1(self._get_param("EventDestination", {}))
        if dest.name not in destinations_of(found):
            raise _v1_error("EventDestinationDoesNotExist",
                            f"No event destination named {dest.name}.")
        destinations_of(found)[dest.name] = dest
        return EmptyResult()

    def delete_event_destination(self: Any) -> Any:
        found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
        name = self._get_param("EventDestinationName")
        if destinations_of(found).pop(name, None) is None:
            raise _v1_error("EventDestinationDoesNotExist", f"No event destination named {name}.")
        return EmptyResult()

    def describe_configuration_set(self: Any) -> Any:
        found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
        wanted = self._get_param("ConfigurationSetAttributeNames", []) or []
        result: dict[str, Any] = {"ConfigurationSet": {"Name": found.configuration_set_name}}
        if "eventDestinations" in wanted:
            result["EventDestinations"] = [d.to_v1() for d in destinations_of(found).values()]
        if "reputationOptions" in wanted:
            result["ReputationOptions"] = {
                "SendingEnabled": sending_enabled(found),
                "ReputationMetricsEnabled": bool(
                    (found.reputation_options or {}).get("ReputationMetricsEnabled", False))}
        if "deliveryOptions" in wanted and found.delivery_options:
            result["DeliveryOptions"] = {"TlsPolicy": found.delivery_options.get(
                "TlsPolicy", "OPTIONAL")}
        if "trackingOptions" in wanted and found.tracking_options:
            result["TrackingOptions"] = {"CustomRedirectDomain": found.tracking_options.get(
                "CustomRedirectDomain")}
        return ActionResult(result)

    def put_delivery_options(self: Any) -> Any:
        found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
        given = self._get_param("DeliveryOptions") or {}
        found.delivery_options = {"TlsPolicy": given.get("TlsPolicy", "OPTIONAL")} \
            if given else {}
        return EmptyResult()

    def tracking_options(action: str) -> Any:
        def handle(self: Any) -> Any:
            found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
            exists = bool(found.tracking_options)
            if action == "create" and exists:
                raise _v1_error("TrackingOptionsAlreadyExistsException",
                                "Tracking options already exist for this configuration set.")
            if action != "create" and not exists:
                raise _v1_error("TrackingOptionsDoesNotExistException",
                                "No tracking options for this configuration set.")
            given = self._get_param("TrackingOptions") or {}
            found.tracking_options = {} if action == "delete" else \
                {"CustomRedirectDomain": given.get("CustomRedirectDomain")}
            return EmptyResult()
        return handle

    def update_sending_enabled(self: Any) -> Any:
        found = _config_set(self.backend, self._get_param("ConfigurationSetName"))
        found.enabled = {"SendingEnabled": self._get_bool_param("Enabled", False)}
        return EmptyResult()

    def set_headers_in_notifications(self: Any) -> Any:
        kind = self._get_param("NotificationType")
        if kind not in NOTIFICATION_TYPES:
            raise _v1_error("InvalidParameterValue",
                            f"Invalid notification type {kind!r}: expected Bounce, Complaint "
                            "or Delivery.")
        settings = self.backend.sns_topics.setdefault(self._get_param("Identity"), {})
        settings[f"headers:{kind}"] = self._get_bool_param("Enabled", False)
        return EmptyResult()

    def get_send_statistics(self: Any) -> Any:
        account = ses_account.account(self.current_account, self.region)
        return ActionResult({"SendDataPoints": [
            {"Timestamp": datetime.fromtimestamp(p.start, tz=UTC),
             "DeliveryAttempts": p.delivery_attempts, "Bounces": p.bounces,
             "Complaints": p.complaints, "Rejects": p.rejects}
            for p in account.send_statistics()]})

    # moto publishes its own fixed sample JSON for simulator addresses: ses_simulator does it
    SESBackend.__process_sns_feedback__ = lambda self, source, destinations: None
    SESBackend.create_configuration_set_event_destination = create_event_destination
    SESBackend.delete_configuration_set = delete_configuration_set
    SESBackend.get_identity_notification_attributes = notification_attributes
    SESBackend.set_identity_notification_topic = set_notification_topic
    SESBackend.set_identity_feedback_forwarding_enabled = set_forwarding
    EmailResponse.update_configuration_set_event_destination = update_event_destination
    EmailResponse.delete_configuration_set_event_destination = delete_event_destination
    EmailResponse.describe_configuration_set = describe_configuration_set
    EmailResponse.update_configuration_set_sending_enabled = update_sending_enabled
    EmailResponse.set_identity_headers_in_notifications_enabled = set_headers_in_notifications
    EmailResponse.get_send_statistics = get_send_statistics
    EmailResponse.put_configuration_set_delivery_options = put_delivery_options
    for action in ("create", "update", "delete"):
        setattr(EmailResponse, f"{action}_configuration_set_tracking_options",
                tracking_options(action))
