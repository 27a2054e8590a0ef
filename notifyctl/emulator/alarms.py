"""CloudWatch metric alarms that evaluate, on the emulator's clock.

moto stores alarms and never evaluates them. Here a background thread evaluates
every metric alarm as CloudWatch does, on the metrics the emulator writes (Lambda's
Invocations/Errors/Duration/Throttles, SQS ApproximateNumberOfMessagesVisible)
and on whatever clients put with PutMetricData:

    alarm created -> INSUFFICIENT_DATA ("Unchecked: Initial alarm creation")
    each tick     -> the last EvaluationPeriods periods, each reduced to one value by
                     Statistic/ExtendedStatistic, compared with Threshold; ALARM when at
                     least DatapointsToAlarm (default EvaluationPeriods) breach
    state change  -> StateValue/StateReason/StateReasonData updated, a StateUpdate
                     history item, then the actions of the new state (SNS topics get
                     AWS's alarm notification JSON) and an Action history item each

TreatMissingData (AWS's documented meanings; default `missing`):
    breaching     a missing period counts as breaching
    notBreaching  a missing period counts as within the threshold
    missing       every period missing -> INSUFFICIENT_DATA; else judged on those present
    ignore        every period missing -> the state is kept;   else judged on those present

Time mapping (the one delicate part). Metric timestamps are real wall-clock times
(clients compare them with their own clock), while a Period is AWS seconds. A period
of P AWS seconds is a real window of clock.scale(P) seconds; windows are aligned on the
clock's origin (the emulator's start), as AWS aligns periods on the minute:

    real time  origin      +W          +2W         +3W   (W = clock.scale(Period))
               |-- window 0 --|-- window 1 --|-- window 2 --|...
                                    ^ datapoint      ^ now

The evaluation range is the N windows ending with the current one when the current
window already has data (so a breaching datapoint is acted on at the next tick, well
within one period), else the N windows before it (a period that has only just begun
is not "missing"). Each alarm is evaluated twice per period (every
clock.scale(min(Period, 60)) / 2 real seconds; AWS evaluates standard alarms once a
minute) so that the state follows a breaching datapoint within one period, the goal
issue 15 set. Reason texts show the windows' real start times.

Simplifications, stated: alarms on metric math (`Metrics`) and anomaly-detection
operators are stored but not evaluated (they stay INSUFFICIENT_DATA); a period with
fewer datapoints than DatapointsToAlarm is judged on what is present, without AWS's
look-back beyond the evaluation range; EvaluateLowSampleCountPercentile is ignored.

No moto here: the server passes an `AlarmStore` (patches/cloudwatch.py).
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from notifyctl.emulator.clock import Clock

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"
MIN_TICK_S = 0.02  # real seconds: never spin faster than this, whatever the scale

_OPERATORS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
# Statistic names as the SNS notification's Trigger spells them.
NOTIFICATION_STATISTIC = {"SampleCount": "SAMPLE_COUNT", "Average": "AVERAGE", "Sum": "SUM",
                          "Minimum": "MINIMUM", "Maximum": "MAXIMUM"}


@dataclass(frozen=True)
class Sample:
    """One stored datapoint: a single value, or a StatisticSet."""

    timestamp: float  # real epoch seconds
    count: float
    total: float
    minimum: float
    maximum: float
    values: tuple[float, ...] = ()  # the raw values when known (percentiles need them)

    @classmethod
    def of(cls, timestamp: float, value: float) -> Sample:
        return cls(timestamp, 1.0, value, value, value, (value,))


@dataclass(frozen=True)
class AlarmSpec:
    """What the evaluator needs of one metric alarm (a snapshot; moto owns the alarm)."""

    account_id: str
    region: str
    name: str
    arn: str
    namespace: str | None
    metric_name: str | None
    dimensions: tuple[tuple[str, str], ...]
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    statistic: str | None = None
    extended_statistic: str | None = None
    datapoints_to_alarm: int | None = None
    treat_missing: str = "missing"
    state: str = INSUFFICIENT
    state_reason: str = INITIAL_REASON
    description: str | None = None
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    unit: str | None = None
    configuration_updated: float = 0.0
    has_metric_math: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.account_id, self.region, self.name)

    def actions_for(self, state: str) -> tuple[str, ...]:
        return {ALARM: self.alarm_actions, OK: self.ok_actions,
                INSUFFICIENT: self.insufficient_data_actions}.get(state, ())

    def evaluable(self) -> bool:
        return (not self.has_metric_math and bool(self.metric_name) and self.period > 0
                and self.comparison in _OPERATORS
                and bool(self.statistic or self.extended_statistic))


@dataclass(frozen=True)
class Evaluation:
    """An evaluation's verdict: the state it calls for, and why (AWS's wording)."""

    state: str
    reason: str
    reason_data: dict[str, object]


def window(spec: AlarmSpec, clock: Clock) -> float:
    """Real seconds one period of `spec` lasts."""
    return clock.scale(spec.period)


def statistic(spec: AlarmSpec, samples: Sequence[Sample]) -> float | None:
    """One period's value: Statistic or ExtendedStatistic (pNN) over its samples."""
    if not samples:
        return None
    count = sum(s.count for s in samples)
    if spec.extended_statistic:
        values = sorted(v for s in samples for v in s.values)
        if not values:
            return None
        pct = float(spec.extended_statistic.lstrip("pP"))
        rank = max(0, math.ceil(pct / 100.0 * len(values)) - 1)  # nearest-rank percentile
        return values[min(rank, len(values) - 1)]
    name = spec.statistic
    if name == "SampleCount":
        return count
    if name == "Sum":
        return sum(s.total for s in samples)
    if name == "Average":
        return sum(s.total for s in samples) / count if count else None
    if name == "Minimum":
        return min(s.minimum for s in samples)
    if name == "Maximum":
        return max(s.maximum for s in samples)
    return None


