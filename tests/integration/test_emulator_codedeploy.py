"""CodeDeploy Lambda deployments in the emulator, driven with plain boto3.

The session's emulator runs at a time scale of 0.001 (conftest): a 60-minute canary
interval lasts 3.6 s, a 1-hour hook timeout 3.6 s, a 60-second alarm period 60 ms.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration

OK_V1 = """
def handler(event, context):
    return {"version": "one"}
"""

OK_V2 = """
def handler(event, context):
    return {"version": "two"}
"""

RAISES = """
def handler(event, context):
    raise RuntimeError("the new version is broken")
"""

HOOK = """
import os
import boto3

def handler(event, context):
    print("HOOK " + event["DeploymentId"] + " " + event["LifecycleEventHookExecutionId"])
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=os.environ["HOOK_STATUS"])
"""

SILENT_HOOK = """
def handler(event, context):
    return "validated, but forgot to tell CodeDeploy"
"""

FINAL = ("Succeeded", "Failed", "Stopped")


def two_versions(emulator: Any, new_source: str) -> str:
    """A function whose alias `live` points at version 1; version 2 runs `new_source`."""
    from tests.integration.conftest import zip_source

    lam = emulator.client("lambda")
    name = emulator.create_function(OK_V1, publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=zip_source({"app.py": new_source}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    return str(name)


def hook_function(emulator: Any, status: str | None) -> str:
    source = SILENT_HOOK if status is None else HOOK
    env = {"HOOK_STATUS": status} if status else None
    # IAM is enforced for functions: a hook's role must allow reporting its status.
    role = emulator.role_with({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
         "Resource": "*"}]})
    return str(emulator.create_function(source, environment=env, timeout=30,
                                        role=role)["FunctionName"])


def deployment_group(emulator: Any, *, alarms: list[str] | None = None,
                     rollback_events: list[str] | None = None) -> tuple[str, str]:
    cd = emulator.client("codedeploy")
    app = emulator.unique("app")
    cd.create_application(applicationName=app, computePlatform="Lambda")
    group = emulator.unique("group")
    kwargs: dict[str, Any] = {}
    if alarms:
        kwargs["alarmConfiguration"] = {"enabled": True, "alarms": [{"name": a} for a in alarms]}
    if rollback_events:
        kwargs["autoRollbackConfiguration"] = {"enabled": True, "events": rollback_events}
    cd.create_deployment_group(applicationName=app, deploymentGroupName=group,
                               serviceRoleArn=emulator.role_arn(), **kwargs)
    return app, group


def custom_canary(emulator: Any, minutes: int) -> str:
    name = emulator.unique("canary")
    emulator.client("codedeploy").create_deployment_config(
        deploymentConfigName=name, computePlatform="Lambda",
        trafficRoutingConfig={"type": "TimeBasedCanary", "timeBasedCanary": {
            "canaryPercentage": 10, "canaryInterval": minutes}})
    return name


def appspec(function: str, hooks: dict[str, str] | None = None, *, as_json: bool = False) -> str:
    doc: dict[str, Any] = {"version": 0.0, "Resources": [{"fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": function, "Alias": "live", "CurrentVersion": "1",
                       "TargetVersion": "2"}}}]}
    if hooks:
        doc["Hooks"] = [{event: fn} for event, fn in hooks.items()]
    if as_json:
        return json.dumps(doc)
    import yaml

    return str(yaml.safe_dump(doc))


def deploy(emulator: Any, app: str, group: str, spec: str, config: str) -> str:
    return str(emulator.client("codedeploy").create_deployment(
        applicationName=app, deploymentGroupName=group, deploymentConfigName=config,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": spec}},
    )["deploymentId"])


def info(emulator: Any, deployment_id: str) -> dict[str, Any]:
    return dict(emulator.client("codedeploy").get_deployment(
        deploymentId=deployment_id)["deploymentInfo"])


def finished(emulator: Any, deployment_id: str, timeout: float = 30.0) -> dict[str, Any]:
    return dict(emulator.wait_until(
        lambda: (d := info(emulator, deployment_id))["status"] in FINAL and d,
        timeout=timeout, what=f"deployment {deployment_id} to finish"))


def alias(emulator: Any, function: str) -> tuple[str, dict[str, float]]:
    got = emulator.client("lambda").get_alias(FunctionName=function, Name="live")
    return got["FunctionVersion"], (got.get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights") or {}


def lifecycle(emulator: Any, deployment_id: str, function: str) -> dict[str, str]:
    target = emulator.client("codedeploy").get_deployment_target(
        deploymentId=deployment_id, targetId=function)["deploymentTarget"]
    assert target["deploymentTargetType"] == "LambdaTarget"
    return {e["lifecycleEventName"]: e["status"]
            for e in target["lambdaTarget"]["lifecycleEvents"]}


def test_a_canary_with_hooks_shifts_the_alias_step_by_step_and_succeeds(emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    hook = hook_function(emulator, "Succeeded")
    app, group = deployment_group(emulator)
    deployment = deploy(emulator, app, group,
                        appspec(name, {"BeforeAllowTraffic": hook, "AfterAllowTraffic": hook}),
                        custom_canary(emulator, 30))
    assert deployment.startswith("d-") and len(deployment) == 11

    # the canary step: version 1 keeps 90 %, version 2 gets 10 %
    emulator.wait_until(lambda: alias(emulator, name) == ("1", {"2": 0.1}),
                        what="the 10% canary on the alias")
    done = finished(emulator, deployment)

    assert done["status"] == "Succeeded" and done["creator"] == "user"
    assert done["deploymentOverview"]["Succeeded"] == 1
    assert alias(emulator, name) == ("2", {})
    assert lifecycle(emulator, deployment, name) == dict.fromkeys(
        ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"], "Succeeded")
    cd = emulator.client("codedeploy")
    assert cd.list_deployment_targets(deploymentId=deployment)["targetIds"] == [name]
    assert deployment in cd.list_deployments(applicationName=app, deploymentGroupName=group,
                                             includeOnlyStatuses=["Succeeded"])["deployments"]
    result = emulator.client("lambda").invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
    assert result["ExecutedVersion"] == "2"


def test_a_predefined_all_at_once_deployment_from_a_json_appspec(emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    app, group = deployment_group(emulator)
    deployment = deploy(emulator, app, group, appspec(name, as_json=True),
                        "CodeDeployDefault.LambdaAllAtOnce")
    done = finished(emulator, deployment)
    assert done["status"] == "Succeeded", done.get("errorInformation")
    assert alias(emulator, name) == ("2", {})
    assert lifecycle(emulator, deployment, name)["BeforeAllowTraffic"] == "Skipped"


def test_a_failing_target_trips_the_errors_alarm_and_rolls_the_alias_back(emulator: Any) -> None:
    name = two_versions(emulator, RAISES)
    cw, lam = emulator.client("cloudwatch"), emulator.client("lambda")
    alarm = emulator.unique("errors")
    cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors",
                        Dimensions=[{"Name": "FunctionName", "Value": name}], Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=0,
                        ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching")
    app, group = deployment_group(emulator, alarms=[alarm],
                                  rollback_events=["DEPLOYMENT_STOP_ON_ALARM"])
    deployment = deploy(emulator, app, group, appspec(name), custom_canary(emulator, 60))
    emulator.wait_until(lambda: alias(emulator, name)[1] == {"2": 0.1},
                        what="the 10% canary on the alias")

    def traffic_until_stopped() -> bool:
        lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")  # 1 in 10 fails
        return info(emulator, deployment)["status"] in FINAL

    emulator.wait_until(traffic_until_stopped, timeout=30, what="the alarm to stop the deployment")
    done = info(emulator, deployment)

    assert done["status"] == "Stopped"
    assert done["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert alarm in done["errorInformation"]["message"]
    assert alias(emulator, name) == ("1", {})  # rolled back: all traffic on version 1
    rollback = info(emulator, done["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment
    history = cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="StateUpdate")
    assert any(h["HistorySummary"].endswith("to ALARM") for h in history["AlarmHistoryItems"])


def test_a_before_allow_traffic_hook_reporting_failed_fails_without_touching_the_alias(
        emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    app, group = deployment_group(emulator, rollback_events=["DEPLOYMENT_FAILURE"])
    deployment = deploy(emulator, app, group,
                        appspec(name, {"BeforeAllowTraffic": hook_function(emulator, "Failed")}),
                        "CodeDeployDefault.LambdaAllAtOnce")
    done = finished(emulator, deployment)

    assert done["status"] == "Failed"
    assert done["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert alias(emulator, name) == ("1", {})
    events = lifecycle(emulator, deployment, name)
    assert events["BeforeAllowTraffic"] == "Failed" and events["AllowTraffic"] == "Skipped"


def test_a_hook_that_never_reports_times_out_and_fails_the_deployment(emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    app, group = deployment_group(emulator)
    deployment = deploy(emulator, app, group,
                        appspec(name, {"BeforeAllowTraffic": hook_function(emulator, None)}),
                        "CodeDeployDefault.LambdaAllAtOnce")
    done = finished(emulator, deployment, timeout=60)  # 1 hour at 1/1000: 3.6 s

    assert done["status"] == "Failed"
    assert done["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert "did not report" in done["errorInformation"]["message"]
    assert alias(emulator, name) == ("1", {})
    target = emulator.client("codedeploy").get_deployment_target(
        deploymentId=deployment, targetId=name)["deploymentTarget"]["lambdaTarget"]
    before = next(e for e in target["lifecycleEvents"]
                  if e["lifecycleEventName"] == "BeforeAllowTraffic")
    assert before["status"] == "Failed" and before["diagnostics"]["errorCode"] == "UnknownError"


def test_stop_deployment_with_rollback_restores_the_alias(emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    app, group = deployment_group(emulator)
    cd = emulator.client("codedeploy")
    deployment = deploy(emulator, app, group, appspec(name), custom_canary(emulator, 600))
    emulator.wait_until(lambda: alias(emulator, name)[1] == {"2": 0.1},
                        what="the 10% canary on the alias")

    stopped = cd.stop_deployment(deploymentId=deployment, autoRollbackEnabled=True)
    assert stopped["status"] == "Pending"
    done = finished(emulator, deployment)

    assert done["status"] == "Stopped" and done["errorInformation"]["code"] == "MANUAL_STOP"
    assert alias(emulator, name) == ("1", {})
    with pytest.raises(cd.exceptions.DeploymentAlreadyCompletedException):
        cd.stop_deployment(deploymentId=deployment)


def test_a_second_deployment_while_one_runs_is_refused(emulator: Any) -> None:
    name = two_versions(emulator, OK_V2)
    app, group = deployment_group(emulator)
    cd = emulator.client("codedeploy")
    config = custom_canary(emulator, 600)
    first = deploy(emulator, app, group, appspec(name), config)

    with pytest.raises(cd.exceptions.DeploymentLimitExceededException) as refused:
        deploy(emulator, app, group, appspec(name), config)
    assert first in str(refused.value)

    cd.stop_deployment(deploymentId=first, autoRollbackEnabled=False)
    assert finished(emulator, first)["status"] == "Stopped"
    assert alias(emulator, name)[0] == "1"  # no rollback asked: the canary weight stays
    second = deploy(emulator, app, group, appspec(name, as_json=True),
                    "CodeDeployDefault.LambdaAllAtOnce")
    assert finished(emulator, second)["status"] in FINAL


def test_deployment_configs_predefined_and_custom(emulator: Any) -> None:
    cd = emulator.client("codedeploy")
    names = cd.list_deployment_configs()["deploymentConfigsList"]
    for expected in ("CodeDeployDefault.LambdaAllAtOnce",
                     "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                     "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                     "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"):
        assert expected in names
    linear = emulator.unique("linear")
    cd.create_deployment_config(deploymentConfigName=linear, computePlatform="Lambda",
                                trafficRoutingConfig={"type": "TimeBasedLinear", "timeBasedLinear": {
                                    "linearPercentage": 25, "linearInterval": 2}})
    got = cd.get_deployment_config(deploymentConfigName=linear)["deploymentConfigInfo"]
    assert got["trafficRoutingConfig"] == {"type": "TimeBasedLinear", "timeBasedLinear": {
        "linearPercentage": 25, "linearInterval": 2}}
    with pytest.raises(cd.exceptions.DeploymentConfigAlreadyExistsException):
        cd.create_deployment_config(deploymentConfigName=linear, computePlatform="Lambda")
    with pytest.raises(cd.exceptions.InvalidOperationException):
        cd.delete_deployment_config(deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce")
    cd.delete_deployment_config(deploymentConfigName=linear)
    assert linear not in cd.list_deployment_configs()["deploymentConfigsList"]


def test_a_lambda_deployment_group_defaults_and_alarm_configuration(emulator: Any) -> None:
    cd = emulator.client("codedeploy")
    app, group = deployment_group(emulator, alarms=["errors"],
                                  rollback_events=["DEPLOYMENT_STOP_ON_ALARM"])
    got = cd.get_deployment_group(applicationName=app,
                                  deploymentGroupName=group)["deploymentGroupInfo"]
    assert got["deploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert got["alarmConfiguration"]["enabled"] is True
    assert got["alarmConfiguration"]["alarms"] == [{"name": "errors"}]
    assert got["deploymentStyle"] == {"deploymentType": "BLUE_GREEN",
                                      "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    with pytest.raises(cd.exceptions.InvalidAlarmConfigException):
        cd.create_deployment_group(applicationName=app, deploymentGroupName=emulator.unique("g"),
                                   serviceRoleArn=emulator.role_arn(),
                                   alarmConfiguration={"enabled": True, "alarms": []})
