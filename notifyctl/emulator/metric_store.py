"""CloudWatch datapoints kept the way AWS keeps them: bounded, rolled up with age.

moto appends every PutMetricData datapoint to one list and keeps it forever; the
emulator writes nine per Lambda invocation (Invocations, Errors, Duration for the
function, the alias and the executed version), so a sustained load grew memory
without end and made every read of the list slower. AWS (CloudWatch User Guide,
"Metrics retention") keeps datapoints of a period under 60 s for 3 hours, 1-minute
datapoints for 15 days, 5-minute for 63 days and 1-hour for 455 days. Here:

| datapoints of one series (namespace, name, dimensions, unit) | kept as                 |
|---------------------------------------------------------------|-------------------------|
| the newest RAW_PER_SERIES, and none older than 3 hours         | as written (raw)        |
| older raw ones, up to 15 days                                  | 1-minute statistics     |
| 15 to 455 days                                                 | 1-hour statistics       |
| older than 455 days                                            | dropped                 |

Statistics (SampleCount, Sum, Minimum, Maximum) of a minute are exact; what is lost
is percentiles older than the raw ring, and an alarm whose window reaches past the
ring sees a minute's statistics at the minute's start (the alarms of a pipeline at
hundreds of invocations a second look at seconds, well inside the ring). Times are
the datapoints' own (real) timestamps. Datapoints put with StatisticValues stay as
they were put. Only the emulator process imports this module (it imports moto).
`compact` runs under the CloudWatch lock, from the alarm engine's tick, once the
list has grown by half of what the last pass kept (at least COMPACT_EVERY): a pass
reads every datapoint, so a fixed step made each datapoint be read again at every
pass (about 11 times at a pipeline's steady state of ~27 series x RAW_PER_SERIES); a
step proportional to the list reads each datapoint about three times in all, and the
list holds at most 1.5 x what a pass keeps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

RAW_PER_SERIES = 2_000
RAW_MAX_AGE_S = 3 * 3600
MINUTE_KEEP_S = 15 * 86400
HOUR_KEEP_S = 455 * 86400
COMPACT_EVERY = 5_000


def _epoch(stamp: datetime) -> float:
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _series(datum: Any) -> tuple[Any, ...]:
    return (datum.namespace, datum.name,
            tuple(sorted((d.name, d.value) for d in datum.dimensions)), datum.unit)


def compact(data: list[Any], now: float) -> list[Any]:
    """The datapoints to keep, in the same order moto reads them (oldest first):
    1-hour and 1-minute statistics first, then the raw datapoints in their order."""
    raw: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    buckets: dict[tuple[Any, ...], Rollup] = {}
    kept_aggregates: list[Any] = []
    for datum in data:
        if isinstance(datum, Rollup):
            _add(buckets, datum.series, datum.width, datum.start, datum, now)
        elif isinstance(datum, MetricDatum):
            raw[_series(datum)].append(datum)
        elif isinstance(datum, MetricAggregatedDatum):
            kept_aggregates.append(datum)
    keep: set[int] = set()
    for series, points in raw.items():
        cut = max(0, len(points) - RAW_PER_SERIES)
        for index, datum in enumerate(points):
            stamp = _epoch(datum.timestamp)
            if index >= cut and now - stamp <= RAW_MAX_AGE_S:
                keep.add(id(datum))
            else:
                _add(buckets, series, 60, stamp - stamp % 60, datum, now)
    rolled = sorted(buckets.values(), key=lambda b: b.start)
    return [*kept_aggregates, *rolled,
            *(d for d in data if isinstance(d, MetricDatum) and id(d) in keep)]


def _add(buckets: dict[tuple[Any, ...], Rollup], series: tuple[Any, ...], width: int,
         start: float, datum: Any, now: float) -> None:
    """Merge `datum` (raw or a rollup) into its bucket, rolling minutes into hours
    after MINUTE_KEEP_S and dropping what is older than HOUR_KEEP_S."""
    age = now - start
    if age > HOUR_KEEP_S:
        return
    if width == 60 and age > MINUTE_KEEP_S:
        width, start = 3600, start - start % 3600
    key = (series, width, start)
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = Rollup(series, width, start)
    bucket.merge(datum)


class Rollup(MetricAggregatedDatum):  # type: ignore[misc]
    """Statistics of one series over [start, start + width): what moto reads as a
    datapoint put with StatisticValues."""

    def __init__(self, series: tuple[Any, ...], width: int, start: float) -> None:
        namespace, name, dims, unit = series
        super().__init__(namespace, name, float("inf"), float("-inf"), 0.0, 0.0,
                         [{"Name": k, "Value": v} for k, v in dims],
                         datetime.fromtimestamp(start, tz=UTC), unit)
        self.series, self.width, self.start = series, width, start

    def merge(self, datum: Any) -> None:
        if isinstance(datum, MetricAggregatedDatum):
            count, total = float(datum.sample_count), float(datum.sum)
            low, high = float(datum.min), float(datum.max)
        else:
            count, total = 1.0, float(datum.value)
            low = high = total
        self.sample_count += count
        self.sum += total
        self.min, self.max = min(self.min, low), max(self.max, high)


_rewrites: dict[int, int] = {}  # id(a backend's metric_data) -> times rewritten


def rewrite(data: list[Any], kept: list[Any]) -> None:
    """Replace a backend's datapoints in place (moto itself only appends): counted, so a
    `SeriesIndex` over the list knows to rebuild. Caller holds the CloudWatch lock."""
    data[:] = kept
    _rewrites[id(data)] = _rewrites.get(id(data), 0) + 1


_compacted_at: dict[int, int] = {}  # id(backend) -> len(metric_data) after its last pass


def compact_due(size: int, kept: int) -> bool:
    """Whether a list of `size` datapoints, `kept` after its last pass, is compacted now:
    once it grew by half of `kept`, at least COMPACT_EVERY (amortised O(1) per datapoint)."""
    return size >= kept + max(COMPACT_EVERY, kept // 2)


def compact_backends(now: float) -> None:
    """Compact every CloudWatch backend whose datapoints grew enough (`compact_due`)."""
    from moto.cloudwatch.models import cloudwatch_backends

    from notifyctl.emulator.backends import MOTO_LOCK

    with MOTO_LOCK.hold("cloudwatch"):
        for regions in list(cloudwatch_backends.values()):
            for backend in list(regions.values()):
                if not compact_due(len(backend.metric_data), _compacted_at.get(id(backend), 0)):
                    continue
                rewrite(backend.metric_data, compact(backend.metric_data, now))
                _compacted_at[id(backend)] = len(backend.metric_data)


# -- Reading by series ------------------------------------------------------------------

SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, name, dimensions


def _stamp(point: tuple[float, Any]) -> float:
    return point[0]


class SeriesIndex:
    """One backend's datapoints by series (namespace, name, dimension set), each series'
    (timestamp, datum) pairs in timestamp order (ties: in the list's order): what the
    alarm engine reads.

    The engine evaluates every alarm twice a period; it used to copy the backend's
    whole list every tick and scan back through every series' datapoints to find one
    series' window. Here a tick indexes only what was appended since the last one
    (`refresh`, O(new)) and an alarm reads its window by bisection (`since`,
    O(log n + window)). moto only appends to `metric_data`. When our code rewrote the
    list (`rewrite`: compaction, the SQS metric prune) the index keeps the datapoints
    that survived, without recomputing their series and timestamps, and indexes the
    new ones (rollups); a list shortened or changed by anyone else, or another list (a
    restored backend), is indexed again from scratch.
    """

    def __init__(self) -> None:
        self._series: dict[SeriesKey, list[tuple[float, Any]]] = {}
        self._size = 0
        self._last: Any = None
        self._rewrites = 0
        self._list: list[Any] | None = None  # the list indexed (a restored backend has another)

    def refresh(self, data: list[Any]) -> None:
        """Index what `data` (the backend's list, read under its lock) gained since the
        last call; after a `rewrite`, drop what it removed and add what it added."""
        size, rewrites = len(data), _rewrites.get(id(data), 0)
        if data is not self._list:
            self._series, self._size, self._list = {}, 0, data
        elif rewrites != self._rewrites:
            self._resync(data)
        elif size < self._size or (self._size and data[self._size - 1] is not self._last):
            self._series, self._size = {}, 0
        self._rewrites = rewrites
        for datum in data[self._size:]:
            self._add(datum)
        self._size, self._last = size, (data[size - 1] if size else None)

    def _add(self, datum: Any, position: dict[int, int] | None = None) -> None:
        key = (datum.namespace, datum.name,
               frozenset([(d.name, d.value) for d in datum.dimensions]))
        points = self._series.setdefault(key, [])
        stamp = _epoch(datum.timestamp) if isinstance(datum.timestamp, datetime) \
            else float(datum.timestamp or 0)
        if not points or points[-1][0] < stamp or (position is None and points[-1][0] == stamp):
            points.append((stamp, datum))
            return
        # stamped earlier than the newest (or a rollup added by a rewrite): keep the
        # order by time, and among equal stamps the list's order
        at = bisect_right(points, stamp, key=_stamp)
        if position is not None:
            at = bisect_left(points, stamp, key=_stamp)
            mine = position[id(datum)]
            while at < len(points) and points[at][0] == stamp and \
                    position[id(points[at][1])] < mine:
                at += 1
        points.insert(at, (stamp, datum))

    def _resync(self, data: list[Any]) -> None:
        """After `rewrite`: keep the indexed datapoints still in `data`, index the others.
        (The index holds every datapoint it lists, so no id is reused meanwhile.)"""
        alive = set(map(id, data))
        known: set[int] = set()
        for key in list(self._series):
            points = [p for p in self._series[key] if id(p[1]) in alive]
            if points:
                self._series[key] = points
                known.update(id(p[1]) for p in points)
            else:
                del self._series[key]
        added = [d for d in data if id(d) not in known]
        if added:
            position = {id(d): i for i, d in enumerate(data)}
            for datum in added:
                self._add(datum, position)
        self._size = len(data)

    def since(self, namespace: str, name: str, dimensions: frozenset[tuple[str, str]],
              since: float) -> list[tuple[float, Any]]:
        """The series' datapoints stamped at or after `since`, newest first."""
        points = self._series.get((namespace, name, dimensions), [])
        start = bisect_left(points, since, key=_stamp)
        return points[start:][::-1]

    def oldest(self, namespace: str, name: str) -> float | None:
        """The earliest timestamp of any series of this metric (any dimensions)."""
        stamps = [points[0][0] for (ns, metric, _), points in self._series.items()
                  if ns == namespace and metric == name and points]
        return min(stamps) if stamps else None
