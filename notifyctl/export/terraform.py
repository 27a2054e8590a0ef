"""bootstrap's desired state of one environment, as a Terraform module.

Everything a name, tag, ARN or policy document says comes from the same
`infra.specs.build_specs` that `bootstrap` plans from, evaluated over symbols
instead of values:

- the account, Region and partition are `${local.account_id}`, `${local.region}`
  and `${local.partition}` (read by data sources, so the module is not tied to
  one account);
- the settings that differ per environment are variables: the string settings
  (environment name, project, prefix, sender, ...) enter the specs as
  `${var.x}`, so every name and policy that contains them follows the variable;
  the numbers and booleans (memory, timeout, retention, PITR, deletion
  protection) are only ever used as whole attribute values and are written as
  `var.x` where the resource sets them. Function variables derived from
  non-string settings (LINK_ALLOWED_HOSTS, ALLOW_HTTP_LINKS,
  DEDUP_RETENTION_HOURS) are this environment's values: export another
  environment for other values.

So the policies are `jsonencode` of the very dicts `infra.policies` builds, and
`terraform apply` of the module leaves nothing for `bootstrap --plan` to do.

Between resources the module uses references (`aws_sqs_queue.failures.arn`)
where a Terraform user would, which also gives Terraform its creation order;
`depends_on` adds the orderings bootstrap keeps that no reference implies.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.errors import UsageError
from notifyctl.export import release
from notifyctl.export.syntax import (
    Attribute,
    Block,
    Comment,
    Expr,
    File,
    Item,
    JsonEncode,
    Ref,
    Resource,
    Value,
    attrs,
    block,
    ref,
)
from notifyctl.infra import dns_records, policies
from notifyctl.infra.specs import (
    FEEDBACK_FILTER_POLICY,
    FEEDBACK_FILTER_SCOPE,
    FEEDBACK_PERMISSION_SID,
    FEEDBACK_POLICY_NAME,
    INLINE_POLICY_NAME,
    MAX_EVENT_AGE_S,
    MAX_RETRY_ATTEMPTS,
    PARTITION_KEY,
    SES_EVENT_TYPES,
    SNS_PERMISSION_SID,
    SUPPRESSED_REASONS,
    TTL_ATTRIBUTE,
    Specs,
    build_specs,
)

PACKAGE_FILE = "book_notifier.zip"
# The provider series the module is written for (tested with 5.100).
PROVIDER_SOURCE = "hashicorp/aws"
PROVIDER_VERSION = "~> 5.0"
# Easy DKIM always gives three tokens (three CNAME records).
DKIM_TOKENS = 3
# Services the module calls, as the provider's `endpoints` block names them.
ENDPOINT_SERVICES = ("cloudwatch", "cloudwatchlogs", "codedeploy", "dynamodb", "iam", "lambda",
                     "ses", "sesv2", "sns", "sqs", "sts")

# SQS attribute (infra.specs queue_attributes) -> aws_sqs_queue argument and type.
QUEUE_ARGUMENTS: dict[str, tuple[str, type]] = {
    "SqsManagedSseEnabled": ("sqs_managed_sse_enabled", bool),
    "MessageRetentionPeriod": ("message_retention_seconds", int),
}
# lambda AddPermission parameter (infra.policies.sns_invoke_permission) -> aws_lambda_permission.
PERMISSION_ARGUMENTS = {
    "StatementId": "statement_id", "Action": "action", "FunctionName": "function_name",
    "Principal": "principal", "SourceArn": "source_arn", "SourceAccount": "source_account",
    "Qualifier": "qualifier",
}

# bootstrap's kinds this module does not write (none today: issue 16's release
# resources are in export.release). A kind listed here is left to `bootstrap`,
# which creates it on top of `terraform apply`.
NOT_EXPORTED: frozenset[str] = frozenset()


LOG_GROUP = Resource("aws_cloudwatch_log_group", "notifier")
TABLE = Resource("aws_dynamodb_table", "dedup")
QUEUE = Resource("aws_sqs_queue", "failures")
TOPIC = Resource("aws_sns_topic", "book_events")
ROLE = Resource("aws_iam_role", "notifier")
ROLE_POLICY = Resource("aws_iam_role_policy", "notifier")
PUBLISHER = Resource("aws_iam_policy", "publisher")
EMAIL_IDENTITY = Resource("aws_ses_email_identity", "sender")
DOMAIN_IDENTITY = Resource("aws_ses_domain_identity", "sender")
DOMAIN_DKIM = Resource("aws_ses_domain_dkim", "sender")
FUNCTION = Resource("aws_lambda_function", "notifier")
ALIAS = Resource("aws_lambda_alias", "live")
INVOKE_CONFIG = Resource("aws_lambda_function_event_invoke_config", "live")
PERMISSION = Resource("aws_lambda_permission", "sns")
SUBSCRIPTION = Resource("aws_sns_topic_subscription", "live")
# The SES feedback loop (issue 17): SESv2 resources, as bootstrap calls SESv2.
EVENTS_TOPIC = Resource("aws_sns_topic", "ses_events")
CONFIGURATION_SET = Resource("aws_sesv2_configuration_set", "notifications")
EVENT_DESTINATION = Resource("aws_sesv2_configuration_set_event_destination", "ses_events")
ACCOUNT_SUPPRESSION = Resource("aws_sesv2_account_suppression_attributes", "account")
FEEDBACK_LOG_GROUP = Resource("aws_cloudwatch_log_group", "feedback")
FEEDBACK_ROLE = Resource("aws_iam_role", "feedback")
FEEDBACK_ROLE_POLICY = Resource("aws_iam_role_policy", "feedback")
FEEDBACK_FUNCTION = Resource("aws_lambda_function", "feedback")
FEEDBACK_PERMISSION = Resource("aws_lambda_permission", "ses_events")
FEEDBACK_SUBSCRIPTION = Resource("aws_sns_topic_subscription", "feedback")


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # a Terraform type: string, number, bool
    default: Any
    description: str

    @property
    def ref(self) -> str:
        return ref(f"var.{self.name}")

    @property
    def expr(self) -> Expr:
        return Expr(f"var.{self.name}")


@dataclass(frozen=True)
class Module:
    env: Environment
    specs: Specs  # symbolic: names and ARNs contain ${var.x} / ${local.x}
    variables: tuple[Variable, ...]
    files: tuple[File, ...]

    @property
    def resources(self) -> list[str]:
        return [".".join(b.labels) for f in self.files for b in f.blocks if b.type == "resource"]


def variables_for(env: Environment) -> dict[str, Variable]:
    """The settings that differ per environment, with this environment's values."""
    fn, dedup = env.function, env.dedup
    found = [
        Variable("region", "string", env.region, "AWS Region of the environment."),
        Variable("aws_profile", "string", env.profile,
                 "AWS profile (null: the default credential chain)."),
    ]
    if env.endpoint_url:
        found.append(Variable("endpoint_url", "string", env.endpoint_url,
                              "An emulator's URL (notifyctl local start); null for AWS."))
    found += [
        Variable("environment", "string", env.name,
                 "notifyctl environment name: the notifyctl:env tag that marks the resources "
                 "as that environment's (operate them with `notifyctl --env <this>`)."),
        Variable("project", "string", env.project, "Value of the notifyctl:project tag."),
        Variable("prefix", "string", env.prefix, "Every resource name starts with it."),
        Variable("sender", "string", env.sender, "The From address (verified in SES)."),
    ]
    if env.sending_domain:
        found.append(Variable("sending_domain", "string", env.sending_domain,
                              "The SES domain identity (Easy DKIM)."))
    found += [
        Variable("function_runtime", "string", fn.runtime, "The function's Lambda runtime."),
        Variable("function_memory_mb", "number", fn.memory_mb, "The function's memory (MB)."),
        Variable("function_timeout_s", "number", fn.timeout_s, "The function's timeout (s)."),
        Variable("log_level", "string", fn.log_level, "The function's LOG_LEVEL."),
        Variable("log_retention_days", "number", fn.log_retention_days,
                 "Retention of the function's log group (days)."),
        Variable("point_in_time_recovery", "bool", dedup.point_in_time_recovery,
                 "Point-in-time recovery on the de-duplication table."),
        Variable("deletion_protection", "bool", dedup.deletion_protection,
                 "Deletion protection on the de-duplication table (turn it off before "
                 "`terraform destroy`)."),
    ]
    return {v.name: v for v in found}


