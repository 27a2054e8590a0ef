"""SNS: lambda subscriptions get the real SNS event, queued for async delivery; a
topic keeps only its newest published messages (recent.Recent), not all of them."""

from __future__ import annotations

import json
from typing import Any

from notifyctl.emulator.patches import hub


def targets() -> list[tuple[Any, str]]:
    from moto.sns.models import Subscription, Topic

    return [(Subscription, "publish"), (Subscription, "_parse_message_structure"),
            (Topic, "__init__")]


def _dead_letter(subscription: Any) -> str | None:
    """The subscription's RedrivePolicy target (SNS's DLQ for undeliverable messages)."""
    policy = subscription.attributes.get("RedrivePolicy")
    if not policy:
        return None
    try:
        return str(json.loads(policy)["deadLetterTargetArn"])
    except (ValueError, KeyError, TypeError):
        return None


def apply() -> None:
    from moto.sns import models

    from notifyctl.emulator.delivery import AsyncEvent
    from notifyctl.emulator.sns_event import build_event

    Subscription: Any = models.Subscription  # Any: we assign to its methods

    original = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        if self.protocol != "lambda":
            return original(self, message, message_id, subject=subject,
                            message_attributes=message_attributes, group_id=group_id,
                            deduplication_id=deduplication_id,
                            message_structure=message_structure)
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        event = build_event(topic_arn=self.topic.arn, subscription_arn=self.arn,
                            message_id=message_id, message=message, subject=subject,
                            attributes=message_attributes)
        parts = self.endpoint.split(":")
        region = parts[3] if len(parts) > 3 else self.topic.sns_backend.region_name
        account = parts[4] if len(parts) > 4 else self.account_id
        # SNS invokes Lambda asynchronously: Publish returns once the event is queued.
        hub().dispatcher.submit(AsyncEvent(account, region, self.endpoint, json.dumps(event),
                                           source="sns", topic_arn=self.topic.arn,
                                           sns_dead_letter=_dead_letter(self)))
        return None

    Subscription.publish = publish

    from notifyctl.emulator.recent import Recent

    Topic: Any = models.Topic
    original_init = Topic.__init__

    def topic_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.sent_notifications = Recent()

    Topic.__init__ = topic_init
