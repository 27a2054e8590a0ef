"""Where `trace` looks, each read bounded:

- the function's logs: ONE FilterLogEvents query whose pattern is the quoted id, across
  every stream of the group (every page of that query; pages spaced by the logs
  package's `RateLimiter`, within CloudWatch's 5 calls/s). The function writes the
  MessageId, the book id and the event id on each line it logs about an event, so
  the one query finds every invocation that handled it, whichever id was given.
- the de-dup table: GetItem for each key the id can be (the MessageId itself, the
  producer's event id as `event:<id>`, and every MessageId the log lines name);
- the failure queue: at most `QUEUE_READS` ReceiveMessage calls of 10 with
  VisibilityTimeout 0, so the messages stay where they are for `failures redrive`
  (each read does count in their ApproximateReceiveCount).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from book_notifier.dedup import plain
from notifyctl.aws.calls import DYNAMODB_NOT_FOUND, get_or_none
from notifyctl.infra import reads
from notifyctl.logs.events import JSON, LogEvent
from notifyctl.trace.model import Invocation, QueuedFailure, Record

QUEUE_READS = 10
ID_FIELDS = ("message_id", "book_id", "event_id", "ses_message_id")


# ---------------------------------------------------------------- logs
def log_events(client: Any, group: str, the_id: str, *, start_ms: int,
               before_call: Callable[[], None] | None = None) -> list[LogEvent]:
    """Every line of `group` since `start_ms` that mentions `the_id` (one query)."""
    from notifyctl.logs.reader import read_window

    pattern = '"' + the_id.replace('"', "") + '"'
    try:
        events = list(read_window(client, [group], start_ms=start_ms, pattern=pattern,
                                  before_call=before_call))
    except Exception as exc:
        from notifyctl.errors import OperationError

        if isinstance(exc, OperationError):  # the group does not exist: nothing ran yet
            return []
        raise
    # An emulator's filter may be looser than CloudWatch's: keep only real matches.
    return [e for e in events if the_id in e.message]


def invocations(events: Iterable[LogEvent]) -> list[Invocation]:
    """The function's lines about the event, one Invocation per attempt.

    Lambda's retries of an asynchronous event keep its request id, so a request id
    alone does not separate attempts: each attempt ends with the one line that carries
    its `outcome`, and the next line of that request id starts the next attempt."""
    runs: list[list[LogEvent]] = []
    open_run: dict[str, list[LogEvent]] = {}
    for event in sorted(events, key=lambda e: e.timestamp):
        rid = event.request_id or f"stream:{event.stream}"
        run = open_run.get(rid)
        if run is None:
            run = open_run[rid] = []
            runs.append(run)
        run.append(event)
        data = event.parsed.data if event.parsed.kind == JSON else None
        if data and data.get("outcome"):
            del open_run[rid]
    return [_invocation(run) for run in runs]


def _invocation(lines: list[LogEvent]) -> Invocation:
    outcome, duration, attempt = "unknown", None, None
    for line in lines:
        data = line.parsed.data if line.parsed.kind == JSON else None
        if not data:
            continue
        if data.get("outcome"):
            outcome = str(data["outcome"])
        if isinstance(data.get("duration_ms"), int | float):
            duration = float(data["duration_ms"])
        if isinstance(data.get("attempt"), int):
            attempt = data["attempt"]
    # The function logs its outcome line last, with the time it took: the invocation
    # started that long before it.
    start = lines[0].timestamp
    if duration is not None:
        start = min(start, lines[-1].timestamp - int(duration))
    rid = lines[0].request_id or f"stream:{lines[0].stream}"
    return Invocation(rid, lines[0].version, start, outcome, duration,
                      tuple(line.message for line in lines), attempt)


def ids_in(events: Iterable[LogEvent], field: str) -> list[str]:
    """The distinct values of a JSON field across the lines (in order of appearance)."""
    seen: dict[str, None] = {}
    for event in events:
        data = event.parsed.data
        if data and data.get(field):
            seen.setdefault(str(data[field]), None)
    return list(seen)


# ---------------------------------------------------------------- records
def records(ddb: Any, table: str, keys: Iterable[str]) -> list[Record]:
    out: list[Record] = []
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        got = get_or_none(ddb.get_item, *DYNAMODB_NOT_FOUND, TableName=table,
                          Key={"pk": {"S": key}}, ConsistentRead=True)
        if got is None:  # no table: no records
            return out
        if got.get("Item"):
            out.append(record_of(plain(got["Item"])))
    return out


def _iso_ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def record_of(item: dict[str, Any]) -> Record:
    key = str(item.get("pk", ""))
    message_id = item.get("message_id") or (None if key.startswith("event:") else key)
    return Record(
        key=key, status=str(item.get("status", "?")), message_id=message_id,
        book_id=item.get("book_id"), attempts=int(item.get("attempts", 0) or 0),
        published_at_ms=_iso_ms(item.get("published_at")),
        claimed_at_ms=_int(item.get("claimed_at")), sent_at_ms=_int(item.get("sent_at")),
        lease_until_s=_int(item.get("lease_until")),
        ses_message_id=item.get("ses_message_id"), reason=item.get("reason"),
        unconfirmed_at_ms=_int(item.get("unconfirmed_at")))


# ---------------------------------------------------------------- failure queue
def queued_failures(sqs: Any, queue_name: str, matches: Callable[[str], bool],
                    max_reads: int = QUEUE_READS) -> tuple[list[QueuedFailure], int]:
    """On-failure records in the queue whose body `matches` (the id, a MessageId);
    and how many distinct messages were looked at."""
    url = reads.queue_url(sqs, queue_name)
    if url is None:
        return [], 0
    seen: dict[str, QueuedFailure | None] = {}
    for _ in range(max_reads):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                  WaitTimeSeconds=0,
                                  AttributeNames=["SentTimestamp"]).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            body = message.get("Body", "")
            seen[message["MessageId"]] = failure_of(message) if matches(body) else None
    found = [f for f in seen.values() if f is not None]
    found.sort(key=lambda f: f.at_ms)
    return found, len(seen)


def failure_of(message: dict[str, Any]) -> QueuedFailure:
    """Lambda's on-failure record, read by `failures.records.from_queue_message` (the
    one parser of that format), as the timeline's typed entry."""
    from notifyctl.failures.records import from_queue_message

    sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", 0))
    now_ms = sent_ms or 0
    failure = from_queue_message(message, now_ms / 1000)
    try:
        body = json.loads(message.get("Body", ""))
    except ValueError:
        body = {}
    at_ms = _iso_ms(body.get("timestamp") if isinstance(body, dict) else None) or sent_ms
    return QueuedFailure(message["MessageId"], at_ms, failure.id, failure.status,
                         failure.attempts, failure.error, failure.message_id,
                         failure.dedup_key)
