"""The CodeDeploy engine, run synchronously against fake ports (no moto, no threads)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifyctl.emulator.clock import Clock
from notifyctl.emulator.codedeploy import (
    PREDEFINED,
    AppSpecError,
    CodeDeployEngine,
    Deployment,
    config_from_request,
    deployment_id,
    parse_appspec,
)

pytestmark = pytest.mark.unit

FAST = Clock(factor=1e-6)  # a 1-hour hook timeout is 3.6 ms
APPSPEC = """
version: 0.0
Resources:
  - notifier:
      Type: AWS::Lambda::Function
      Properties: {Name: fn, Alias: live, CurrentVersion: "1", TargetVersion: "2"}
Hooks:
  - BeforeAllowTraffic: pre-hook
  - AfterAllowTraffic: post-hook
"""


def test_predefined_configs_shift_as_aws_documents() -> None:
    steps = {name: config.steps() for name, config in PREDEFINED.items()}
    assert steps["CodeDeployDefault.LambdaAllAtOnce"] == [(1.0, 0.0)]
    assert steps["CodeDeployDefault.LambdaCanary10Percent5Minutes"] == [(0.1, 300.0),
                                                                        (1.0, 0.0)]
    linear = steps["CodeDeployDefault.LambdaLinear10PercentEvery1Minute"]
    assert [round(w, 2) for w, _ in linear] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert sum(wait for _, wait in linear) == 9 * 60
    for minutes in (5, 10, 15, 30):
        assert f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes" in PREDEFINED
    for name in ("Every1Minute", "Every2Minutes", "Every3Minutes", "Every10Minutes"):
        assert f"CodeDeployDefault.LambdaLinear10Percent{name}" in PREDEFINED


def test_custom_configs_are_validated() -> None:
    canary = config_from_request("c", "Lambda", {"type": "TimeBasedCanary", "timeBasedCanary": {
        "canaryPercentage": 20, "canaryInterval": 15}}, 0.0)
    assert canary.steps() == [(0.2, 900.0), (1.0, 0.0)]
    linear = config_from_request("l", "Lambda", {"type": "TimeBasedLinear", "timeBasedLinear": {
        "linearPercentage": 40, "linearInterval": 1}}, 0.0)
    assert [w for w, _ in linear.steps()] == [0.4, 0.8, 1.0]
    with pytest.raises(ValueError, match="canaryPercentage"):
        config_from_request("x", "Lambda", {"type": "TimeBasedCanary"}, 0.0)
    with pytest.raises(ValueError, match="1-99"):
        config_from_request("x", "Lambda", {"type": "TimeBasedLinear", "timeBasedLinear": {
            "linearPercentage": 100, "linearInterval": 1}}, 0.0)
    with pytest.raises(ValueError, match="Lambda"):
        config_from_request("x", "Server", None, 0.0)


def test_appspec_yaml_and_json() -> None:
    spec = parse_appspec(APPSPEC)
    assert (spec.function, spec.alias, spec.current_version, spec.target_version) == \
        ("fn", "live", "1", "2")
    assert spec.hooks == {"BeforeAllowTraffic": "pre-hook", "AfterAllowTraffic": "post-hook"}
    as_json = json.dumps({"version": 0.0, "Resources": [{"f": {
        "Type": "AWS::Lambda::Function", "Properties": {
            "Name": "fn", "Alias": "live", "CurrentVersion": 3, "TargetVersion": 4}}}]})
    assert parse_appspec(as_json).target_version == "4"
    for bad, why in (("[1, 2", "YAML"), ("version: 0.0", "exactly one"),
                     (APPSPEC.replace("TargetVersion", "Target"), "TargetVersion"),
                     (APPSPEC.replace("AfterAllowTraffic", "AfterInstall"), "AfterInstall")):
        with pytest.raises(AppSpecError, match=why):
            parse_appspec(bad)
    assert deployment_id().startswith("d-") and len(deployment_id()) == 11


class Fakes:
    """Alias, alarms, hooks and the moto sink, recording what the engine does."""

    def __init__(self, hook_reply: str | None = "Succeeded", alias_version: str = "1",
                 alarm_after_routes: int | None = None, stop_after_routes: int | None = None,
                 stop_rollback: bool | None = None) -> None:
        self.routes: list[tuple[str, dict[str, float]]] = []
        self.hook_reply = hook_reply
        self.alias_version_ = alias_version
        self.alarm_after_routes = alarm_after_routes
        self.stop_after_routes, self.stop_rollback = stop_after_routes, stop_rollback
        self.invoked: list[tuple[str, dict[str, Any]]] = []
        self.registered: list[Deployment] = []
        self.engine: CodeDeployEngine | None = None

    def alias_version(self, account_id: str, region: str, function: str,
                      alias: str) -> str | None:
        return self.alias_version_

    def version_exists(self, account_id: str, region: str, function: str, version: str) -> bool:
        return version in ("1", "2")

    def route(self, account_id: str, region: str, function: str, alias: str, version: str,
              weights: dict[str, float]) -> None:
        self.routes.append((version, dict(weights)))
        if self.stop_after_routes is not None and len(self.routes) == self.stop_after_routes:
            assert self.engine is not None
            self.engine.stop(self.deployment, self.stop_rollback)

    def states(self, account_id: str, region: str, names: list[str]) -> dict[str, str | None]:
        firing = self.alarm_after_routes is not None and len(self.routes) >= \
            self.alarm_after_routes
        return dict.fromkeys(names, "ALARM" if firing else "OK")

    def invoke(self, account_id: str, region: str, function: str, payload: str) -> None:
        event = json.loads(payload)
        self.invoked.append((function, event))
        if self.hook_reply is not None:
            assert self.engine is not None
            assert self.engine.report_hook(event["DeploymentId"],
                                           event["LifecycleEventHookExecutionId"],
                                           self.hook_reply) == ""

    def register(self, deployment: Deployment) -> None:
        self.registered.append(deployment)

    def sync(self, deployment: Deployment) -> None:
        pass


def run(fakes: Fakes, config: str = "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        rollback: frozenset[str] = frozenset({"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}),
        appspec: str = APPSPEC) -> Deployment:
    engine = CodeDeployEngine(fakes, fakes, fakes, fakes, FAST, poll_s=0.0)
    fakes.engine = engine
    d = Deployment(deployment_id=deployment_id(), account_id="123456789012",
                   region="us-east-1", application="app", group="group",
                   config=PREDEFINED[config], revision={}, appspec=parse_appspec(appspec),
                   appspec_error=None, alarms=["errors"], ignore_poll_alarm_failure=False,
                   rollback_events=rollback)
    fakes.deployment = d.deployment_id  # type: ignore[attr-defined]
    return engine.run(d)


def events(d: Deployment) -> dict[str, str]:
    return {e.name: e.status for e in d.events}


def test_a_canary_runs_both_hooks_and_shifts_10_percent_then_all() -> None:
    fakes = Fakes()
    d = run(fakes)
    assert d.status == "Succeeded" and d.error is None
    assert fakes.routes == [("1", {"2": 0.1}), ("2", {})]
    assert [f for f, _ in fakes.invoked] == ["pre-hook", "post-hook"]
    assert set(fakes.invoked[0][1]) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert set(events(d).values()) == {"Succeeded"}
    assert d.overview()["Succeeded"] == 1 and d.target_weight == 1.0


def test_a_hook_reporting_failed_fails_before_any_traffic_moves() -> None:
    fakes = Fakes(hook_reply="Failed")
    d = run(fakes)
    assert d.status == "Failed" and d.error is not None
    assert d.error["code"] == "HOOK_EXECUTION_FAILURE"
    assert events(d)["BeforeAllowTraffic"] == "Failed" and events(d)["AllowTraffic"] == "Skipped"
    assert fakes.routes == [("1", {})]  # the rollback: the alias stays on version 1


def test_a_silent_hook_times_out() -> None:
    d = run(Fakes(hook_reply=None))
    assert d.status == "Failed" and d.error is not None
    assert "did not report a status within 60 minutes" in d.error["message"]


def test_an_alarm_during_the_canary_stops_and_rolls_back() -> None:
    fakes = Fakes(alarm_after_routes=1)
    d = run(fakes)
    assert d.status == "Stopped" and d.error is not None and d.error["code"] == "ALARM_ACTIVE"
    assert "Activated alarms: errors" in d.error["message"]
    assert fakes.routes == [("1", {"2": 0.1}), ("1", {})]
    (rollback,) = fakes.registered
    assert rollback.creator == "codeDeployRollback" and rollback.status == "Succeeded"
    assert d.rollback_info == {"rollbackDeploymentId": rollback.deployment_id,
                               "rollbackMessage": d.rollback_info["rollbackMessage"]}


def test_without_auto_rollback_an_alarm_leaves_the_alias_where_it_was() -> None:
    fakes = Fakes(alarm_after_routes=1)
    d = run(fakes, rollback=frozenset())
    assert d.status == "Stopped" and fakes.routes == [("1", {"2": 0.1})]
    assert d.rollback_info is None


def test_stop_deployment_follows_its_auto_rollback_flag() -> None:
    fakes = Fakes(stop_after_routes=1, stop_rollback=True)
    d = run(fakes, rollback=frozenset())
    assert d.status == "Stopped" and d.error is not None and d.error["code"] == "MANUAL_STOP"
    assert fakes.routes[-1] == ("1", {})
    assert fakes.engine is not None
    assert fakes.engine.stop(d.deployment_id, True) == "DeploymentAlreadyCompletedException"


def test_an_alias_not_on_the_current_version_fails_the_deployment() -> None:
    fakes = Fakes(alias_version="7")
    d = run(fakes, rollback=frozenset())
    assert d.status == "Failed" and d.error is not None
    assert d.error["code"] == "INVALID_LAMBDA_CONFIGURATION"
    assert "is 7" in d.error["message"] and fakes.routes == []
