"""Putting it together: read a window (or follow), filter, group, hand to a sink.

The command builds a `LogsQuery` and a sink and calls `run`; tests call `run` with
a moto or stubbed client, a fake clock and a list-backed sink.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifyctl.logs.events import LogEvent
from notifyctl.logs.follow import Follower, FollowStats
from notifyctl.logs.grouping import RequestBlock, RequestGrouper
from notifyctl.logs.reader import read_window
from notifyctl.logs.timeparse import parse_duration_ms, parse_time

DEFAULT_SINCE = "10m"
DEFAULT_FOLLOW_SINCE = "1m"
# A block with no line for this long while following is shown as it is.
IDLE_BLOCK_MS = 120_000


class Sink(Protocol):
    def event(self, event: LogEvent) -> None: ...
    def block(self, block: RequestBlock) -> None: ...
    def flush(self) -> None: ...


@dataclass
class LogsQuery:
    groups: list[str]
    start_ms: int
    end_ms: int | None = None
    follow: bool = False
    pattern: str | None = None
    request_id: str | None = None
    version: str | None = None
    by_request: bool = False
    interval: float = 1.0
    max_polls: int | None = None  # tests and the benchmark stop after N polls
    extra: dict[str, Any] = field(default_factory=dict)  # Follower tuning (tests, bench)


def build_query(groups: list[str], *, since: str | None, until: str | None, follow: bool,
                utc: bool, now_ms: int, **kwargs: Any) -> LogsQuery:
    """Resolve the time window: default 10 minutes back, 1 minute with --follow."""
    since_text = since or (DEFAULT_FOLLOW_SINCE if follow else DEFAULT_SINCE)
    start = parse_time(since_text, now_ms, utc=utc, option="--since")
    end = parse_time(until, now_ms, utc=utc, option="--until") if until else None
    if end is not None and end < start:
        from notifyctl.errors import UsageError

        raise UsageError(f"--until ({until}) is before --since ({since_text})",
                         hint="Example: --since 2h --until 1h")
    return LogsQuery(groups=groups, start_ms=start, end_ms=end, follow=follow, **kwargs)


def window_spans_days(query: LogsQuery, now_ms: int) -> bool:
    end = query.end_ms if query.end_ms is not None else now_ms
    return end - query.start_ms > 20 * 3_600_000


def _normalise_version(version: str | None) -> str | None:
    if version is None:
        return None
    version = version.strip()
    return "$LATEST" if version.upper() in ("LATEST", "$LATEST") else version


class _Pipeline:
    """Version filter -> (grouping) -> request-id filter -> sink."""

    def __init__(self, query: LogsQuery, sink: Sink) -> None:
        self.sink = sink
        self.version = _normalise_version(query.version)
        self.request_id = query.request_id
        self.by_request = query.by_request
        self.grouper = RequestGrouper() if (query.by_request or query.request_id) else None
        self.shown = 0

    def feed(self, events: Iterable[LogEvent]) -> None:
        grouper, version = self.grouper, self.version
        for event in events:
            if version is not None and event.version != version:
                continue
            if grouper is None:
                self.sink.event(event)
                self.shown += 1
            else:
                self._emit(grouper.add(event))

    def _emit(self, items: Iterable[RequestBlock | LogEvent]) -> None:
        for item in items:
            if isinstance(item, RequestBlock):
                if self.request_id and not item.request_id.startswith(self.request_id):
                    continue
                self.shown += 1
                if self.by_request:
                    self.sink.block(item)
                else:
                    for event in item.events:
                        self.sink.event(event)
            elif not self.request_id:
                self.shown += 1
                self.sink.event(item)

    def flush(self, idle_before_ms: int | None = None) -> None:
        if self.grouper is not None:
            self._emit(self.grouper.flush(idle_before_ms))
        self.sink.flush()


def run(client: Any, query: LogsQuery, sink: Sink, *, clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_poll: Callable[[FollowStats], None] | None = None) -> int:
    """Show the query's events; returns how many lines/blocks were shown.

    Following ends only at --until (plus the overlap) or with Ctrl-C: the
    KeyboardInterrupt propagates after open blocks are flushed.
    """
    pipeline = _Pipeline(query, sink)
    if not query.follow:
        pipeline.feed(read_window(client, query.groups, start_ms=query.start_ms,
                                  end_ms=query.end_ms, pattern=query.pattern))
        pipeline.flush()
        return pipeline.shown
    follower = Follower(client, query.groups, start_ms=query.start_ms, end_ms=query.end_ms,
                        pattern=query.pattern, interval=query.interval, clock=clock,
                        sleep=sleep, **query.extra)
    try:
        for batch in follower.run(max_polls=query.max_polls):
            pipeline.feed(batch)
            pipeline.flush(int(clock() * 1000) - IDLE_BLOCK_MS)
            if on_poll is not None:
                on_poll(follower.stats)
    finally:
        # Ctrl-C or the end of --until: show what is still open.
        pipeline.flush()
    return pipeline.shown


__all__ = ["LogsQuery", "build_query", "run", "parse_duration_ms"]
