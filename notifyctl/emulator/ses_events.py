"""The JSON SES publishes about a message, in AWS's exact shapes (pure: no moto, no I/O).

Two documented formats share the `mail` object (SES Developer Guide, "Contents of event
data that Amazon SES publishes to Amazon SNS" and "Amazon SNS notification contents for
Amazon SES"; samples of both in tests/events/ses_*.json):

    configuration-set event destination    identity notification topic
    {"eventType": "Bounce",                {"notificationType": "Bounce",
     "mail": {... "headers" always,         "mail": {... "headers", "headersTruncated",
              "tags": {ses:* + message}},            "commonHeaders" only when enabled
                                                     with SetIdentityHeadersInNotifications-
                                                     Enabled; never "tags"},
     "bounce": {...}}                        "bounce": {...}}

Event types (v2 enum / v1 MatchingEventTypes / the JSON's eventType / detail key):

    SEND               send               Send               send
    REJECT             reject             Reject             reject
    BOUNCE             bounce             Bounce             bounce
    COMPLAINT          complaint          Complaint          complaint
    DELIVERY           delivery           Delivery           delivery
    RENDERING_FAILURE  renderingFailure   Rendering Failure  failure
    DELIVERY_DELAY     deliveryDelay      DeliveryDelay      deliveryDelay
    OPEN, CLICK, SUBSCRIPTION: stored on destinations, never produced (no recipient opens
    or clicks in the emulator).

Timestamps are the real wall clock (emulator/clock.py: stored times stay real; only
durations are scaled), ISO-8601 with milliseconds and Z as SES writes them.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

V1_NAMES = {"SEND": "send", "REJECT": "reject", "BOUNCE": "bounce", "COMPLAINT": "complaint",
            "DELIVERY": "delivery", "OPEN": "open", "CLICK": "click",
            "RENDERING_FAILURE": "renderingFailure", "DELIVERY_DELAY": "deliveryDelay",
            "SUBSCRIPTION": "subscription"}
FROM_V1 = {v1: v2 for v2, v1 in V1_NAMES.items()}
EVENT_NAMES = {"SEND": "Send", "REJECT": "Reject", "BOUNCE": "Bounce", "COMPLAINT": "Complaint",
               "DELIVERY": "Delivery", "RENDERING_FAILURE": "Rendering Failure",
               "DELIVERY_DELAY": "DeliveryDelay", "OPEN": "Open", "CLICK": "Click",
               "SUBSCRIPTION": "Subscription"}
DETAIL_KEYS = {"SEND": "send", "REJECT": "reject", "BOUNCE": "bounce", "COMPLAINT": "complaint",
               "DELIVERY": "delivery", "RENDERING_FAILURE": "failure",
               "DELIVERY_DELAY": "deliveryDelay"}
# Identity notification topics exist for these three only (SetIdentityNotificationTopic).
NOTIFICATION_TYPES = {"BOUNCE": "Bounce", "COMPLAINT": "Complaint", "DELIVERY": "Delivery"}
# The SNS Subject SES sets on event-publishing notifications (identity notifications: none).
EVENT_SUBJECT = "Amazon SES Email Event Notification"

# What the emulator's "MTA" reports; documented shapes, emulator values.
SES_MTA = "emulator.smtp-out.amazonses.com"
REMOTE_MTA_IP = "127.0.2.0"
SMTP_OK = "250 2.6.0 Message received"
USER_UNKNOWN = "smtp; 550 5.1.1 user unknown"
SIMULATOR_USER_AGENT = "Amazon SES Mailbox Simulator"
ON_ACCOUNT_LIST_DIAGNOSTIC = (
    "Amazon SES did not send the message to this address because it is on the suppression "
    "list for your account. For more information about removing addresses from the "
    "suppression list, see the Amazon SES Developer Guide at "
    "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html")
GLOBAL_LIST_DIAGNOSTIC = (
    "Amazon SES has suppressed sending to this address because it has a recent history of "
    "bouncing as an invalid address. For more information about how to remove an address "
    "from the suppression list, see the Amazon SES Developer Guide: "
    "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html")

# MessageTag Name/Value (SES API reference, MessageTag): ASCII letters, digits, _ and -,
# at most 256 characters.
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def iso(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and Z, as SES writes event timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + \
        f".{int(epoch * 1000) % 1000:03d}Z"


def feedback_id() -> str:
    """An id in SES's message-id shape: 16 hex, a UUID, -000000."""
    return f"{uuid.uuid4().hex[:16]}-{uuid.uuid4()}-000000"


