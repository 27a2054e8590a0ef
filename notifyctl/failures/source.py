"""Reading what failed: the on-failure queue and the de-dup table's final failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifyctl.errors import OperationError
from notifyctl.failures.records import FAILED, UNCONFIRMED, Failure, from_item, from_queue_message

if TYPE_CHECKING:
    from notifyctl.aws.calls import ClientFactory

SQS_BATCH = 10
LISTING_HIDE_S = 30  # a listing hides each message this long at most, then shows it again
# Receives in a row that bring nothing new before the queue counts as read: SQS samples
# its servers, so one short answer does not prove the queue is exhausted.
QUIET_ROUNDS = 3


@dataclass
class FailureList:
    queue_name: str
    table_name: str
    queue_url: str | None
    queue: list[Failure] = field(default_factory=list)
    table: list[Failure] = field(default_factory=list)

    @property
    def all(self) -> list[Failure]:
        return self.queue + self.table

    def find(self, ident: str) -> list[Failure]:
        """Entries whose id (or de-dup key) is `ident` or starts with it."""
        exact = [f for f in self.all if ident in (f.id, f.dedup_key)]
        return exact or [f for f in self.all if f.id.startswith(ident)]

    def to_dict(self) -> dict[str, Any]:
        return {"queue": self.queue_name, "table": self.table_name,
                "failures": [f.to_dict() for f in self.all]}


def queue_url(sqs: Any, name: str) -> str | None:
    from botocore.exceptions import ClientError

    from notifyctl.aws.errors import error_code

    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError as exc:
        if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue",
                               "QueueDoesNotExist"):
            return None
        raise


def read_queue(sqs: Any, url: str, *, visibility_s: int = 0, now: float,
               limit: int = 10_000) -> list[Failure]:
    """Every message of the queue as a Failure. Each receive hides what it returned
    (a receive with visibility 0 would return the same first messages again and never
    reach the rest); with visibility_s 0 (a listing) they are all made visible again
    at the end, so a listing consumes nothing. Redrive keeps them hidden while it works."""
    seen: dict[str, Failure] = {}
    handles: list[str] = []
    quiet = 0
    try:
        while quiet < QUIET_ROUNDS and len(seen) < limit:
            response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=SQS_BATCH,
                                           VisibilityTimeout=visibility_s or LISTING_HIDE_S,
                                           WaitTimeSeconds=0, AttributeNames=["All"])
            new = 0
            for message in response.get("Messages", []):
                handles.append(message["ReceiptHandle"])
                if message["MessageId"] not in seen:
                    seen[message["MessageId"]] = from_queue_message(message, now)
                    new += 1
            quiet = 0 if new else quiet + 1
    finally:
        if not visibility_s:
            _show_again(sqs, url, handles)
    return sorted(seen.values(), key=lambda f: -(f.age_s or 0))


def _show_again(sqs: Any, url: str, handles: list[str]) -> None:
    for start in range(0, len(handles), SQS_BATCH):
        chunk = handles[start:start + SQS_BATCH]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
            for i, h in enumerate(chunk)])


def read_table(dynamodb: Any, table: str, *, now: float) -> list[Failure]:
    """The FAILED and UNCONFIRMED records. A Scan (the table has no index on status):
    it reads the whole table, paged, once per command."""
    from book_notifier.dedup import plain

    found: list[Failure] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "#s IN (:failed, :unconfirmed)",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":failed": {"S": FAILED},
                                      ":unconfirmed": {"S": UNCONFIRMED}},
    }
    while True:
        response = dynamodb.scan(**kwargs)
        found.extend(from_item(plain(item), now) for item in response.get("Items", []))
        if not response.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return sorted(found, key=lambda f: -(f.age_s or 0))


def list_failures(clients: ClientFactory, env: Any, *, visibility_s: int = 0,
                  clock: Callable[[], float] = time.time) -> FailureList:
    """Both places, for the environment (raises OperationError when neither exists)."""
    from botocore.exceptions import ClientError

    from notifyctl.aws.errors import error_code

    now = clock()
    sqs = clients.client("sqs")
    url = queue_url(sqs, env.dlq_name)
    out = FailureList(env.dlq_name, env.table_name, url)
    if url is not None:
        out.queue = read_queue(sqs, url, visibility_s=visibility_s, now=now)
    try:
        out.table = read_table(clients.client("dynamodb"), env.table_name, now=now)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        if url is None:
            raise OperationError(
                f"Neither the on-failure queue {env.dlq_name!r} nor the table "
                f"{env.table_name!r} exists.",
                hint=f"Run `notifyctl --env {env.name} bootstrap` first.") from exc
    return out
