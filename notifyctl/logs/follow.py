"""Following log groups: poll FilterLogEvents about once a second, miss nothing, repeat nothing.

Each poll re-reads an overlap window behind the previous poll, because CloudWatch
makes an event searchable some time after its timestamp (ingestion lag), and a new
log stream's first events usually arrive late:

    previous poll started at P          this poll starts at Q
    ----------------|--------------------------|------> time
          |<-overlap->|                        |
          P - overlap: this poll's startTime    (no endTime: up to now)

Events seen before are dropped by (group, eventId). The de-dup memory is bounded:
entries older than every group's next window (the widest overlap behind its cursor,
or the start time while a throttled backfill has not completed a poll) can never
come back and are pruned, and a hard capacity evicts the oldest first (LRU)
whatever happens.

The overlap widens itself when events are observed arriving late (ingestionTime -
timestamp), up to `max_overlap_ms`.

Rate: CloudWatch allows 5 FilterLogEvents per second per account and Region. One
limiter is shared by every group and every page. On ThrottlingException the
follower backs off exponentially (capped) and resumes from the same cursor.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from notifyctl.logs.events import LogEvent
from notifyctl.logs.reader import fetch_pages

Clock = Callable[[], float]
Sleep = Callable[[float], None]

THROTTLE_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                            "RequestLimitExceeded"})
MAX_CALLS_PER_SECOND = 5.0


class RateLimiter:
    """At most `rate` calls per second: calls are spaced 1/rate seconds apart."""

    def __init__(self, rate: float = MAX_CALLS_PER_SECOND, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        self.spacing = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next: float | None = None
        self.calls = 0

    def acquire(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.spacing
        self.calls += 1


class SeenEvents:
    """Bounded set of event keys, remembering each key's timestamp for pruning."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: object) -> bool:
        return key in self._seen

    def add(self, key: tuple[str, str], timestamp: int) -> bool:
        """Remember `key`; True if it was new."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = timestamp
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def prune_before(self, cutoff_ms: int) -> None:
        """Forget events older than `cutoff_ms` (insertion order is roughly time order,
        so stop at the first newer one; stragglers go by capacity)."""
        seen = self._seen
        while seen:
            key, ts = next(iter(seen.items()))
            if ts >= cutoff_ms:
                return
            del seen[key]


@dataclass
class FollowStats:
    polls: int = 0
    calls: int = 0
    throttles: int = 0
    events: int = 0


def _throttled(exc: BaseException) -> bool:
    from notifyctl.aws.errors import error_code

    return error_code(exc) in THROTTLE_CODES


class Follower:
    """Polls groups and yields batches of never-seen events, each batch in time order."""

    def __init__(self, client: Any, groups: Sequence[str], *, start_ms: int,
                 end_ms: int | None = None, pattern: str | None = None,
                 interval: float = 1.0, overlap_ms: int = 10_000, max_overlap_ms: int = 120_000,
                 rate: float = MAX_CALLS_PER_SECOND, backoff_base: float = 1.0,
                 backoff_cap: float = 16.0, seen_capacity: int = 200_000,
                 clock: Clock = time.time, sleep: Sleep = time.sleep,
                 limiter: RateLimiter | None = None) -> None:
        self.client = client
        self.groups = list(groups)
        self.start_ms, self.end_ms, self.pattern = start_ms, end_ms, pattern
        self.interval = interval
        self.base_overlap_ms, self.max_overlap_ms = overlap_ms, max(overlap_ms, max_overlap_ms)
        self.overlap_ms = overlap_ms
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.clock, self.sleep = clock, sleep
        self.limiter = limiter or RateLimiter(rate, clock=clock, sleep=sleep)
        self.seen = SeenEvents(seen_capacity)
        self.stats = FollowStats()
        self._cursor: dict[str, int] = {}      # group -> start of its last complete poll (ms)
        self._failures = 0                     # consecutive throttled polls
        self.throttled = False                 # whether the last poll was throttled

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _window_start(self, group: str) -> int:
        cursor = self._cursor.get(group)
        if cursor is None:
            return self.start_ms
        return max(self.start_ms, cursor - self.overlap_ms)

    def _before_call(self) -> None:
        self.limiter.acquire()
        self.stats.calls += 1

    def _note_lag(self, event: LogEvent) -> None:
        if event.ingestion_time is None:
            return
        lag = int(event.ingestion_time) - event.timestamp
        wanted = min(self.max_overlap_ms, 2 * lag + 1000)
        if wanted > self.overlap_ms:
            self.overlap_ms = wanted

    def poll(self) -> list[LogEvent]:
        """One round over every group. Raises nothing on throttling: `self.throttled`."""
        self.stats.polls += 1
        fresh: list[LogEvent] = []
        self.throttled = False
        for group in self.groups:
            started = self._now_ms()
            try:
                for page in fetch_pages(self.client, group, start_ms=self._window_start(group),
                                        end_ms=self.end_ms, pattern=self.pattern,
                                        before_call=self._before_call):
                    for event in page:
                        if self.seen.add(event.key, event.timestamp):
                            fresh.append(event)
                            self._note_lag(event)
            except Exception as exc:
                if not _throttled(exc):
                    raise
                # Keep what we already have (it is marked seen); this group's cursor
                # stays where it was, so the next poll re-reads its window.
                self.stats.throttles += 1
                self.throttled = True
                break
            self._cursor[group] = started
        if not self.throttled:
            self._failures = 0
        self.seen.prune_before(self._prune_cutoff())
        fresh.sort(key=lambda e: e.timestamp)
        self.stats.events += len(fresh)
        return fresh

    def _prune_cutoff(self) -> int:
        """The oldest timestamp any later poll can still return: the widest window
        behind now, and no later than any group's next window start. A throttled
        group keeps its old cursor (a backfill: `start_ms`), so what it showed must
        be remembered until that group's cursor moves past it."""
        cutoff = self._now_ms() - self.max_overlap_ms - 1000
        for group in self.groups:
            cursor = self._cursor.get(group)
            start = (self.start_ms if cursor is None
                     else max(self.start_ms, cursor - self.max_overlap_ms))
            cutoff = min(cutoff, start)
        return cutoff

    def backoff(self) -> float:
        """Seconds to wait after a throttled poll: base, 2x, 4x ... capped."""
        self._failures += 1
        return min(self.backoff_cap, self.backoff_base * 2 ** (self._failures - 1))

    def finished(self) -> bool:
        """With an end time, stop once the window (plus the lag allowance) is behind us."""
        if self.end_ms is None or len(self._cursor) < len(self.groups):
            return False
        return min(self._cursor.values()) > self.end_ms + self.overlap_ms

    def run(self, max_polls: int | None = None) -> Iterator[list[LogEvent]]:
        """Poll forever (or until the end time / `max_polls`); yield each poll's new events."""
        polls = 0
        while True:
            started = self.clock()
            batch = self.poll()
            polls += 1
            yield batch
            if self.finished() or (max_polls is not None and polls >= max_polls):
                return
            if self.throttled:
                self.sleep(self.backoff())
                continue
            wait = self.interval - (self.clock() - started)
            if wait > 0:
                self.sleep(wait)
