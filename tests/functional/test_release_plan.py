"""Safe releases against moto: the CodeDeploy/alarm part of bootstrap's plan, its drift,
and the deployment deploy-lambda creates (its AppSpec content)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifyctl.config import load
from notifyctl.infra import bootstrap
from notifyctl.plans.model import CREATE, UNCHANGED, UPDATE
from tests.release_helpers import change_one_line, source_tree

pytestmark = pytest.mark.functional


def write(pipeline_config: Any, tmp_path: Path, **release: Any) -> str:
    path = Path(pipeline_config("t-rel", name="base.yaml"))
    data = yaml.safe_load(path.read_text())
    data["defaults"]["release"] = {"strategy": "canary10-5m", "errors_threshold": 1,
                                   "throttles_threshold": 1, "alarm_period_s": 60, **release}
    out = tmp_path / f"release-{len(release)}-{sorted(release.items())}.yaml"
    out.write_text(yaml.safe_dump(data))
    return str(out)


def steps_of(plan: Any, kind: str) -> list[Any]:
    return [s for s in plan.steps if s.resource == kind]


def test_the_plan_creates_group_alarms_and_role_from_config(
        pipeline_config: Any, tmp_path: Path, aws_clients: Any) -> None:
    env = load(write(pipeline_config, tmp_path, errors_threshold=3, alarm_period_s=120),
               "dev")[0]
    _, plan = bootstrap.plan(aws_clients, env)
    alarms = steps_of(plan, "cloudwatch-alarm")
    assert [s.name for s in alarms] == list(env.alarm_names)
    errors = alarms[0].calls[0].params
    assert (errors["MetricName"], errors["Threshold"], errors["Period"],
            errors["ComparisonOperator"]) == ("Errors", 3.0, 120,
                                              "GreaterThanOrEqualToThreshold")
    assert {"Name": "Resource", "Value": f"{env.function_name}:live"} in errors["Dimensions"]
    queue = alarms[2].calls[0].params
    assert (queue["Namespace"], queue["MetricName"], queue["Threshold"],
            queue["ComparisonOperator"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                             0.0, "GreaterThanThreshold")
    group = steps_of(plan, "deployment-group")[0].calls[0].params
    assert group["alarmConfiguration"]["alarms"] == [{"name": n} for n in env.alarm_names]
    assert group["autoRollbackConfiguration"] == {
        "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM",
                                    "DEPLOYMENT_STOP_ON_REQUEST"]}
    assert group["serviceRoleArn"].endswith(f":role/{env.codedeploy_role_name}")
    role = steps_of(plan, "codedeploy-role")[0]
    trust = json.loads(role.calls[0].params["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    policy = json.loads(role.calls[1].params["PolicyDocument"])
    resources = [r for st in policy["Statement"] for r in st["Resource"]]
    assert "*" not in resources
    assert all(env.prefix in r for r in resources)


def test_a_threshold_change_updates_only_that_alarm(
        pipeline_config: Any, tmp_path: Path, aws_clients: Any) -> None:
    env = load(write(pipeline_config, tmp_path), "dev")[0]
    _, plan = bootstrap.plan(aws_clients, env)
    bootstrap.apply(aws_clients, plan, sleep=lambda _: None)
    changed = load(write(pipeline_config, tmp_path, throttles_threshold=5), "dev")[0]
    _, again = bootstrap.plan(aws_clients, changed)
    actions = {(s.resource, s.name): s.action for s in again.steps}
    assert actions[("cloudwatch-alarm", env.alarm_names[1])] == UPDATE
    assert actions[("cloudwatch-alarm", env.alarm_names[0])] == UNCHANGED
    assert actions[("deployment-group", env.deployment_group_name)] == UNCHANGED
    step = next(s for s in again.steps if s.name == env.alarm_names[1])
    assert step.changes["Threshold"] == (1.0, 5.0)


def test_a_group_changed_by_hand_is_put_back(
        pipeline_config: Any, tmp_path: Path, aws_clients: Any) -> None:
    env = load(write(pipeline_config, tmp_path), "dev")[0]
    _, plan = bootstrap.plan(aws_clients, env)
    bootstrap.apply(aws_clients, plan, sleep=lambda _: None)
    cd = aws_clients.client("codedeploy")
    cd.update_deployment_group(applicationName=env.codedeploy_application_name,
                               currentDeploymentGroupName=env.deployment_group_name,
                               autoRollbackConfiguration={"enabled": False, "events": []})
    _, drifted = bootstrap.plan(aws_clients, env)
    step = next(s for s in drifted.steps if s.resource == "deployment-group")
    assert step.action == UPDATE and "autoRollbackConfiguration" in step.changes
    bootstrap.apply(aws_clients, drifted, sleep=lambda _: None)
    _, fixed = bootstrap.plan(aws_clients, env)
    assert fixed.up_to_date


def test_deploy_with_a_strategy_creates_a_deployment_with_the_appspec(
        pipeline_config: Any, tmp_path: Path, aws_clients: Any) -> None:
    from notifyctl.release import deployments
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build
    from notifyctl.release.watch import appspec_target

    env = load(write(pipeline_config, tmp_path), "dev")[0]
    src = source_tree(tmp_path / "checkout")
    _, plan = bootstrap.plan(aws_clients, env, source=src)
    # (the account's suppression settings exist in a new account: unchanged)
    assert {s.action for s in plan.steps if s.resource != "account-suppression"} == {
        CREATE}
    bootstrap.apply(aws_clients, plan, source=src, sleep=lambda _: None)
    change_one_line(src, "release-2")
    lam, cd = aws_clients.client("lambda"), aws_clients.client("codedeploy")
    target = deployments.target_for(env, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    result = deploy(lam, env.function_name, env.alias_name, build(src),
                    desired_function_config(env), deployment=target, codedeploy=cd,
                    sleep=lambda _: None)
    assert result.version == "2" and result.deployment_id and not result.alias_moved
    # CodeDeploy moves the alias, not deploy-lambda; the alias records where it was
    alias = lam.get_alias(FunctionName=env.function_name, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert "previous=1" in alias["Description"]
    info = cd.get_deployment(deploymentId=result.deployment_id)["deploymentInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert info["revision"]["revisionType"] == "AppSpecContent"
    content = info["revision"]["appSpecContent"]["content"]
    got = appspec_target(content)
    assert (got.function, got.alias, got.current_version, got.target_version) == (
        env.function_name, "live", "1", "2")
    assert yaml.safe_load(content)["version"] == 0.0
