"""The release resources of issue 16 in the Terraform module: the role CodeDeploy
assumes, the alarms that stop a release, the CodeDeploy application and its
deployment group, and the lifecycle hooks (their role, log groups and functions).

As for the rest of the module (export.terraform), every name, tag, policy
document and setting is read from the same `infra.specs.Specs` bootstrap plans
from: `AlarmSpec.params()`, `DeploymentGroupSpec`, `HookSpec.as_api()`, the
CodeDeploy and hook policies. Only the mapping to Terraform arguments lives here.

notifyctl owns what changes with each release: `deploy-lambda` uploads the
release's code to the hook functions (so Terraform ignores their code), and
CodeDeploy deployments are started by notifyctl, never declared here.
"""

from __future__ import annotations

from typing import Any

from notifyctl.export.syntax import (
    Attribute,
    Block,
    Comment,
    Expr,
    Item,
    JsonEncode,
    Ref,
    Resource,
    attrs,
    block,
)
from notifyctl.infra.planner import CODEDEPLOY_POLICY_NAME, HOOK_POLICY_NAME
from notifyctl.infra.specs import GROUP_DEFAULT_CONFIG, AlarmSpec, HookSpec, Specs

# PutMetricAlarm parameter (AlarmSpec.params) -> aws_cloudwatch_metric_alarm argument.
ALARM_ARGUMENTS = {
    "AlarmName": "alarm_name", "AlarmDescription": "alarm_description",
    "Namespace": "namespace", "MetricName": "metric_name", "Dimensions": "dimensions",
    "Statistic": "statistic", "Period": "period", "EvaluationPeriods": "evaluation_periods",
    "DatapointsToAlarm": "datapoints_to_alarm", "Threshold": "threshold",
    "ComparisonOperator": "comparison_operator", "TreatMissingData": "treat_missing_data",
    "ActionsEnabled": "actions_enabled",
}
# CreateFunction parameter (HookSpec.as_api) -> aws_lambda_function argument.
HOOK_ARGUMENTS = {"Role": "role", "Handler": "handler", "Runtime": "runtime",
                  "Timeout": "timeout", "MemorySize": "memory_size"}
# The alarms' resource names in the module, in `release_alarms` order.
ALARM_NAMES = ("errors", "throttles", "failures_visible")
HOOK_NAMES = {"BeforeAllowTraffic": "before_allow_traffic",
              "AfterAllowTraffic": "after_allow_traffic"}


CODEDEPLOY_ROLE = Resource("aws_iam_role", "codedeploy")
CODEDEPLOY_POLICY = Resource("aws_iam_role_policy", "codedeploy")
APPLICATION = Resource("aws_codedeploy_app", "notifier")
DEPLOYMENT_GROUP = Resource("aws_codedeploy_deployment_group", "live")
HOOK_ROLE = Resource("aws_iam_role", "hooks")
HOOK_POLICY = Resource("aws_iam_role_policy", "hooks")