def symbolic_environment(env: Environment, variables: dict[str, Variable]) -> Environment:
    """The environment with its string settings replaced by `${var.x}`."""
    _refuse_templates(env)
    v = variables
    return replace(
        env, name=v["environment"].ref, project=v["project"].ref, prefix=v["prefix"].ref,
        sender=v["sender"].ref,
        sending_domain=v["sending_domain"].ref if env.sending_domain else None,
        function=replace(env.function, runtime=v["function_runtime"].ref,
                         log_level=v["log_level"].ref))


def _refuse_templates(value: Any, path: str = "environment") -> None:
    """Configuration text that Terraform would read as `${...}`/`%{...}` is refused
    (no valid setting contains it; escaping it would differ between the formats)."""
    if is_dataclass(value):
        for f in fields(value):
            _refuse_templates(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            _refuse_templates(item, f"{path}[{i}]")
    elif isinstance(value, str) and ("${" in value or "%{" in value):
        raise UsageError(f"{path}: {value!r} contains a Terraform template sequence "
                         "(${ or %{); it cannot be exported")


def build(env: Environment) -> Module:
    variables = variables_for(env)
    specs = build_specs(symbolic_environment(env, variables), account=ref("local.account_id"),
                        region=ref("local.region"), partition=ref("local.partition"))
    v = variables
    main = File("main", _header(env, "the pipeline's resources, as `notifyctl bootstrap` "
                                     "creates them"),
                (_terraform_block(), _provider(v), *_data_sources(), _locals(specs),
                 *_resources(specs, v)))
    variables_file = File("variables", _header(env, "the settings that differ per environment"),
                          tuple(_variable(var) for var in v.values()))
    outputs = File("outputs", _header(env, "what `notifyctl bootstrap` prints"),
                   _outputs(specs))
    return Module(env, specs, tuple(v.values()), (main, variables_file, outputs))


def _header(env: Environment, what: str) -> tuple[str, ...]:
    return (f"notifyctl environment {env.name!r}: {what}.",
            "Generated by `notifyctl export terraform`: names, tags and policy documents are",
            "notifyctl's own, so `notifyctl status` calls every resource ours and",
            "`notifyctl bootstrap --plan` has nothing to do.")


def _terraform_block() -> Block:
    return block("terraform", body=[
        block("required_providers", body=attrs(
            aws={"source": PROVIDER_SOURCE, "version": PROVIDER_VERSION})),
    ])


def _provider(v: dict[str, Variable]) -> Block:
    body: list[Item] = attrs(region=v["region"].expr, profile=v["aws_profile"].expr)
    if "endpoint_url" in v:
        endpoint = v["endpoint_url"].expr
        on_emulator = Expr(f"{endpoint.text} != null")
        body += [
            Comment(("notifyctl's emulator (`notifyctl local start`) answers every service "
                     "used here", "on one endpoint; endpoint_url = null means AWS itself.")),
            block("endpoints", body=[Attribute(s, endpoint) for s in ENDPOINT_SERVICES]),
            Comment(("An emulator has no credentials to validate and no instance metadata. "
                     "The account ID",
                     "is still requested (STS GetCallerIdentity, which the emulator answers): "
                     "the policies'",
                     "ARNs are built from it, so skip_requesting_account_id stays false.")),
            Attribute("skip_credentials_validation", on_emulator),
            Attribute("skip_metadata_api_check", on_emulator),
        ]
    return block("provider", "aws", body=body)


def _data_sources() -> tuple[Block, ...]:
    return (block("data", "aws_caller_identity", "current"),
            block("data", "aws_partition", "current"),
            block("data", "aws_region", "current"))


def _locals(specs: Specs) -> Block:
    return block("locals", body=[
        *attrs(account_id=Expr("data.aws_caller_identity.current.account_id"),
               partition=Expr("data.aws_partition.current.partition"),
               region=Expr("data.aws_region.current.name")),
        Comment(("The tags that make notifyctl call a resource this environment's.",)),
        Attribute("tags", dict(specs.tags)),
    ])


def _resource(res: Resource, body: list[Item]) -> Block:
    return block("resource", res.type, res.name, body=body)


TAGS = Expr("local.tags")


def _resources(specs: Specs, v: dict[str, Variable]) -> list[Block]:
    env = specs.env
    blocks = [
        _resource(LOG_GROUP, attrs(name=env.log_group_name,
                                   retention_in_days=v["log_retention_days"].expr, tags=TAGS)),
        _table(specs, v),
        _resource(QUEUE, [Attribute("name", env.dlq_name), *_queue_arguments(specs),
                          Attribute("tags", TAGS)]),
        _resource(TOPIC, attrs(name=env.topic_name, policy=JsonEncode(specs.topic_policy),
                               tags=TAGS)),
        _resource(ROLE, attrs(name=env.role_name,
                              assume_role_policy=JsonEncode(specs.trust_policy), tags=TAGS)),
        _resource(ROLE_POLICY, attrs(name=INLINE_POLICY_NAME, role=ROLE.expr("name"),
                                     policy=JsonEncode(specs.function_policy))),
        _resource(PUBLISHER, [
            Comment(("Attach it to the web app's role: publish to this topic only.",)),
            *attrs(name=env.publisher_policy_name, policy=JsonEncode(specs.publisher_policy),
                   tags=TAGS)]),
        *_ses_identity(specs),
        *_ses_feedback(specs),
        _function(specs, v),
        _alias(specs),
        _invoke_config(),
        _resource(PERMISSION, [Attribute(PERMISSION_ARGUMENTS[k], value)
                               for k, value in _permission(specs).items()]),
        _resource(SUBSCRIPTION, [
            *attrs(topic_arn=TOPIC.expr("arn"), protocol="lambda",
                   endpoint=ALIAS.expr("arn")),
            Attribute("depends_on", [Ref(PERMISSION.address)]),
        ]),
        *_feedback_function(specs, v),
    ]
    return blocks + release.resources(specs, log_retention=v["log_retention_days"].expr,
                                      tags=TAGS, package=f"${{path.module}}/{PACKAGE_FILE}")


def _ses_feedback(specs: Specs) -> list[Block]:
    """The configuration set, its SNS event destination and topic, and the account's
    suppression attributes (before the function: every send names the set)."""
    env = specs.env
    return [
        _resource(EVENTS_TOPIC, attrs(name=env.ses_events_topic_name,
                                      policy=JsonEncode(specs.ses_events_topic_policy),
                                      tags=TAGS)),
        _resource(CONFIGURATION_SET, [
            Attribute("configuration_set_name", env.configuration_set_name),
            block("reputation_options", body=attrs(reputation_metrics_enabled=True)),
            block("sending_options", body=attrs(sending_enabled=True)),
            Attribute("tags", TAGS)]),
        _resource(EVENT_DESTINATION, [
            *attrs(configuration_set_name=CONFIGURATION_SET.expr("configuration_set_name"),
                   event_destination_name=env.event_destination_name),
            block("event_destination", body=[
                *attrs(enabled=True, matching_event_types=list(SES_EVENT_TYPES)),
                block("sns_destination", body=attrs(topic_arn=EVENTS_TOPIC.expr("arn")))]),
        ]),
        _resource(ACCOUNT_SUPPRESSION, [
            Comment(("ACCOUNT-WIDE: every email this account sends in this Region (other "
                     "applications too)",
                     "is suppressed to addresses that bounced or complained.")),
            Attribute("suppressed_reasons", [str(r) for r in sorted(SUPPRESSED_REASONS)])]),
    ]


def _feedback_function(specs: Specs, v: dict[str, Variable]) -> list[Block]:
    """The feedback function, its role, log group, permission and subscription."""
    env, spec = specs.env, specs.feedback
    assert spec is not None  # build_specs always sets it
    wanted = spec.as_api(FEEDBACK_ROLE.attr("arn"))
    package = f"${{path.module}}/{PACKAGE_FILE}"
    permission = policies.sns_invoke_permission(
        function_name=FEEDBACK_FUNCTION.attr("function_name"), qualifier=None,
        statement_id=FEEDBACK_PERMISSION_SID, topic_arn=EVENTS_TOPIC.attr("arn"),
        account=specs.account)
    return [
        _resource(FEEDBACK_LOG_GROUP, attrs(name=env.feedback_log_group_name,
                                            retention_in_days=v["log_retention_days"].expr,
                                            tags=TAGS)),
        _resource(FEEDBACK_ROLE, attrs(name=env.feedback_role_name,
                                       assume_role_policy=JsonEncode(specs.trust_policy),
                                       tags=TAGS)),
        _resource(FEEDBACK_ROLE_POLICY, attrs(name=FEEDBACK_POLICY_NAME,
                                              role=FEEDBACK_ROLE.expr("name"),
                                              policy=JsonEncode(specs.feedback_policy))),
        _resource(FEEDBACK_FUNCTION, [
            *attrs(function_name=spec.name, role=FEEDBACK_ROLE.expr("arn"),
                   runtime=wanted["Runtime"], handler=wanted["Handler"],
                   memory_size=wanted["MemorySize"], timeout=wanted["Timeout"],
                   description=f"notifyctl SES feedback of {env.function_name}"),
            *attrs(filename=package, source_code_hash=Expr(f'filebase64sha256("{package}")')),
            block("environment", body=attrs(variables=dict(spec.environment))),
            Attribute("tags", TAGS),
            Attribute("depends_on", [Ref(FEEDBACK_LOG_GROUP.address),
                                     Ref(FEEDBACK_ROLE_POLICY.address)]),
            block("lifecycle", body=[
                Comment(("`notifyctl deploy-lambda` ships its code with the notifier's.",)),
                Attribute("ignore_changes", [Ref("filename"), Ref("source_code_hash")]),
            ]),
        ]),
        _resource(FEEDBACK_PERMISSION, [Attribute(PERMISSION_ARGUMENTS[k], value)
                                        for k, value in permission.items()]),
        _resource(FEEDBACK_SUBSCRIPTION, [
            *attrs(topic_arn=EVENTS_TOPIC.expr("arn"), protocol="lambda",
                   endpoint=FEEDBACK_FUNCTION.expr("arn"),
                   filter_policy_scope=FEEDBACK_FILTER_SCOPE),
            Attribute("filter_policy", JsonEncode(FEEDBACK_FILTER_POLICY)),
            Attribute("depends_on", [Ref(FEEDBACK_PERMISSION.address)]),
        ]),
    ]


def _table(specs: Specs, v: dict[str, Variable]) -> Block:
    return _resource(TABLE, [
        *attrs(name=specs.env.table_name, billing_mode="PAY_PER_REQUEST", hash_key=PARTITION_KEY,
               deletion_protection_enabled=v["deletion_protection"].expr),
        block("attribute", body=attrs(name=PARTITION_KEY, type="S")),
        Comment(("Each record expires after dedup.retention_hours (written by the function).",)),
        block("ttl", body=attrs(attribute_name=TTL_ATTRIBUTE, enabled=True)),
        block("point_in_time_recovery", body=attrs(enabled=v["point_in_time_recovery"].expr)),
        Attribute("tags", TAGS),
    ])


def _queue_arguments(specs: Specs) -> list[Item]:
    out: list[Item] = []
    for key, value in specs.queue_attributes.items():
        if key not in QUEUE_ARGUMENTS:
            raise KeyError(f"no aws_sqs_queue argument for the SQS attribute {key}")
        name, kind = QUEUE_ARGUMENTS[key]
        out.append(Attribute(name, value.lower() == "true" if kind is bool else int(value)))
    return out


def _ses_identity(specs: Specs) -> list[Block]:
    if specs.ses_identity_kind == "domain":
        return [_resource(DOMAIN_IDENTITY, attrs(domain=specs.ses_identity)),
                _resource(DOMAIN_DKIM, attrs(domain=DOMAIN_IDENTITY.expr("domain")))]
    return [_resource(EMAIL_IDENTITY, [
        Comment(("SES sends a verification email to this address.",)),
        Attribute("email", specs.ses_identity)])]


def _function(specs: Specs, v: dict[str, Variable]) -> Block:
    fn = specs.function
    package = f"${{path.module}}/{PACKAGE_FILE}"
    return _resource(FUNCTION, [
        *attrs(function_name=specs.env.function_name, description=specs.description,
               role=ROLE.expr("arn"), runtime=fn.runtime, handler=fn.handler,
               memory_size=v["function_memory_mb"].expr, timeout=v["function_timeout_s"].expr),
        Comment(("The reproducible package of lambda_src (`notifyctl deploy-lambda "
                 "--package-only`).",)),
        *attrs(filename=package, source_code_hash=Expr(f'filebase64sha256("{package}")')),
        Comment(("Publish version 1 for `live`, as bootstrap does.",)),
        Attribute("publish", True),
        block("environment", body=attrs(variables=dict(fn.environment))),
        Attribute("tags", TAGS),
        Comment(("The log group first (with its retention and tags), and the role's policy "
                 "before the",
                 "first invocation.")),
        Attribute("depends_on", [Ref(LOG_GROUP.address), Ref(ROLE_POLICY.address),
                                 Ref(CONFIGURATION_SET.address)]),
        block("lifecycle", body=[
            Comment(("notifyctl owns releases: `deploy-lambda` uploads the code and publishes "
                     "versions",
                     "(`--force` stamps the description). Terraform creates the function from "
                     "the package",
                     "beside this file, then leaves its code to notifyctl.")),
            Attribute("ignore_changes", [Ref("filename"), Ref("source_code_hash"),
                                         Ref("description")]),
        ]),
    ])


def _alias(specs: Specs) -> Block:
    return _resource(ALIAS, [
        *attrs(name=specs.env.alias_name, function_name=FUNCTION.expr("function_name"),
               function_version=FUNCTION.expr("version")),
        block("lifecycle", body=[
            Comment(("`notifyctl deploy-lambda` and `rollback` move `live` (and record the "
                     "version it left",
                     "in its description); Terraform must not move it back.")),
            Attribute("ignore_changes", [Ref("function_version"), Ref("routing_config"),
                                         Ref("description")]),
        ]),
    ])


def _invoke_config() -> Block:
    return _resource(INVOKE_CONFIG, [
        *attrs(function_name=FUNCTION.expr("function_name"), qualifier=ALIAS.expr("name"),
               maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
               maximum_event_age_in_seconds=MAX_EVENT_AGE_S),
        block("destination_config", body=[
            block("on_failure", body=attrs(destination=QUEUE.expr("arn")))]),
        Comment(("Lambda checks that the role may send to the destination.",)),
        Attribute("depends_on", [Ref(ROLE_POLICY.address)]),
    ])


def _permission(specs: Specs) -> dict[str, Value]:
    params = policies.sns_invoke_permission(
        function_name=FUNCTION.attr("function_name"), qualifier=ALIAS.attr("name"),
        statement_id=SNS_PERMISSION_SID, topic_arn=TOPIC.attr("arn"),
        account=specs.account)
    unknown = set(params) - set(PERMISSION_ARGUMENTS)
    if unknown:
        raise KeyError(f"no aws_lambda_permission argument for {sorted(unknown)}")
    return dict(params)


def _variable(var: Variable) -> Block:
    return block("variable", var.name, body=attrs(
        description=var.description, type=Ref(var.type), default=var.default))


def _outputs(specs: Specs) -> tuple[Block, ...]:
    if specs.ses_identity_kind == "domain":
        identity: Value = DOMAIN_IDENTITY.expr("domain")
        records = dns_records.domain_records(
            specs.ses_identity, DOMAIN_IDENTITY.attr("verification_token"),
            [ref(f"{DOMAIN_DKIM.address}.dkim_tokens[{i}]") for i in range(DKIM_TOKENS)])
    else:
        identity, records = EMAIL_IDENTITY.expr("email"), []
    values: dict[str, tuple[str, Value]] = {
        "topic_arn": ("The topic the web app publishes book events to.", TOPIC.expr("arn")),
        "publisher_policy_arn": ("Attach this policy to the web app's role.",
                                 PUBLISHER.expr("arn")),
        "alias_arn": ("What SNS invokes.", ALIAS.expr("arn")),
        "failure_queue_arn": ("Events that failed after Lambda's retries.", QUEUE.expr("arn")),
        "table": ("The de-duplication table.", TABLE.expr("name")),
        "ses_identity": ("The SES identity the function sends from.", identity),
        "dns_records": ("DNS records to publish for the sending domain (none for an email "
                        "identity).", [dict(r.as_dict()) for r in records]),
    }
    return tuple(block("output", name, body=attrs(description=text, value=value))
                 for name, (text, value) in values.items())