def invalid_tag(name: str, value: str) -> str | None:
    """Why a message tag is refused, or None (SES refuses the whole send)."""
    if name.lower().startswith("ses:"):
        return f"Tag name {name!r} is reserved (the ses: prefix is Amazon SES's own)."
    for what, text in (("name", name), ("value", value)):
        if not _TAG.match(text):
            return (f"Invalid tag {what} {text!r}: it can only contain ASCII letters, numbers, "
                    "underscores or dashes, and at most 256 characters.")
    return None


# -- configuration-set event destinations ---------------------------------------------

# v1 and v2 spell the same destinations differently: (v1 key, v2 key, {v1 field: v2 field}).
_DESTINATION_KEYS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("SNSDestination", "SnsDestination", {"TopicARN": "TopicArn"}),
    ("CloudWatchDestination", "CloudWatchDestination", {"DimensionConfigurations":
                                                        "DimensionConfigurations"}),
    ("KinesisFirehoseDestination", "KinesisFirehoseDestination",
     {"IAMRoleARN": "IamRoleArn", "DeliveryStreamARN": "DeliveryStreamArn"}),
)
_V2_ONLY = ("PinpointDestination", "EventBridgeDestination")


@dataclass(frozen=True)
class EventDestination:
    """One event destination of a configuration set, in one form for both APIs."""

    name: str
    enabled: bool
    types: tuple[str, ...]  # v2 enum names (SEND, BOUNCE...), as given
    targets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # v2 keys

    @property
    def sns_topic_arn(self) -> str | None:
        sns = self.targets.get("SnsDestination") or {}
        return str(sns["TopicArn"]) if sns.get("TopicArn") else None

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.types

    @classmethod
    def from_v2(cls, name: str, definition: Mapping[str, Any]) -> EventDestination:
        targets = {key: dict(definition[key]) for _, key, _ in _DESTINATION_KEYS
                   if definition.get(key)}
        targets.update({key: dict(definition[key]) for key in _V2_ONLY if definition.get(key)})
        return cls(name=name, enabled=bool(definition.get("Enabled", False)),
                   types=tuple(str(t) for t in definition.get("MatchingEventTypes") or []),
                   targets=targets)

    @classmethod
    def from_v1(cls, definition: Mapping[str, Any]) -> EventDestination:
        targets: dict[str, dict[str, Any]] = {}
        for v1_key, v2_key, fields in _DESTINATION_KEYS:
            given = definition.get(v1_key)
            if given:
                targets[v2_key] = {fields[k] if k in fields else str(k): v
                                   for k, v in dict(given).items()}
        types = tuple(FROM_V1.get(str(t), str(t)) for t in
                      definition.get("MatchingEventTypes") or [])
        enabled = definition.get("Enabled", False)
        if isinstance(enabled, str):
            enabled = enabled.lower() == "true"
        return cls(name=str(definition.get("Name", "")), enabled=bool(enabled), types=types,
                   targets=targets)

    def to_v2(self) -> dict[str, Any]:
        return {"Name": self.name, "Enabled": self.enabled,
                "MatchingEventTypes": list(self.types),
                **{k: dict(v) for k, v in self.targets.items()}}

    def to_v1(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "Enabled": self.enabled,
                               "MatchingEventTypes": [V1_NAMES.get(t, t) for t in self.types]}
        for v1_key, v2_key, fields in _DESTINATION_KEYS:
            if v2_key in self.targets:
                back = {v2: v1 for v1, v2 in fields.items()}
                out[v1_key] = {back.get(k, k): v for k, v in self.targets[v2_key].items()}
        return out


