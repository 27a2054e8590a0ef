"""The alarm evaluator and engine, pure: the clock and the store are injected."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from notifyctl.emulator.alarms import (
    ALARM,
    INSUFFICIENT,
    OK,
    AlarmEngine,
    AlarmSpec,
    Sample,
    evaluate,
    notification,
    statistic,
)
from notifyctl.emulator.clock import Clock, resolve

pytestmark = pytest.mark.unit

ORIGIN = 1_000_000.0
CLOCK = Clock(factor=0.01, wall=lambda: ORIGIN, origin=ORIGIN)  # a 60 s period is 0.6 s real
SPEC = AlarmSpec(account_id="123456789012", region="us-east-1", name="errors",
                 arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
                 namespace="AWS/Lambda", metric_name="Errors",
                 dimensions=(("FunctionName", "fn"),), period=60, evaluation_periods=1,
                 threshold=0.0, comparison="GreaterThanThreshold", statistic="Sum")


def at(period: int, offset: float = 0.1) -> float:
    """A real timestamp inside the given period window (0 = the first)."""
    return ORIGIN + period * 0.6 + offset


def test_one_breaching_datapoint_in_the_current_period_is_alarm() -> None:
    verdict = evaluate(SPEC, [Sample.of(at(3), 2.0), Sample.of(at(3, 0.2), 1.0)],
                       now=at(3, 0.3), clock=CLOCK)
    assert verdict is not None and verdict.state == ALARM
    assert verdict.reason.startswith("Threshold Crossed: 1 datapoint [3.0 (")
    assert verdict.reason.endswith("was greater than the threshold (0.0).")
    assert verdict.reason_data["recentDatapoints"] == [3.0]


def test_a_period_that_has_only_just_begun_is_not_missing() -> None:
    # no data yet in period 4: the evaluation range is period 3, which breached
    verdict = evaluate(SPEC, [Sample.of(at(3), 1.0)], now=at(4, 0.01), clock=CLOCK)
    assert verdict is not None and verdict.state == ALARM


def test_missing_data_by_treat_missing_data() -> None:
    now = at(10)
    expected = {"missing": INSUFFICIENT, "breaching": ALARM, "notBreaching": OK}
    for treat, state in expected.items():
        verdict = evaluate(replace(SPEC, treat_missing=treat), [], now=now, clock=CLOCK)
        assert verdict is not None and verdict.state == state, treat
    assert evaluate(replace(SPEC, treat_missing="ignore"), [], now=now, clock=CLOCK) is None


def test_datapoints_to_alarm_m_out_of_n() -> None:
    spec = replace(SPEC, evaluation_periods=3, datapoints_to_alarm=2)
    two_of_three = [Sample.of(at(1), 1.0), Sample.of(at(2), 0.0), Sample.of(at(3), 4.0)]
    verdict = evaluate(spec, two_of_three, now=at(3, 0.3), clock=CLOCK)
    assert verdict is not None and verdict.state == ALARM
    assert "2 out of the last 3 datapoints" in verdict.reason
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in verdict.reason

    one_of_three = [Sample.of(at(1), 0.0), Sample.of(at(2), 0.0), Sample.of(at(3), 4.0)]
    verdict = evaluate(spec, one_of_three, now=at(3, 0.3), clock=CLOCK)
    assert verdict is not None and verdict.state == OK


def test_old_datapoints_outside_the_evaluation_range_do_not_count() -> None:
    verdict = evaluate(SPEC, [Sample.of(at(1), 9.0)], now=at(5), clock=CLOCK)
    assert verdict is not None and verdict.state == INSUFFICIENT


def test_statistics_and_percentiles() -> None:
    samples = [Sample.of(0, v) for v in (1.0, 2.0, 3.0, 10.0)]
    got = {name: statistic(replace(SPEC, statistic=name), samples)
           for name in ("Sum", "Average", "Minimum", "Maximum", "SampleCount")}
    assert got == {"Sum": 16.0, "Average": 4.0, "Minimum": 1.0, "Maximum": 10.0,
                   "SampleCount": 4.0}
    p50 = replace(SPEC, statistic=None, extended_statistic="p50")
    assert statistic(p50, samples) == 2.0
    assert statistic(replace(p50, extended_statistic="p99"), samples) == 10.0
    aggregated = [Sample(0, 4.0, 20.0, 1.0, 9.0)]  # a StatisticSet
    assert statistic(replace(SPEC, statistic="Average"), aggregated) == 5.0


def test_less_than_operators() -> None:
    spec = replace(SPEC, comparison="LessThanOrEqualToThreshold", threshold=1.0,
                   statistic="Minimum")
    verdict = evaluate(spec, [Sample.of(at(2), 1.0)], now=at(2, 0.2), clock=CLOCK)
    assert verdict is not None and verdict.state == ALARM
    assert "less than or equal to the threshold (1.0)" in verdict.reason


def test_the_sns_notification_is_awss_alarm_json() -> None:
    spec = replace(SPEC, alarm_actions=("arn:aws:sns:us-east-1:123456789012:t",),
                   description="errors on fn")
    subject, text = notification(spec, ALARM, "Threshold Crossed: ...", ORIGIN)
    message = json.loads(text)
    assert subject == 'ALARM: "errors" in US East (N. Virginia)'
    assert message["NewStateValue"] == ALARM and message["OldStateValue"] == INSUFFICIENT
    assert message["AlarmArn"] == spec.arn and message["AWSAccountId"] == "123456789012"
    assert message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["StatisticType"] == "Statistic"
    assert message["Trigger"]["Dimensions"] == [{"value": "fn", "name": "FunctionName"}]
    assert message["StateChangeTime"].endswith("+0000")


class FakeStore:
    def __init__(self, spec: AlarmSpec, samples: list[Sample]) -> None:
        self.spec, self.samples_ = spec, samples
        self.published: list[tuple[str, str, str]] = []

    def alarms(self) -> list[AlarmSpec]:
        return [self.spec]

    def samples(self, spec: AlarmSpec, since: float) -> list[Sample]:
        return [s for s in self.samples_ if s.timestamp >= since]

    def write_state(self, spec: AlarmSpec, state: str, reason: str, reason_data: str,
                    when: float) -> bool:
        self.spec = replace(self.spec, state=state, state_reason=reason)
        return True

    def publish(self, spec: AlarmSpec, topic_arn: str, subject: str, message: str) -> None:
        self.published.append((topic_arn, subject, message))

    def tick(self, now: float) -> None:
        pass


def test_the_engine_records_history_and_runs_the_new_states_actions_once() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:t"
    store = FakeStore(replace(SPEC, alarm_actions=(topic,), ok_actions=(topic,)),
                      [Sample.of(at(2), 1.0)])
    engine = AlarmEngine(store, CLOCK)
    engine.tick(at(2, 0.2))
    engine.tick(at(2, 0.4))  # not due yet: no second evaluation
    engine.tick(at(2, 0.5))

    assert store.spec.state == ALARM
    assert [p[1] for p in store.published] == ['ALARM: "errors" in US East (N. Virginia)']
    kinds = [i.item_type for i in engine.history.query("123456789012", "us-east-1")]
    assert kinds == ["Action", "StateUpdate"]  # newest first

    engine.tick(at(5))  # no data since: INSUFFICIENT_DATA (no actions configured for it)
    assert store.spec.state == INSUFFICIENT and len(store.published) == 1


def test_actions_are_not_run_when_disabled_and_non_sns_actions_are_recorded_as_failed() -> None:
    store = FakeStore(replace(SPEC, alarm_actions=("arn:aws:automate:us-east-1:ec2:stop",)),
                      [Sample.of(at(2), 1.0)])
    engine = AlarmEngine(store, CLOCK)
    engine.tick(at(2, 0.2))
    failed = engine.history.query("123456789012", "us-east-1", item_type="Action")
    assert failed[0].summary.startswith("Failed to execute action arn:aws:automate")

    quiet = FakeStore(replace(SPEC, actions_enabled=False,
                              alarm_actions=("arn:aws:sns:us-east-1:1:t",)),
                      [Sample.of(at(2), 1.0)])
    AlarmEngine(quiet, CLOCK).tick(at(2, 0.2))
    assert quiet.spec.state == ALARM and quiet.published == []


def test_the_time_scale_setting_and_its_deprecated_alias() -> None:
    assert resolve(None, {}) == 0.01
    assert resolve(None, {"NOTIFYCTL_EMULATOR_RETRY_SCALE": "0.5"}) == 0.5
    assert resolve(None, {"NOTIFYCTL_EMULATOR_TIME_SCALE": "0.2",
                          "NOTIFYCTL_EMULATOR_RETRY_SCALE": "0.5"}) == 0.2
    assert resolve(0.001, {"NOTIFYCTL_EMULATOR_TIME_SCALE": "0.2"}) == 0.001
    with pytest.raises(ValueError, match="NOTIFYCTL_EMULATOR_TIME_SCALE"):
        resolve(None, {"NOTIFYCTL_EMULATOR_TIME_SCALE": "fast"})
    clock = Clock(factor=0.01, wall=lambda: 110.0, origin=100.0)
    assert clock.scale(60) == pytest.approx(0.6)
    assert clock.aws_seconds(0.6) == pytest.approx(60)
    assert clock.now() == pytest.approx(100.0 + 1000.0)
    with pytest.raises(ValueError):
        Clock(factor=0)
