"""`export terraform`'s module says what bootstrap's specs say.

The module is evaluated here as Terraform would (its `${local.x}` and `${var.x}`
bound to an account and the variables' defaults) and compared with
`build_specs` for the same environment: names, tags, policy documents and the
function's settings must be equal, not merely similar.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from notifyctl.config.loader import load
from notifyctl.config.schema import Environment
from notifyctl.errors import UsageError
from notifyctl.export import terraform
from notifyctl.export.syntax import Attribute, Block, Expr, JsonEncode, Ref
from notifyctl.infra import planner
from notifyctl.infra.bootstrap import Outputs
from notifyctl.infra.specs import build_specs, tags_for

pytestmark = pytest.mark.unit

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "notifyctl" / "config" / "default.yaml"
ACCOUNT, PARTITION = "210987654321", "aws"
ENVS = ("local", "dev", "prod")
# bootstrap's resource kinds -> the Terraform resource types that build them.
TERRAFORM_TYPES = {
    planner.LOG_GROUP: {"aws_cloudwatch_log_group"},
    planner.TABLE: {"aws_dynamodb_table"},
    planner.QUEUE: {"aws_sqs_queue"},
    planner.TOPIC: {"aws_sns_topic"},
    planner.ROLE: {"aws_iam_role", "aws_iam_role_policy"},
    planner.PUBLISHER_POLICY: {"aws_iam_policy"},
    planner.SES_IDENTITY: {"aws_ses_email_identity", "aws_ses_domain_identity"},
    planner.FUNCTION: {"aws_lambda_function"},
    planner.ALIAS: {"aws_lambda_alias"},
    planner.INVOKE_CONFIG: {"aws_lambda_function_event_invoke_config"},
    planner.PERMISSION: {"aws_lambda_permission"},
    planner.SUBSCRIPTION: {"aws_sns_topic_subscription"},
    planner.CODEDEPLOY_ROLE: {"aws_iam_role", "aws_iam_role_policy"},
    planner.ALARM: {"aws_cloudwatch_metric_alarm"},
    planner.CODEDEPLOY_APP: {"aws_codedeploy_app"},
    planner.DEPLOYMENT_GROUP: {"aws_codedeploy_deployment_group"},
    planner.HOOK_ROLE: {"aws_iam_role", "aws_iam_role_policy"},
    planner.HOOK_LOG_GROUP: {"aws_cloudwatch_log_group"},
    planner.HOOK_FUNCTION: {"aws_lambda_function"},
}


def _env(name: str) -> Environment:
    return load(str(DEFAULT_CONFIG), name)[0]


class Evaluated:
    """The module's main file with locals and variables bound, as Terraform would."""

    def __init__(self, env: Environment) -> None:
        self.module = terraform.build(env)
        self.bindings = {"local.account_id": ACCOUNT, "local.region": env.region,
                         "local.partition": PARTITION}
        self.bindings |= {f"var.{v.name}": v.default for v in self.module.variables}
        main = next(f for f in self.module.files if f.name == "main")
        self.blocks = {".".join(b.labels) or b.type: b for b in main.blocks}
        self.bindings["local.tags"] = self.attribute("locals", "tags")

    def value(self, value: Any) -> Any:
        if isinstance(value, JsonEncode):
            return self.value(value.value)
        if isinstance(value, Expr):
            return self.bindings.get(value.text, value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            whole = re.fullmatch(r"\$\{([^{}]+)\}", value)
            if whole and whole.group(1) in self.bindings:
                return self.bindings[whole.group(1)]
            return re.sub(r"\$\{([^{}]+)\}",
                          lambda m: str(self.bindings.get(m.group(1), m.group(0))), value)
        return value

    def attribute(self, address: str, name: str, nested: str | None = None) -> Any:
        body = self.blocks[address].body
        if nested:
            body = next(b for b in body if isinstance(b, Block) and b.type == nested).body
        found = next(a for a in body if isinstance(a, Attribute) and a.name == name)
        return self.value(found.value)


@pytest.mark.parametrize("name", ENVS)
def test_policy_documents_are_bootstraps_own(name: str) -> None:
    env = _env(name)
    module, specs = Evaluated(env), build_specs(env, ACCOUNT, env.region, PARTITION)
    assert module.attribute("aws_sns_topic.book_events", "policy") == specs.topic_policy
    assert module.attribute("aws_iam_role.notifier", "assume_role_policy") == specs.trust_policy
    assert module.attribute("aws_iam_role_policy.notifier", "policy") == specs.function_policy
    assert module.attribute("aws_iam_policy.publisher", "policy") == specs.publisher_policy


@pytest.mark.parametrize("name", ENVS)
def test_names_and_tags_are_bootstraps_own(name: str) -> None:
    env = _env(name)
    module = Evaluated(env)
    assert module.attribute("locals", "tags") == tags_for(env)
    assert {module.attribute(address, attr) for address, attr in (
        ("aws_cloudwatch_log_group.notifier", "name"), ("aws_dynamodb_table.dedup", "name"),
        ("aws_sqs_queue.failures", "name"), ("aws_sns_topic.book_events", "name"),
        ("aws_iam_role.notifier", "name"), ("aws_iam_policy.publisher", "name"),
        ("aws_lambda_function.notifier", "function_name"), ("aws_lambda_alias.live", "name"),
    )} == {env.log_group_name, env.table_name, env.dlq_name, env.topic_name, env.role_name,
           env.publisher_policy_name, env.function_name, env.alias_name}
    every_tagged = [b for b in module.blocks.values() if b.type == "resource" and any(
        isinstance(a, Attribute) and a.name == "tags" for a in b.body)]
    assert all(module.attribute(".".join(b.labels), "tags") == tags_for(env)
               for b in every_tagged)
    # what bootstrap tags (SES identities, inline policies and the rest take none): the 7
    # of the pipeline and issue 16's 11 release resources
    assert len(every_tagged) == 18


@pytest.mark.parametrize("name", ENVS)
def test_the_function_has_bootstraps_settings(name: str) -> None:
    env = _env(name)
    module, wanted = Evaluated(env), build_specs(env, ACCOUNT, env.region).function
    fn = "aws_lambda_function.notifier"
    assert module.attribute(fn, "variables", nested="environment") == wanted.environment
    assert [module.attribute(fn, k) for k in ("runtime", "handler", "memory_size", "timeout")] \
        == [wanted.runtime, wanted.handler, wanted.memory_mb, wanted.timeout_s]


def test_notifyctl_keeps_the_release_terraform_creates_only_the_first() -> None:
    module = Evaluated(_env("local"))

    def ignored(address: str) -> set[str]:
        lifecycle = next(b for b in module.blocks[address].body
                         if isinstance(b, Block) and b.type == "lifecycle")
        refs = next(a for a in lifecycle.body if isinstance(a, Attribute)).value
        assert isinstance(refs, list)
        return {r.text for r in refs if isinstance(r, Ref)}

    assert {"filename", "source_code_hash"} <= ignored("aws_lambda_function.notifier")
    assert {"function_version", "routing_config", "description"} <= ignored(
        "aws_lambda_alias.live")
    assert module.attribute("aws_lambda_function.notifier", "publish") is True


@pytest.mark.parametrize("name", ENVS)
def test_every_resource_bootstrap_creates_has_its_terraform_resource(name: str) -> None:
    env = _env(name)
    types = {address.split(".")[0] for address in terraform.build(env).resources}
    # every kind is exported today (terraform.NOT_EXPORTED is empty)
    assert set(TERRAFORM_TYPES) | terraform.NOT_EXPORTED == set(planner.KINDS)
    assert not set(TERRAFORM_TYPES) & terraform.NOT_EXPORTED
    for kind, wanted in TERRAFORM_TYPES.items():
        assert wanted & types, f"no Terraform resource for bootstrap's {kind}"
    assert ("aws_ses_domain_dkim" in types) == bool(env.sending_domain)


def test_the_sns_permission_is_the_add_permission_call_bootstrap_makes() -> None:
    module = Evaluated(_env("local"))
    address = "aws_lambda_permission.sns"
    assert module.attribute(address, "statement_id") == "notifyctl-sns-invoke"
    assert module.attribute(address, "principal") == "sns.amazonaws.com"
    assert module.attribute(address, "source_account") == ACCOUNT
    assert module.attribute(address, "source_arn") == "${aws_sns_topic.book_events.arn}"
    assert module.attribute(address, "qualifier") == "${aws_lambda_alias.live.name}"


def test_outputs_are_the_ones_bootstrap_prints() -> None:
    for name in ENVS:
        outputs = next(f for f in terraform.build(_env(name)).files if f.name == "outputs")
        bootstrap = Outputs("", "", "", "", "", "").as_dict()
        assert [b.labels[0] for b in outputs.blocks] == list(bootstrap)


def test_the_domain_environment_outputs_every_dns_record_bootstrap_prints() -> None:
    outputs = next(f for f in terraform.build(_env("prod")).files if f.name == "outputs")
    records = next(b for b in outputs.blocks if b.labels == ("dns_records",))
    value = next(a.value for a in records.body if isinstance(a, Attribute) and a.name == "value")
    assert isinstance(value, list)
    assert [r["type"] for r in value] == ["TXT", "CNAME", "CNAME", "CNAME", "TXT", "TXT"]


def test_variables_default_to_the_environments_values() -> None:
    env = _env("prod")
    defaults = {v.name: v.default for v in terraform.build(env).variables}
    assert defaults["prefix"] == env.prefix and defaults["sending_domain"] == env.sending_domain
    assert defaults["function_memory_mb"] == env.function.memory_mb
    assert defaults["deletion_protection"] is env.dedup.deletion_protection
    assert "endpoint_url" not in defaults  # an AWS environment: no emulator endpoints
    assert terraform.variables_for(_env("local"))["endpoint_url"].default == "http://127.0.0.1:4566"


def test_configuration_text_terraform_would_interpolate_is_refused() -> None:
    env = replace(_env("local"), project="books-${oops}")
    with pytest.raises(UsageError, match=r"environment.project"):
        terraform.build(env)


@pytest.mark.parametrize("name", ENVS)
def test_the_release_resources_are_bootstraps_own(name: str) -> None:
    from notifyctl.export.release import ALARM_ARGUMENTS, ALARM_NAMES, HOOK_NAMES

    env = _env(name)
    module, specs = Evaluated(env), build_specs(env, ACCOUNT, env.region, PARTITION)
    assert module.attribute("aws_iam_role.codedeploy", "assume_role_policy") \
        == specs.codedeploy_trust_policy
    assert module.attribute("aws_iam_role_policy.codedeploy", "policy") \
        == specs.codedeploy_policy
    assert module.attribute("aws_iam_role.hooks", "assume_role_policy") == specs.trust_policy
    assert module.attribute("aws_iam_role_policy.hooks", "policy") == specs.hook_policy
    for resource, alarm in zip(ALARM_NAMES, specs.alarms, strict=True):
        address = f"aws_cloudwatch_metric_alarm.{resource}"
        wanted = alarm.params()
        wanted["Dimensions"] = {d["Name"]: d["Value"] for d in wanted["Dimensions"]}
        assert {k: module.attribute(address, arg) for k, arg in ALARM_ARGUMENTS.items()} \
            == wanted
    group = specs.deployment_group
    assert group is not None
    address = "aws_codedeploy_deployment_group.live"
    assert module.attribute(address, "deployment_group_name") == group.name
    assert module.attribute("aws_codedeploy_app.notifier", "name") == group.application
    assert module.attribute(address, "events", nested="auto_rollback_configuration") \
        == list(group.rollback_events)
    alarms = module.attribute(address, "alarms", nested="alarm_configuration")
    assert [a.text for a in alarms] == [f"aws_cloudwatch_metric_alarm.{n}.alarm_name"
                                        for n in ALARM_NAMES]
    for hook in specs.hooks:
        fn = f"aws_lambda_function.{HOOK_NAMES[hook.event]}"
        api = hook.as_api("role")
        assert module.attribute(fn, "function_name") == hook.name
        assert [module.attribute(fn, k) for k in ("handler", "runtime", "timeout",
                                                   "memory_size")] \
            == [api["Handler"], api["Runtime"], api["Timeout"], api["MemorySize"]]
        assert module.attribute(fn, "variables", nested="environment") \
            == api["Environment"]["Variables"]
        assert module.attribute(f"aws_cloudwatch_log_group.{HOOK_NAMES[hook.event]}",
                                "name") == f"/aws/lambda/{hook.name}"