# -- the message the events are about -------------------------------------------------

@dataclass(frozen=True)
class SentMail:
    """What SES knows of an accepted message when it writes the `mail` object."""

    message_id: str
    timestamp: float  # real epoch seconds of the accept
    source: str  # as given (may carry a display name)
    source_arn: str  # the sending identity's ARN (address or domain)
    account_id: str
    destination: tuple[str, ...]  # every recipient, as given
    headers: tuple[tuple[str, str], ...] = ()
    common_headers: Mapping[str, Any] = field(default_factory=dict)
    message_tags: tuple[tuple[str, str], ...] = ()
    configuration_set: str | None = None
    source_ip: str = "127.0.0.1"
    caller_identity: str = "emulator"

    def tags(self, *, delivered: bool = False) -> dict[str, list[str]]:
        """The automatic ses:* tags SES adds, then the message's own (their order is AWS's
        sample order; a Delivery also carries ses:outgoing-ip)."""
        domain = self.source.rsplit("@", 1)[-1].rstrip(">").lower()
        out: dict[str, list[str]] = {}
        if self.configuration_set:
            out["ses:configuration-set"] = [self.configuration_set]
        out["ses:source-ip"] = [self.source_ip]
        out["ses:from-domain"] = [domain]
        out["ses:caller-identity"] = [self.caller_identity]
        if delivered:
            out["ses:outgoing-ip"] = [REMOTE_MTA_IP]
        for name, value in self.message_tags:
            out.setdefault(name, []).append(value)
        return out


def simple_headers(source: str, to: Sequence[str], cc: Sequence[str], subject: str,
                   message_id: str, *, html: bool) -> tuple[tuple[tuple[str, str], ...],
                                                         dict[str, Any]]:
    """The headers SES writes for a Simple (formatted) send, and their commonHeaders."""
    headers = [("From", source), ("To", ", ".join(to))]
    if cc:
        headers.append(("Cc", ", ".join(cc)))
    headers += [("Subject", subject), ("MIME-Version", "1.0"),
                ("Content-Type", "text/html; charset=UTF-8" if html
                 else "text/plain; charset=UTF-8"),
                ("Content-Transfer-Encoding", "7bit")]
    common: dict[str, Any] = {"from": [source], "to": list(to)}
    if cc:
        common["cc"] = list(cc)
    common.update({"messageId": message_id, "subject": subject})
    return tuple(headers), common


def raw_headers(raw: str, message_id: str) -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
    """The headers of a raw message as given, and the commonHeaders SES derives."""
    from email.parser import Parser
    from email.utils import getaddresses

    parsed = Parser().parsestr(raw, headersonly=True)
    headers = tuple((str(k), str(v)) for k, v in parsed.items())
    common: dict[str, Any] = {}
    for name, key in (("From", "from"), ("Reply-To", "replyTo"), ("To", "to"), ("Cc", "cc")):
        values = parsed.get_all(name, [])
        if values:
            common[key] = [f"{n} <{a}>" if n else a for n, a in getaddresses(values)]
    if parsed.get("Date"):
        common["date"] = str(parsed["Date"])
    common["messageId"] = str(parsed.get("Message-ID") or message_id)
    if parsed.get("Subject") is not None:
        common["subject"] = str(parsed["Subject"])
    return headers, common


def mail_object(mail: SentMail, *, headers: bool, tags: bool,
                delivered: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timestamp": iso(mail.timestamp), "source": mail.source, "sourceArn": mail.source_arn,
        "sourceIp": mail.source_ip, "callerIdentity": mail.caller_identity,
        "sendingAccountId": mail.account_id, "messageId": mail.message_id,
        "destination": list(mail.destination)}
    if headers:
        out["headersTruncated"] = False
        out["headers"] = [{"name": n, "value": v} for n, v in mail.headers]
        out["commonHeaders"] = dict(mail.common_headers)
    if tags:
        out["tags"] = mail.tags(delivered=delivered)
    return out