def _stamp(epoch: float) -> str:
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(epoch))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + \
        f".{int(epoch * 1000) % 1000:03d}+0000"


def evaluate(spec: AlarmSpec, samples: Sequence[Sample], *, now: float,
             clock: Clock) -> Evaluation | None:
    """The state the alarm should be in at real time `now`, or None to keep its state
    (TreatMissingData=ignore with no data). Pure: no I/O, the clock is a parameter."""
    width = window(spec, clock)
    current = math.floor((now - clock.origin) / width)
    by_window: dict[int, list[Sample]] = {}
    for sample in samples:
        index = math.floor((sample.timestamp - clock.origin) / width)
        if current - spec.evaluation_periods <= index <= current:
            by_window.setdefault(index, []).append(sample)
    last = current if by_window.get(current) else current - 1
    indexes = list(range(last - spec.evaluation_periods + 1, last + 1))
    values = [statistic(spec, by_window.get(i, [])) for i in indexes]
    label, compare = _OPERATORS[spec.comparison]
    needed = spec.datapoints_to_alarm or spec.evaluation_periods
    treat = spec.treat_missing or "missing"
    present = [(i, v) for i, v in zip(indexes, values, strict=True) if v is not None]
    starts = {i: clock.origin + i * width for i in indexes}
    data: dict[str, object] = {
        "version": "1.0", "queryDate": _iso(now),
        "startDate": _iso(starts[indexes[0]]),
        "period": spec.period, "threshold": spec.threshold,
        "recentDatapoints": [v for _, v in reversed(present)],
        "evaluatedDatapoints": [{"timestamp": _iso(starts[i]), "value": v}
                                for i, v in reversed(present)],
    }
    if spec.extended_statistic:
        data["extendedStatistic"] = spec.extended_statistic
    else:
        data["statistic"] = spec.statistic
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return None
        n = len(indexes)
        return Evaluation(INSUFFICIENT, f"Insufficient Data: {n} datapoint"
                          f"{'s were' if n > 1 else ' was'} unknown.", data)
    judged: list[tuple[int, float | None, bool]] = []
    for i, v in zip(indexes, values, strict=True):
        if v is not None:
            judged.append((i, v, compare(v, spec.threshold)))
        elif treat == "breaching":
            judged.append((i, None, True))
        elif treat == "notBreaching":
            judged.append((i, None, False))
    breaching = [(i, v) for i, v, b in judged if b]
    state = ALARM if len(breaching) >= needed else OK
    shown = breaching if state == ALARM else [(i, v) for i, v, b in judged if not b]
    points = ", ".join(f"{v} ({_stamp(starts[i])})" if v is not None else f"missing "
                       f"({_stamp(starts[i])})" for i, v in reversed(shown))
    verb = label if state == ALARM else f"not {label}"
    if len(judged) == 1 and len(indexes) == 1:
        head = f"1 datapoint [{points}] was"
    elif state == ALARM:
        head = f"{len(breaching)} out of the last {len(indexes)} datapoints [{points}] were"
    else:
        head = f"{len(shown)} out of the last {len(indexes)} datapoints [{points}] were"
    reason = f"Threshold Crossed: {head} {verb} the threshold ({spec.threshold})."
    if needed > 1 or spec.evaluation_periods > 1:
        reason = reason[:-1] + f" (minimum {needed} datapoint{'s' if needed > 1 else ''} " \
                               f"for OK -> ALARM transition)."
    return Evaluation(state, reason, data)


