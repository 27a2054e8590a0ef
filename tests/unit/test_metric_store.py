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