# -- event details --------------------------------------------------------------------

def delivery(recipients: Sequence[str], when: float, processing_ms: int) -> dict[str, Any]:
    return {"timestamp": iso(when), "processingTimeMillis": processing_ms,
            "recipients": list(recipients), "smtpResponse": SMTP_OK, "reportingMTA": SES_MTA,
            "remoteMtaIp": REMOTE_MTA_IP}


# bounceSubType -> what SES writes for each bounced recipient and the bounce itself.
BOUNCE_KINDS = {
    # The recipient's provider answered 550 5.1.1 (bounce@, or a mailbox that bounces).
    "General": {"status": "5.1.1", "diagnosticCode": USER_UNKNOWN,
                "reportingMTA": f"dsn; {SES_MTA}", "remoteMtaIp": True},
    # suppressionlist@: "as if the recipient's address is on the global suppression list".
    "Suppressed": {"status": "5.1.1", "diagnosticCode": GLOBAL_LIST_DIAGNOSTIC,
                   "reportingMTA": "dns; amazonses.com", "remoteMtaIp": False},
    # An address on the account-level suppression list: SES never tried to deliver.
    "OnAccountSuppressionList": {"status": "5.1.1", "diagnosticCode": ON_ACCOUNT_LIST_DIAGNOSTIC,
                                 "reportingMTA": "dns; amazonses.com", "remoteMtaIp": False},
}


def bounce(recipients: Sequence[str], when: float, sub_type: str,
           feedback: str | None = None) -> dict[str, Any]:
    kind = BOUNCE_KINDS[sub_type]
    out: dict[str, Any] = {
        "feedbackId": feedback or feedback_id(), "bounceType": "Permanent",
        "bounceSubType": sub_type,
        "bouncedRecipients": [{"emailAddress": r, "action": "failed", "status": kind["status"],
                               "diagnosticCode": kind["diagnosticCode"]} for r in recipients],
        "timestamp": iso(when), "reportingMTA": kind["reportingMTA"]}
    if kind["remoteMtaIp"]:
        out["remoteMtaIp"] = REMOTE_MTA_IP
    return out


def complaint(recipients: Sequence[str], when: float, arrival: float,
              feedback: str | None = None) -> dict[str, Any]:
    return {"feedbackId": feedback or feedback_id(), "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "timestamp": iso(when), "userAgent": SIMULATOR_USER_AGENT,
            "complaintFeedbackType": "abuse", "arrivalDate": iso(arrival)}


def reject(reason: str = "Bad content") -> dict[str, Any]:
    return {"reason": reason}


def rendering_failure(template: str, message: str) -> dict[str, Any]:
    return {"errorMessage": message, "templateName": template}


def event_record(event_type: str, mail: SentMail, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The record a configuration set's event destination receives."""
    mail_json = mail_object(mail, headers=True, tags=True, delivered=event_type == "DELIVERY")
    if event_type == "RENDERING_FAILURE":  # never rendered: AWS's sample shows no headers
        del mail_json["headers"], mail_json["commonHeaders"]
    return {"eventType": EVENT_NAMES[event_type], "mail": mail_json,
            DETAIL_KEYS[event_type]: dict(detail)}


def notification(event_type: str, mail: SentMail, detail: Mapping[str, Any], *,
                 headers: bool) -> dict[str, Any]:
    """The notification an identity's Bounce/Complaint/Delivery topic receives (no tags)."""
    return {"notificationType": NOTIFICATION_TYPES[event_type],
            "mail": mail_object(mail, headers=headers, tags=False),
            DETAIL_KEYS[event_type]: dict(detail)}