# -- history ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    """One DescribeAlarmHistory item."""

    account_id: str
    region: str
    alarm_name: str
    timestamp: float
    item_type: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: str  # JSON text, as AWS returns HistoryData
    alarm_type: str = "MetricAlarm"


class AlarmHistory:
    """Every alarm's history items, newest last. Thread-safe; bounded per alarm."""

    def __init__(self, limit_per_alarm: int = 1000) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, str], list[HistoryItem]] = {}
        self._limit = limit_per_alarm

    def add(self, item: HistoryItem) -> None:
        with self._lock:
            items = self._items.setdefault((item.account_id, item.region, item.alarm_name), [])
            items.append(item)
            del items[:-self._limit]

    def saved(self) -> dict[tuple[str, str, str], list[HistoryItem]]:
        """A copy for the emulator's snapshot (state.py)."""
        with self._lock:
            return {key: list(items) for key, items in self._items.items()}

    def restore(self, items: dict[tuple[str, str, str], list[HistoryItem]]) -> None:
        with self._lock:
            self._items = {key: list(value) for key, value in items.items()}

    def query(self, account_id: str, region: str, *, alarm_name: str | None = None,
              item_type: str | None = None, start: float | None = None,
              end: float | None = None, newest_first: bool = True) -> list[HistoryItem]:
        with self._lock:
            found = [i for (acct, reg, name), items in self._items.items()
                     if acct == account_id and reg == region
                     and (alarm_name is None or name == alarm_name) for i in items]
        found = [i for i in found if (item_type is None or i.item_type == item_type)
                 and (start is None or i.timestamp >= start)
                 and (end is None or i.timestamp <= end)]
        found.sort(key=lambda i: i.timestamp)  # stable: same-time items keep their order
        return found[::-1] if newest_first else found


# -- the engine ---------------------------------------------------------------------


class AlarmStore(Protocol):
    """Where alarms and metrics live (moto's CloudWatch backends in the emulator)."""

    def alarms(self) -> list[AlarmSpec]: ...
    def samples(self, spec: AlarmSpec, since: float) -> list[Sample]: ...
    def write_state(self, spec: AlarmSpec, state: str, reason: str, reason_data: str,
                    when: float) -> bool: ...
    def publish(self, spec: AlarmSpec, topic_arn: str, subject: str, message: str) -> None: ...
    def tick(self, now: float) -> None: ...


@dataclass
class _Due:
    at: float = 0.0