def resources(specs: Specs, *, log_retention: Expr, tags: Expr, package: str) -> list[Block]:
    """The release resources, in bootstrap's order. `log_retention`, `tags` and
    `package` are the module's own (its variable, `local.tags`, the zip's path)."""
    group = specs.deployment_group
    assert group is not None  # build_specs always sets it
    cd_role, cd_policy, app = CODEDEPLOY_ROLE, CODEDEPLOY_POLICY, APPLICATION
    hook_role, hook_policy = HOOK_ROLE, HOOK_POLICY
    alarms = [Resource("aws_cloudwatch_metric_alarm", n)
              for n in ALARM_NAMES[:len(specs.alarms)]]
    env = specs.env
    out = [
        _block(cd_role, attrs(name=env.codedeploy_role_name,
                              assume_role_policy=JsonEncode(specs.codedeploy_trust_policy),
                              tags=tags)),
        _block(cd_policy, attrs(name=CODEDEPLOY_POLICY_NAME, role=cd_role.expr("name"),
                                policy=JsonEncode(specs.codedeploy_policy))),
        *(_alarm(res, spec, tags) for res, spec in zip(alarms, specs.alarms, strict=True)),
        _block(app, attrs(name=group.application, compute_platform="Lambda", tags=tags)),
        _block(DEPLOYMENT_GROUP, [
            *attrs(app_name=app.expr("name"), deployment_group_name=group.name,
                   service_role_arn=cd_role.expr("arn")),
            Comment(("Only a default: every `notifyctl deploy-lambda` names its own strategy "
                     "(release.strategy).",)),
            Attribute("deployment_config_name", GROUP_DEFAULT_CONFIG),
            block("deployment_style", body=attrs(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN")),
            block("alarm_configuration", body=attrs(
                alarms=[a.expr("alarm_name") for a in alarms],
                enabled=group.alarm_configuration()["enabled"],
                ignore_poll_alarm_failure=group.alarm_configuration()[
                    "ignorePollAlarmFailure"])),
            block("auto_rollback_configuration", body=attrs(
                enabled=group.rollback_configuration()["enabled"],
                events=list(group.rollback_configuration()["events"]))),
            Attribute("tags", tags),
            Comment(("CodeDeploy checks that it may assume the role and read the alarms.",)),
            Attribute("depends_on", [Ref(cd_policy.address)]),
        ]),
        _block(hook_role, attrs(name=env.hook_role_name,
                                assume_role_policy=JsonEncode(specs.trust_policy), tags=tags)),
        _block(hook_policy, attrs(name=HOOK_POLICY_NAME, role=hook_role.expr("name"),
                                  policy=JsonEncode(specs.hook_policy))),
    ]
    for hook in specs.hooks:
        logs = Resource("aws_cloudwatch_log_group", HOOK_NAMES[hook.event])
        out += [
            _block(logs, attrs(name=f"/aws/lambda/{hook.name}",
                               retention_in_days=log_retention, tags=tags)),
            _hook_function(Resource("aws_lambda_function", HOOK_NAMES[hook.event]), hook,
                           hook_role, hook_policy, logs, specs, tags, package),
        ]
    return out


def _block(res: Resource, body: list[Item]) -> Block:
    return block("resource", res.type, res.name, body=body)


def _alarm(res: Resource, spec: AlarmSpec, tags: Expr) -> Block:
    params: dict[str, Any] = dict(spec.params())
    unknown = set(params) - set(ALARM_ARGUMENTS)
    if unknown:
        raise KeyError(f"no aws_cloudwatch_metric_alarm argument for {sorted(unknown)}")
    params["Dimensions"] = {d["Name"]: d["Value"] for d in params["Dimensions"]}
    threshold = params["Threshold"]
    params["Threshold"] = int(threshold) if float(threshold).is_integer() else threshold
    return _block(res, [*(Attribute(ALARM_ARGUMENTS[k], value) for k, value in params.items()),
                        Attribute("tags", tags)])


def _hook_function(res: Resource, hook: HookSpec, role: Resource, policy: Resource,
                   logs: Resource, specs: Specs, tags: Expr, package: str) -> Block:
    api = hook.as_api(role.attr("arn"))
    settings = [Attribute(HOOK_ARGUMENTS[k], role.expr("arn") if k == "Role" else api[k])
                for k in HOOK_ARGUMENTS]
    return _block(res, [
        *attrs(function_name=hook.name,
               description=f"notifyctl {hook.event} hook of {specs.env.function_name}"),
        *settings,
        Comment(("The notifier's package with another handler.",)),
        *attrs(filename=package, source_code_hash=Expr(f'filebase64sha256("{package}")')),
        block("environment", body=attrs(variables=dict(api["Environment"]["Variables"]))),
        Attribute("tags", tags),
        Attribute("depends_on", [Ref(logs.address), Ref(policy.address)]),
        block("lifecycle", body=(
            Comment(("`notifyctl deploy-lambda` uploads each release's code to the hooks "
                     "(they test it);",
                     "Terraform creates them from the package beside this file, then leaves "
                     "their code.")),
            Attribute("ignore_changes", [Ref("filename"), Ref("source_code_hash")]),
        )),
    ])
