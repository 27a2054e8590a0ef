"""CloudWatch: alarms start INSUFFICIENT_DATA and are evaluated (emulator/alarms.py);
SetAlarmState records history and runs actions; DescribeAlarmHistory answers.

Also `MotoAlarmStore`, the alarm engine's view of moto's CloudWatch/SNS/SQS
backends, and the periodic SQS queue metrics CloudWatch would receive from SQS.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from notifyctl.emulator.alarms import INITIAL_REASON, INSUFFICIENT, AlarmSpec, Sample
from notifyctl.emulator.patches import hub

SQS_METRIC_PERIOD_S = 60  # AWS seconds between SQS queue metrics (SQS sends them each minute)
SQS_METRIC_KEPT_S = 15 * 86400  # AWS keeps 1-minute datapoints 15 days (emulated time here)
SQS_METRIC = "ApproximateNumberOfMessagesVisible"


def targets() -> list[tuple[Any, str]]:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    return [(CloudWatchBackend, "put_metric_alarm"), (CloudWatchBackend, "set_alarm_state"),
            (CloudWatchResponse, "describe_alarms")]


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value or 0)


def _datetime(epoch: float) -> datetime:
    # moto keeps naive UTC datetimes (utcnow()); stay consistent with it
    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)


def spec_of(alarm: Any, account_id: str, region: str) -> AlarmSpec:
    """Snapshot a moto Alarm for the evaluator."""
    def _tuple(value: Any) -> tuple[str, ...]:
        return tuple(str(v) for v in (value or []))

    return AlarmSpec(
        account_id=account_id, region=region, name=alarm.name, arn=alarm.alarm_arn,
        namespace=alarm.namespace, metric_name=alarm.metric_name,
        dimensions=tuple((d.name, d.value) for d in alarm.dimensions or []),
        period=int(alarm.period or 0), evaluation_periods=int(alarm.evaluation_periods or 1),
        threshold=float(alarm.threshold or 0.0), comparison=str(alarm.comparison_operator),
        statistic=alarm.statistic, extended_statistic=alarm.extended_statistic,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        treat_missing=alarm.treat_missing_data or "missing", state=alarm.state_value,
        state_reason=alarm.state_reason, description=alarm.description,
        actions_enabled=bool(alarm.actions_enabled), alarm_actions=_tuple(alarm.alarm_actions),
        ok_actions=_tuple(alarm.ok_actions),
        insufficient_data_actions=_tuple(alarm.insufficient_data_actions), unit=alarm.unit,
        configuration_updated=_epoch(alarm.configuration_updated_timestamp),
        has_metric_math=bool(alarm.metric_data_queries) or alarm.rule is not None,
    )


def _backends() -> list[tuple[str, str, Any]]:
    from moto.cloudwatch.models import cloudwatch_backends

    return [(account, region, backend) for account, regions in list(cloudwatch_backends.items())
            for region, backend in list(regions.items())]


class MotoAlarmStore:
    """The `alarms.AlarmStore` over moto's backends (every account and region)."""

    def __init__(self, clock_scale: Any) -> None:
        self._scale = clock_scale  # clock.Clock.scale
        self._next_sqs = 0.0
        self._next_prune = 0.0
        # each backend's datapoints by series, brought up to date once per engine tick
        self._indexes: dict[tuple[str, str], Any] = {}  # metric_store.SeriesIndex
        self._fresh: set[tuple[str, str]] = set()

    def alarms(self) -> list[AlarmSpec]:
        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK.hold("cloudwatch"):
            return [spec_of(alarm, account, region) for account, region, backend in _backends()
                    for alarm in list(backend.alarms.values()) if alarm.rule is None]

    def _index(self, account: str, region: str, backend: Any) -> Any:
        """The backend's SeriesIndex, brought up to date once per engine tick (shared by
        its alarms and the SQS metric prune). Caller holds the CloudWatch lock."""
        from notifyctl.emulator.metric_store import SeriesIndex

        key = (account, region)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = SeriesIndex()
        if key not in self._fresh:
            index.refresh(backend.metric_data)
            self._fresh.add(key)
        return index

    def samples(self, spec: AlarmSpec, since: float) -> list[Sample]:
        from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum, cloudwatch_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK.hold("cloudwatch"):
            index = self._index(spec.account_id, spec.region,
                                cloudwatch_backends[spec.account_id][spec.region])
        found: list[Sample] = []
        for stamp, datum in index.since(spec.namespace or "", spec.metric_name or "",
                                        frozenset(spec.dimensions), since):
            if isinstance(datum, MetricDatum):
                found.append(Sample.of(stamp, float(datum.value)))
            elif isinstance(datum, MetricAggregatedDatum):
                found.append(Sample(stamp, float(datum.sample_count), float(datum.sum),
                                    float(datum.min), float(datum.max)))
        return found

    def write_state(self, spec: AlarmSpec, state: str, reason: str, reason_data: str,
                    when: float) -> bool:
        from moto.cloudwatch.models import cloudwatch_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK.hold("cloudwatch"):
            alarm = cloudwatch_backends[spec.account_id][spec.region].alarms.get(spec.name)
            if alarm is None or alarm.state_value != spec.state:
                return False  # deleted, or changed meanwhile (re-evaluated next tick)
            alarm.state_value, alarm.state_reason = state, reason
            alarm.state_reason_data = reason_data or "{}"
            alarm.state_updated_timestamp = _datetime(when)
            return True

    def publish(self, spec: AlarmSpec, topic_arn: str, subject: str, message: str) -> None:
        from moto.sns.models import sns_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        parts = topic_arn.split(":")
        with MOTO_LOCK.hold(*MOTO_LOCK.for_service("sns")):
            sns_backends[parts[4]][parts[3]].publish(message, arn=topic_arn, subject=subject)

    def tick(self, now: float) -> None:
        """Every (scaled) minute, SQS's ApproximateNumberOfMessagesVisible of each queue;
        those older than 15 (emulated) days are dropped, so a long session stays bounded."""
        self._fresh.clear()
        from notifyctl.emulator.metric_store import compact_backends

        compact_backends(time.time())  # bounded datapoints (metric_store.py)
        if now >= self._next_prune:
            self._next_prune = now + max(1.0, self._scale(3600))
            self._prune(now - self._scale(SQS_METRIC_KEPT_S))
        if now < self._next_sqs:
            return
        self._next_sqs = now + max(0.05, self._scale(SQS_METRIC_PERIOD_S))
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.sqs.models import sqs_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        stamp = _datetime(now)
        with MOTO_LOCK.hold("cloudwatch", "sqs"):
            for account, regions in list(sqs_backends.items()):
                for region, backend in list(regions.items()):
                    data = [{"MetricName": SQS_METRIC,
                             "Value": float(queue.approximate_number_of_messages),
                             "Unit": "Count", "Timestamp": stamp,
                             "Dimensions": [{"Name": "QueueName", "Value": queue.name}]}
                            for queue in list(backend.queues.values())]
                    if data:
                        cloudwatch_backends[account][region].put_metric_data("AWS/SQS", data)

    def _prune(self, before: float) -> None:
        """Drop SQS queue metrics stamped before `before`: the list is rewritten only when
        its index says one is (O(new datapoints + series) otherwise)."""
        from notifyctl.emulator.backends import MOTO_LOCK
        from notifyctl.emulator.metric_store import rewrite

        with MOTO_LOCK.hold("cloudwatch"):
            for account, region, backend in _backends():
                oldest = self._index(account, region, backend).oldest("AWS/SQS", SQS_METRIC)
                if oldest is None or oldest >= before:
                    continue
                rewrite(backend.metric_data, [
                    d for d in backend.metric_data
                    if not (d.namespace == "AWS/SQS" and d.name == SQS_METRIC
                            and _epoch(d.timestamp) < before)])
        self._fresh.clear()  # this tick's alarms read the lists as they are after the prune