@dataclass
class AlarmEngine:
    """Evaluates every alarm on its own tick; runs state changes' history and actions."""

    store: AlarmStore
    clock: Clock
    history: AlarmHistory = field(default_factory=AlarmHistory)
    wall: Callable[[], float] = time.time
    _due: dict[tuple[str, str, str], _Due] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alarms", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick(self.wall())
            except Exception as exc:  # noqa: BLE001 - the evaluator must keep running
                print(f"emulator: alarm evaluation failed: {exc!r}", file=sys.stderr, flush=True)
            self._stop.wait(max(MIN_TICK_S, self.clock.scale(5)))

    def tick(self, now: float) -> None:
        """Evaluate the alarms whose tick is due at real time `now`."""
        self.store.tick(now)
        specs = self.store.alarms()
        for gone in set(self._due) - {spec.key for spec in specs}:
            del self._due[gone]  # deleted alarms
        for spec in specs:
            if not spec.evaluable():
                continue
            due = self._due.setdefault(spec.key, _Due())
            if now < due.at:
                continue
            due.at = now + max(MIN_TICK_S, self.clock.scale(min(spec.period, 60)) / 2)
            since = now - window(spec, self.clock) * (spec.evaluation_periods + 1)
            verdict = evaluate(spec, self.store.samples(spec, since), now=now, clock=self.clock)
            if verdict is not None and verdict.state != spec.state:
                self.transition(spec, verdict.state, verdict.reason,
                                json.dumps(verdict.reason_data), now)

    def transition(self, spec: AlarmSpec, state: str, reason: str, reason_data: str,
                   when: float) -> None:
        """Move the alarm to `state`: write it, record history, run the state's actions
        (also what SetAlarmState does)."""
        # No engine lock: SetAlarmState calls this holding MOTO_LOCK, and write_state
        # (atomic under MOTO_LOCK, checking the state it expects) settles any race.
        if not self.store.write_state(spec, state, reason, reason_data, when):
            return
        old = {"stateValue": spec.state, "stateReason": spec.state_reason}
        new: dict[str, object] = {"stateValue": state, "stateReason": reason}
        with contextlib.suppress(ValueError):  # SetAlarmState's data is checked by moto
            new["stateReasonData"] = json.loads(reason_data) if reason_data else {}
        self.history.add(HistoryItem(
            spec.account_id, spec.region, spec.name, when, "StateUpdate",
            f"Alarm updated from {spec.state} to {state}",
            json.dumps({"version": "1.0", "oldState": old, "newState": new})))
        if not spec.actions_enabled:
            return
        for action in spec.actions_for(state):
            self._act(spec, action, state, reason, when)

    def _act(self, spec: AlarmSpec, action: str, state: str, reason: str, when: float) -> None:
        if action.split(":")[2:3] != ["sns"]:
            self.history.add(HistoryItem(
                spec.account_id, spec.region, spec.name, when, "Action",
                f"Failed to execute action {action}",
                json.dumps({"actionState": "Failed", "notificationResource": action,
                            "error": "only SNS actions are emulated"})))
            return
        subject, message = notification(spec, state, reason, when)
        try:
            self.store.publish(spec, action, subject, message)
        except Exception as exc:  # noqa: BLE001 - recorded, as AWS records a failed action
            self.history.add(HistoryItem(
                spec.account_id, spec.region, spec.name, when, "Action",
                f"Failed to execute action {action}",
                json.dumps({"actionState": "Failed", "notificationResource": action,
                            "error": str(exc)})))
            return
        self.history.add(HistoryItem(
            spec.account_id, spec.region, spec.name, when, "Action",
            f"Successfully executed action {action}",
            json.dumps({"actionState": "Succeeded", "notificationResource": action,
                        "stateUpdateTimestamp": int(when * 1000)})))

    def created(self, spec: AlarmSpec, updated: bool, when: float) -> None:
        """Record PutMetricAlarm as a ConfigurationUpdate history item."""
        what = "updated" if updated else "created"
        self.history.add(HistoryItem(
            spec.account_id, spec.region, spec.name, when, "ConfigurationUpdate",
            f'Alarm "{spec.name}" {what}',
            json.dumps({"version": "1.0", "type": "Update" if updated else "Create",
                        "updatedAlarm": {"alarmName": spec.name,
                                         "stateValue": spec.state}})))


REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
}


def notification(spec: AlarmSpec, state: str, reason: str, when: float) -> tuple[str, str]:
    """(Subject, Message) of the SNS notification CloudWatch sends for a state change."""
    region = REGION_NAMES.get(spec.region, spec.region)
    trigger: dict[str, object] = {
        "MetricName": spec.metric_name, "Namespace": spec.namespace,
        "StatisticType": "ExtendedStatistic" if spec.extended_statistic else "Statistic",
        "Unit": spec.unit,
        "Dimensions": [{"value": v, "name": n} for n, v in spec.dimensions],
        "Period": spec.period, "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm or spec.evaluation_periods,
        "ComparisonOperator": spec.comparison, "Threshold": spec.threshold,
        "TreatMissingData": spec.treat_missing or "missing",
        "EvaluateLowSampleCountPercentile": "",
    }
    if spec.extended_statistic:
        trigger["ExtendedStatistic"] = spec.extended_statistic
    else:
        trigger["Statistic"] = NOTIFICATION_STATISTIC.get(spec.statistic or "", spec.statistic)
    message = {
        "AlarmName": spec.name, "AlarmDescription": spec.description,
        "AWSAccountId": spec.account_id,
        "AlarmConfigurationUpdatedTimestamp": _iso(spec.configuration_updated or when),
        "NewStateValue": state, "NewStateReason": reason, "StateChangeTime": _iso(when),
        "Region": region, "AlarmArn": spec.arn, "OldStateValue": spec.state,
        "OKActions": list(spec.ok_actions), "AlarmActions": list(spec.alarm_actions),
        "InsufficientDataActions": list(spec.insufficient_data_actions),
        "Trigger": trigger,
    }
    subject = f'{state}: "{spec.name}" in {region}'
    return subject[:100], json.dumps(message)
