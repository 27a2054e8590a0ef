"""Reading a time window with FilterLogEvents: every page, several groups merged by time.

FilterLogEvents pages hold at most 10,000 events or 1 MB, and a page may be EMPTY
while nextToken is still set (CloudWatch searched part of the window and found
nothing yet): only a missing nextToken ends the read. Never DescribeLogStreams:
FilterLogEvents searches every stream of the group, including new ones.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from notifyctl.errors import OperationError
from notifyctl.logs.events import LogEvent

# Called before each API call (the follower's shared rate limiter, a call counter).
BeforeCall = Callable[[], None]


def missing_group(group: str) -> OperationError:
    return OperationError(
        f"log group {group} not found — has the function been deployed? has it run?",
        hint="A Lambda function's group appears on its first invocation. "
             "Check --env / --region, or name another group with --group.")


_FAST_PARSE_ID = "notifyctl-logs-fast-filter-parse"


def _fast_parse(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                **_: Any) -> None:
    """Decode a successful FilterLogEvents body with plain `json.loads`.

    botocore walks its shape model for every field of every event: ~20 µs per event,
    0.2 s for a full 10,000-event page, more than the request itself. The fields of
    this response are strings and integers, which json.loads yields as they are, so
    hand botocore an empty body and the decoded fields through the documented
    `customized_response_dict` of its before-parse event. Errors (status >= 300)
    and anything that is not a JSON object take botocore's normal path.
    """
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes | bytearray) \
            or body.lstrip()[:1] != b"{":
        return
    try:
        decoded = json.loads(body)
    except ValueError:
        return
    if not isinstance(decoded, dict):
        return
    # botocore leaves out members that are null (moto sends "nextToken": null).
    customized_response_dict.update((k, v) for k, v in decoded.items() if v is not None)
    response_dict["body"] = b"{}"


def enable_fast_parse(client: Any) -> None:
    """Install `_fast_parse` on a botocore logs client (idempotent; others untouched)."""
    meta = getattr(client, "meta", None)
    if meta is None or getattr(meta.service_model, "resolved_protocol", "json") != "json":
        return  # a stub, or a protocol whose body is not JSON
    meta.events.register(f"before-parse.{meta.service_model.service_id.hyphenize()}"
                         ".FilterLogEvents", _fast_parse, unique_id=_FAST_PARSE_ID)


def _request(group: str, start_ms: int | None, end_ms: int | None,
             pattern: str | None) -> dict[str, Any]:
    # AWS ignores `interleaved` (always interleaves streams by time since 2019);
    # emulators such as moto still honour it, so ask for AWS's behaviour.
    params: dict[str, Any] = {"logGroupName": group, "interleaved": True}
    if start_ms is not None:
        params["startTime"] = max(0, int(start_ms))
    if end_ms is not None:
        params["endTime"] = int(end_ms)
    if pattern:
        params["filterPattern"] = pattern  # passed through unchanged
    return params


def fetch_pages(client: Any, group: str, *, start_ms: int | None, end_ms: int | None = None,
                pattern: str | None = None,
                before_call: BeforeCall | None = None) -> Iterator[list[LogEvent]]:
    """Yield each page of `group` in [start_ms, end_ms] as LogEvents (empty pages too)."""
    params = _request(group, start_ms, end_ms, pattern)
    enable_fast_parse(client)
    token: str | None = None
    while True:
        if token:
            params["nextToken"] = token
        if before_call is not None:
            before_call()
        try:
            page = client.filter_log_events(**params)
        except Exception as exc:
            from notifyctl.aws.errors import error_code

            if error_code(exc) == "ResourceNotFoundException":
                raise missing_group(group) from None
            raise
        raw = page.get("events") or ()
        events = [LogEvent.from_api(group, e) for e in raw]
        # Within a page CloudWatch interleaves streams by time; sort to be sure
        # (nearly sorted input: Timsort makes this linear).
        events.sort(key=_by_time)
        yield events
        token = page.get("nextToken")
        if not token:
            return


def _by_time(event: LogEvent) -> int:
    return event.timestamp


def read_group(client: Any, group: str, **kwargs: Any) -> Iterator[LogEvent]:
    for page in fetch_pages(client, group, **kwargs):
        yield from page


def merge_by_time(streams: Iterable[Iterable[LogEvent]]) -> Iterator[LogEvent]:
    """Interleave per-group iterators by timestamp (lazily: each is already ordered)."""
    return heapq.merge(*streams, key=_by_time)


def read_window(client: Any, groups: Sequence[str], *, start_ms: int | None,
                end_ms: int | None = None, pattern: str | None = None,
                before_call: BeforeCall | None = None) -> Iterator[LogEvent]:
    """Every event of every group in the window, in time order."""
    if len(groups) == 1:
        return read_group(client, groups[0], start_ms=start_ms, end_ms=end_ms,
                          pattern=pattern, before_call=before_call)
    return merge_by_time(
        read_group(client, g, start_ms=start_ms, end_ms=end_ms, pattern=pattern,
                   before_call=before_call) for g in groups)
