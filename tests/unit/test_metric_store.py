"""CloudWatch datapoints are bounded and rolled up with age (emulator/metric_store.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifyctl.emulator import metric_store
from notifyctl.emulator.metric_store import MINUTE_KEEP_S, Rollup, compact

NOW = 1_800_000_000.0
DIMS = [{"Name": "FunctionName", "Value": "f"}]


def datum(value: float, at: float, name: str = "Duration") -> Any:
    from moto.cloudwatch.models import MetricDatum

    return MetricDatum("AWS/Lambda", name, value, DIMS,
                       datetime.fromtimestamp(at, tz=UTC), "Milliseconds")


def totals(data: list[Any]) -> tuple[float, float, float, float]:
    count = total = 0.0
    low, high = float("inf"), float("-inf")
    for d in data:
        if isinstance(d, Rollup):
            count, total = count + d.sample_count, total + d.sum
            low, high = min(low, d.min), max(high, d.max)
        else:
            count, total = count + 1, total + d.value
            low, high = min(low, d.value), max(high, d.value)
    return count, total, low, high


def test_a_series_keeps_its_newest_raw_datapoints_and_rolls_older_ones_into_minutes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_store, "RAW_PER_SERIES", 10)
    data = [datum(float(i), NOW - 100 + i) for i in range(25)]

    kept = compact(data, NOW)

    raw = [d for d in kept if not isinstance(d, Rollup)]
    assert raw == data[-10:]  # the newest, in their order, after the rollups
    assert all(isinstance(d, Rollup) for d in kept[:len(kept) - 10])
    assert {d.start % 60 for d in kept if isinstance(d, Rollup)} == {0.0}
    assert totals(kept) == totals(data)  # exact statistics, nothing lost


def test_compacting_again_merges_into_the_same_minute_instead_of_adding_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_store, "RAW_PER_SERIES", 2)
    start = NOW - NOW % 60
    first = compact([datum(1.0, start + 1), datum(2.0, start + 2), datum(3.0, start + 3)], NOW)
    second = compact([*first, datum(4.0, start + 4)], NOW)

    rollups = [d for d in second if isinstance(d, Rollup)]
    assert len(rollups) == 1 and (rollups[0].sample_count, rollups[0].sum) == (2.0, 3.0)


def test_old_datapoints_become_hours_after_15_days_and_go_after_455_days() -> None:
    data = [datum(5.0, NOW - 4 * 3600),  # past the raw 3 hours: a minute
            datum(7.0, NOW - MINUTE_KEEP_S - 7200),  # past 15 days: an hour
            datum(9.0, NOW - 456 * 86400)]  # past 455 days: dropped

    kept = compact(data, NOW)

    assert sorted((d.width, d.sum) for d in kept) == [(60, 5.0), (3600, 7.0)]


def test_series_are_kept_apart_and_datapoints_put_as_statistics_stay() -> None:
    from moto.cloudwatch.models import MetricAggregatedDatum

    put = MetricAggregatedDatum("App", "Latency", 1.0, 9.0, 3.0, 15.0, [],
                                datetime.fromtimestamp(NOW - 5 * 3600, tz=UTC), None)
    data = [put, datum(1.0, NOW - 4 * 3600, "Errors"), datum(2.0, NOW - 4 * 3600, "Duration")]

    kept = compact(data, NOW)

    assert kept[0] is put
    assert sorted((d.name, d.sum) for d in kept[1:]) == [("Duration", 2.0), ("Errors", 1.0)]


def _naive(data: list[Any], name: str, since: float) -> list[tuple[float, Any]]:
    """What the alarm engine must read: every datapoint of the series at or after `since`,
    newest first (ties: the later written first)."""
    found = [(metric_store._epoch(d.timestamp), i, d) for i, d in enumerate(data)
             if d.name == name and metric_store._epoch(d.timestamp) >= since]
    return [(t, d) for t, _, d in sorted(found, key=lambda f: (f[0], f[1]), reverse=True)]


def test_the_series_index_reads_one_series_window_as_a_scan_would() -> None:
    from notifyctl.emulator.metric_store import SeriesIndex

    data = [datum(float(i), NOW - 100 + i, name="Duration" if i % 3 else "Errors")
            for i in range(60)]
    index = SeriesIndex()
    dims = frozenset({("FunctionName", "f")})
    index.refresh(data)
    assert index.since("AWS/Lambda", "Duration", dims, NOW - 70) == _naive(data, "Duration",
                                                                           NOW - 70)
    # appended later, one of them stamped in the past, one at an existing stamp
    data += [datum(500.0, NOW - 90), datum(501.0, NOW - 10), datum(502.0, NOW - 95 + 1)]
    index.refresh(data)
    for since in (NOW - 200, NOW - 95, NOW - 50, NOW):
        assert index.since("AWS/Lambda", "Duration", dims, since) == _naive(
            data, "Duration", since)
    assert index.since("AWS/Lambda", "Duration", frozenset(), NOW - 200) == []
    assert index.since("AWS/Lambda", "Throttles", dims, NOW - 200) == []


def test_the_series_index_rebuilds_after_the_list_is_rewritten(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.emulator.metric_store import SeriesIndex, rewrite

    monkeypatch.setattr(metric_store, "RAW_PER_SERIES", 10)
    data = [datum(float(i), NOW - 3000 + i * 60) for i in range(40)]
    index = SeriesIndex()
    dims = frozenset({("FunctionName", "f")})
    index.refresh(data)
    rewrite(data, compact(data, NOW))
    data.append(datum(7.0, NOW))
    index.refresh(data)
    got = index.since("AWS/Lambda", "Duration", dims, NOW - 5000)
    assert got == _naive(data, "Duration", NOW - 5000)
    assert any(isinstance(d, Rollup) for _, d in got) and len(got) == len(data)
    data[:] = data[:5]  # shortened by anyone else: rebuilt too
    index.refresh(data)
    assert index.since("AWS/Lambda", "Duration", dims, NOW - 5000) == _naive(
        data, "Duration", NOW - 5000)
    restored = [datum(1.0, NOW - 1)]  # a backend restored from a snapshot: another list
    index.refresh(restored)
    assert index.since("AWS/Lambda", "Duration", dims, NOW - 5000) == _naive(
        restored, "Duration", NOW - 5000)


# -- issue 20f: the alarm tick is O(new datapoints), compaction amortised ----------------

def _scan(data: list[Any], key: tuple[str, str, frozenset[tuple[str, str]]],
          since: float) -> list[tuple[float, Any]]:
    """A full scan of the list: the series' datapoints at/after `since`, newest first
    (ties: the later in the list first)."""
    namespace, name, dims = key
    found = [(metric_store._epoch(d.timestamp), i, d) for i, d in enumerate(data)
             if (d.namespace, d.name) == (namespace, name)
             and frozenset((x.name, x.value) for x in d.dimensions) == dims
             and metric_store._epoch(d.timestamp) >= since]
    return [(t, d) for t, _, d in sorted(found, key=lambda f: (f[0], f[1]), reverse=True)]


def test_the_index_answers_as_a_full_scan_after_many_ticks_compactions_and_prunes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from moto.cloudwatch.models import MetricDatum

    from notifyctl.emulator.metric_store import SeriesIndex, rewrite

    monkeypatch.setattr(metric_store, "RAW_PER_SERIES", 15)
    rng = random.Random(20)
    functions = ["notifier", "feedback", "other"]
    data: list[Any] = []
    index = SeriesIndex()
    keys = {("AWS/Lambda", name, frozenset({("FunctionName", fn)}))
            for name in ("Duration", "Errors") for fn in functions}
    clock = NOW - 4 * 3600
    for tick in range(120):
        for _ in range(rng.randrange(0, 12)):
            clock += rng.choice([0.0, 0.5, 7.0])  # ties included
            late = rng.random() < 0.1  # written with an earlier timestamp
            stamp = clock - rng.uniform(0, 300) if late else clock
            data.append(MetricDatum("AWS/Lambda", rng.choice(["Duration", "Errors"]),
                                    float(rng.randrange(100)),
                                    [{"Name": "FunctionName", "Value": rng.choice(functions)}],
                                    datetime.fromtimestamp(stamp, tz=UTC), "Milliseconds"))
        if tick % 7 == 3:
            rewrite(data, compact(data, clock))
        if tick % 11 == 5:  # a prune: some datapoints dropped, nothing added
            rewrite(data, [d for d in data if rng.random() < 0.9])
        index.refresh(data)
        for key in keys:
            for since in (clock - 20_000, clock - 600, clock - 60):
                assert index.since(*key, since) == _scan(data, key, since), (tick, key)
    assert any(isinstance(d, Rollup) for d in data)


def test_after_a_rewrite_the_index_reads_only_the_datapoints_it_added(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.emulator.metric_store import SeriesIndex, rewrite

    monkeypatch.setattr(metric_store, "RAW_PER_SERIES", 10)
    data = [datum(float(i), NOW - 3000 + i * 60) for i in range(40)]
    index = SeriesIndex()
    index.refresh(data)
    rewrite(data, compact(data, NOW))
    rollups = sum(isinstance(d, Rollup) for d in data)
    data.append(datum(7.0, NOW))
    read: list[Any] = []
    real = metric_store._epoch
    monkeypatch.setattr(metric_store, "_epoch", lambda stamp: read.append(stamp) or real(stamp))

    index.refresh(data)

    assert len(read) == rollups + 1  # not the 10 raw datapoints the rewrite kept
    dims = frozenset({("FunctionName", "f")})
    assert index.since("AWS/Lambda", "Duration", dims, 0) == _naive(data, "Duration", 0)


@pytest.mark.parametrize(("size", "kept", "due"), [
    (4_999, 0, False), (5_000, 0, True), (14_999, 10_000, False), (15_000, 10_000, True),
    (80_999, 54_000, False), (81_000, 54_000, True)])
def test_compaction_is_due_once_the_list_grew_by_half_of_what_the_last_pass_kept(
        size: int, kept: int, due: bool) -> None:
    assert metric_store.compact_due(size, kept) is due


def test_the_sqs_metric_prune_rewrites_the_list_only_when_a_datapoint_is_old() -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    from notifyctl.emulator.patches.cloudwatch import SQS_METRIC, MotoAlarmStore

    backend = cloudwatch_backends["123456789012"]["eu-west-3"]
    backend.metric_data.clear()
    try:
        store = MotoAlarmStore(lambda seconds: seconds)
        for at in (NOW - 100, NOW - 50):
            backend.put_metric_data("AWS/SQS", [{
                "MetricName": SQS_METRIC, "Value": 1.0, "Unit": "Count",
                "Timestamp": datetime.fromtimestamp(at, tz=UTC).replace(tzinfo=None),
                "Dimensions": [{"Name": "QueueName", "Value": "q"}]}])
        before = dict(metric_store._rewrites)

        store._prune(NOW - 200)  # nothing that old: the list is not rewritten
        assert metric_store._rewrites.get(id(backend.metric_data)) == before.get(
            id(backend.metric_data))
        assert len(backend.metric_data) == 2

        store._prune(NOW - 75)
        assert [metric_store._epoch(d.timestamp) for d in backend.metric_data] == [NOW - 50]
    finally:
        backend.metric_data.clear()