def apply() -> None:
    from moto.cloudwatch import models, responses
    from moto.core.responses import ActionResult

    CloudWatchBackend: Any = models.CloudWatchBackend  # Any: we assign to its methods
    CloudWatchResponse: Any = responses.CloudWatchResponse
    original_put = CloudWatchBackend.put_metric_alarm
    original_set = CloudWatchBackend.set_alarm_state

    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        previous = self.alarms.get(name)
        alarm = original_put(self, name, *args, **kwargs)
        if previous is not None:
            # AWS: updating an alarm leaves its state unchanged
            alarm.state_value, alarm.state_reason = previous.state_value, previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
        else:
            alarm.state_value, alarm.state_reason = INSUFFICIENT, INITIAL_REASON
        engine = hub().alarms
        if engine is not None:
            engine.created(spec_of(alarm, self.account_id, self.region_name),
                           updated=previous is not None, when=time.time())
        return alarm

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str,
                        state_value: str) -> None:
        engine = hub().alarms
        before = self.alarms.get(alarm_name)
        old = spec_of(before, self.account_id, self.region_name) if before is not None else None
        original_set(self, alarm_name, reason, reason_data, state_value)  # validates
        alarm = self.alarms[alarm_name]
        if engine is None or old is None:
            return
        # moto already wrote the state; put the old one back and let the engine move it,
        # so history and actions happen exactly as for an evaluated change
        alarm.state_value, alarm.state_reason = old.state, old.state_reason
        if old.state != state_value:
            engine.transition(old, state_value, reason, reason_data or "", time.time())
        else:
            alarm.state_reason, alarm.state_reason_data = reason, reason_data or "{}"

    def describe_alarm_history(self: Any) -> Any:
        engine = hub().alarms
        start, end = self._get_param("StartDate"), self._get_param("EndDate")
        items = [] if engine is None else engine.history.query(
            self.current_account, self.region, alarm_name=self._get_param("AlarmName"),
            item_type=self._get_param("HistoryItemType"),
            start=_epoch(start) if start else None, end=_epoch(end) if end else None,
            newest_first=self._get_param("ScanBy", "TimestampDescending") != "TimestampAscending")
        types = self._get_param("AlarmTypes") or ["MetricAlarm"]  # AWS's default
        items = [i for i in items if i.alarm_type in types]
        offset = int(self._get_param("NextToken") or 0)
        limit = int(self._get_param("MaxRecords") or 100)
        page = items[offset:offset + limit]
        result: dict[str, Any] = {"AlarmHistoryItems": [
            {"AlarmName": i.alarm_name, "AlarmType": i.alarm_type,
             "Timestamp": _datetime(i.timestamp), "HistoryItemType": i.item_type,
             "HistorySummary": i.summary, "HistoryData": i.data} for i in page]}
        if offset + limit < len(items):
            result["NextToken"] = str(offset + limit)
        return ActionResult(result)

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
    CloudWatchBackend.set_alarm_state = set_alarm_state
    CloudWatchResponse.describe_alarm_history = describe_alarm_history
