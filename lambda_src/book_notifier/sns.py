"""Typed, read-only views over the event Lambda receives from SNS.

Shape (AWS docs, "Using Lambda with Amazon SNS")::

    {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                  "EventSubscriptionArn": "...",
                  "Sns": {"Type": "Notification", "MessageId": "...", "TopicArn": "...",
                          "Subject": null, "Message": "...", "Timestamp": "...Z",
                          "SignatureVersion": "1", "Signature": "...",
                          "SigningCertUrl": "...", "UnsubscribeUrl": "...",
                          "MessageAttributes": {"name": {"Type": "String",
                                                         "Value": "..."}}}}]}

Accessors never raise on a missing optional key; the required ones raise
MalformedRecord (a record that did not come from SNS cannot be de-duplicated).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class MalformedRecord(ValueError):
    """The event is not an SNS notification event (no Records, no MessageId...)."""


class SNSMessage:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def _required_str(self, key: str) -> str:
        value = self._data.get(key)
        if not isinstance(value, str) or not value:
            raise MalformedRecord(f"Sns.{key} is missing or not a string")
        return value

    @property
    def message_id(self) -> str:
        return self._required_str("MessageId")

    @property
    def message(self) -> str:
        value = self._data.get("Message")
        if not isinstance(value, str):
            raise MalformedRecord("Sns.Message is missing or not a string")
        return value

    @property
    def timestamp(self) -> str:
        value = self._data.get("Timestamp")
        return value if isinstance(value, str) else ""

    @property
    def topic_arn(self) -> str:
        value = self._data.get("TopicArn")
        return value if isinstance(value, str) else ""

    @property
    def subject(self) -> str | None:
        value = self._data.get("Subject")
        return value if isinstance(value, str) else None

    @property
    def type(self) -> str:
        value = self._data.get("Type")
        return value if isinstance(value, str) else ""

    @property
    def message_attributes(self) -> dict[str, str]:
        raw = self._data.get("MessageAttributes")
        out: dict[str, str] = {}
        if isinstance(raw, Mapping):
            for name, attr in raw.items():
                if isinstance(attr, Mapping) and isinstance(attr.get("Value"), str):
                    out[str(name)] = attr["Value"]
        return out


class SNSRecord:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def event_source(self) -> str:
        value = self._data.get("EventSource")
        return value if isinstance(value, str) else ""

    @property
    def event_subscription_arn(self) -> str:
        value = self._data.get("EventSubscriptionArn")
        return value if isinstance(value, str) else ""

    @property
    def sns(self) -> SNSMessage:
        value = self._data.get("Sns")
        if not isinstance(value, Mapping):
            raise MalformedRecord("record has no Sns object")
        return SNSMessage(value)


class SNSEvent:
    def __init__(self, data: object) -> None:
        if not isinstance(data, Mapping) or not isinstance(data.get("Records"), list):
            raise MalformedRecord("event has no Records list")
        self._records: list[Any] = data["Records"]

    @property
    def records(self) -> Iterator[SNSRecord]:
        for raw in self._records:
            if not isinstance(raw, Mapping):
                raise MalformedRecord("record is not an object")
            yield SNSRecord(raw)

    def __len__(self) -> int:
        return len(self._records)
