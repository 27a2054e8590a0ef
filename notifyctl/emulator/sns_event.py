"""The event SNS hands to a Lambda subscription, in AWS's exact shape.

    {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                  "EventSubscriptionArn": <subscription ARN>,
                  "Sns": {"Type": "Notification", "MessageId": ..., "TopicArn": ...,
                          "Subject": ... or null, "Message": ..., "Timestamp": "...Z",
                          "SignatureVersion": "1", "Signature": ..., "SigningCertUrl": ...,
                          "UnsubscribeUrl": ..., "MessageAttributes": {name: {Type, Value}}}}]}

The signature is well-formed (base64 of 256 bytes, like an RSA-2048 signature)
but not verifiable: nobody can fetch the emulator's certificate, and signing each
message with RSA would cost more than the delivery itself.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any


def sns_timestamp(now: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds and Z, as SNS writes it."""
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _signature(string_to_sign: str) -> str:
    digest = hashlib.sha256(string_to_sign.encode("utf-8")).digest()
    return base64.b64encode(digest * 8).decode("ascii")


def build_event(*, topic_arn: str, subscription_arn: str, message_id: str, message: str,
                subject: str | None, attributes: dict[str, Any] | None,
                timestamp: str | None = None) -> dict[str, Any]:
    region = topic_arn.split(":")[3]
    timestamp = timestamp or sns_timestamp()
    string_to_sign = (f"Message\n{message}\nMessageId\n{message_id}\n"
                      + (f"Subject\n{subject}\n" if subject else "")
                      + f"Timestamp\n{timestamp}\nTopicArn\n{topic_arn}\nType\nNotification\n")
    return {
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic_arn,
                "Subject": subject or None,
                "Message": message,
                "Timestamp": timestamp,
                "SignatureVersion": "1",
                "Signature": _signature(string_to_sign),
                "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-"
                                  f"{uuid.uuid5(uuid.NAMESPACE_URL, topic_arn).hex}.pem",
                "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                                  f"&SubscriptionArn={subscription_arn}",
                "MessageAttributes": {
                    name: {"Type": value["Type"], "Value": value["Value"]}
                    for name, value in (attributes or {}).items()
                },
            },
        }],
    }
