"""What the pipeline's infrastructure should be, as data.

`build_specs(env, account, region, partition)` computes every name, ARN, tag and
policy document of one environment without calling AWS. The planner compares
these specifications with what exists; nothing here knows how to create them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.infra import policies
from notifyctl.release.function_spec import FunctionConfig, desired_function_config

MANAGED_BY = "notifyctl"
TAG_MANAGED_BY = "managed-by"
TAG_ENV = "notifyctl:env"
TAG_PROJECT = "notifyctl:project"

# Sid of the statement that lets SNS invoke the alias (Lambda resource policy).
SNS_PERMISSION_SID = "notifyctl-sns-invoke"
INLINE_POLICY_NAME = "notifier"
# Lambda asynchronous invocation: retries and event age (6 h is Lambda's maximum).
MAX_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_S = 6 * 3600
# SQS: 14 days, the longest SQS keeps a message.
QUEUE_RETENTION_S = 14 * 24 * 3600
TTL_ATTRIBUTE = "expires_at"
PARTITION_KEY = "pk"


def tags_for(env: Environment) -> dict[str, str]:
    """The tags that mark a resource as this environment's."""
    return {TAG_MANAGED_BY: MANAGED_BY, TAG_ENV: env.name, TAG_PROJECT: env.project}


def is_ours(tags: dict[str, str] | None, env: Environment) -> bool:
    """True when a resource carries this environment's ownership tags.

    The project tag is not required for ownership (an older resource may lack it:
    the planner then adds it), but managed-by and the environment name are.
    """
    tags = tags or {}
    return tags.get(TAG_MANAGED_BY) == MANAGED_BY and tags.get(TAG_ENV) == env.name


@dataclass(frozen=True)
class Arns:
    partition: str
    region: str
    account: str
    env: Environment

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account}:{resource}")

    @property
    def topic(self) -> str:
        return self._arn("sns", self.env.topic_name)

    @property
    def table(self) -> str:
        return self._arn("dynamodb", f"table/{self.env.table_name}")

    @property
    def queue(self) -> str:
        return self._arn("sqs", self.env.dlq_name)

    @property
    def log_group(self) -> str:
        """The log group's ARN without the trailing `:*` (the tagging form)."""
        return self._arn("logs", f"log-group:{self.env.log_group_name}")

    @property
    def log_streams(self) -> str:
        """Every log stream of the group: what CreateLogStream/PutLogEvents authorise on."""
        return self.log_group + ":*"

    @property
    def role(self) -> str:
        return self._arn("iam", f"role/{self.env.role_name}", region=False)

    @property
    def publisher_policy(self) -> str:
        return self._arn("iam", f"policy/{self.env.publisher_policy_name}", region=False)

    @property
    def function(self) -> str:
        return self._arn("lambda", f"function:{self.env.function_name}")

    @property
    def alias(self) -> str:
        return f"{self.function}:{self.env.alias_name}"

    def ses_identity(self, identity: str) -> str:
        return self._arn("ses", f"identity/{identity}")

    @property
    def codedeploy_role(self) -> str:
        return self._arn("iam", f"role/{self.env.codedeploy_role_name}", region=False)

    @property
    def codedeploy_application(self) -> str:
        return self._arn("codedeploy", f"application:{self.env.codedeploy_application_name}")

    @property
    def deployment_group(self) -> str:
        return self._arn("codedeploy", f"deploymentgroup:{self.env.codedeploy_application_name}"
                                       f"/{self.env.deployment_group_name}")

    @property
    def hook_role(self) -> str:
        return self._arn("iam", f"role/{self.env.hook_role_name}", region=False)

    @property
    def ses_events_topic(self) -> str:
        return self._arn("sns", self.env.ses_events_topic_name)

    @property
    def configuration_set(self) -> str:
        return self._arn("ses", f"configuration-set/{self.env.configuration_set_name}")

    @property
    def feedback_role(self) -> str:
        return self._arn("iam", f"role/{self.env.feedback_role_name}", region=False)

    @property
    def feedback_function(self) -> str:
        return self.function_named(self.env.feedback_function_name)

    def function_named(self, name: str) -> str:
        return self._arn("lambda", f"function:{name}")

    def log_streams_of(self, function_name: str) -> str:
        return self._arn("logs", f"log-group:/aws/lambda/{function_name}:*")

    def alarm(self, name: str) -> str:
        return self._arn("cloudwatch", f"alarm:{name}")

    @property
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"


# What stops a release (CodeDeploy rolls back on each of these events).
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM",
                   "DEPLOYMENT_STOP_ON_REQUEST")
# The group's own config is only a default: every deployment names its strategy.
GROUP_DEFAULT_CONFIG = "CodeDeployDefault.LambdaAllAtOnce"
# SQS sends its metrics once a minute: a shorter alarm period would see gaps.
SQS_MIN_PERIOD_S = 60


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm that stops a release; `params()` is PutMetricAlarm's input
    minus the tags (which PutMetricAlarm ignores on an update anyway)."""

    name: str
    description: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int
    threshold: float
    comparison: str

    def params(self) -> dict[str, Any]:
        return {"AlarmName": self.name, "AlarmDescription": self.description,
                "Namespace": self.namespace, "MetricName": self.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                "Statistic": self.statistic, "Period": self.period_s,
                "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
                "Threshold": self.threshold, "ComparisonOperator": self.comparison,
                "TreatMissingData": "notBreaching", "ActionsEnabled": False}


@dataclass(frozen=True)
class DeploymentGroupSpec:
    application: str
    name: str
    service_role_arn: str
    alarms: tuple[str, ...]
    rollback_events: tuple[str, ...] = ROLLBACK_EVENTS

    def alarm_configuration(self) -> dict[str, Any]:
        return {"enabled": True, "ignorePollAlarmFailure": False,
                "alarms": [{"name": a} for a in self.alarms]}

    def rollback_configuration(self) -> dict[str, Any]:
        return {"enabled": True, "events": list(self.rollback_events)}


HOOK_HANDLERS = ("book_notifier.hooks.before_allow_traffic",
                 "book_notifier.hooks.after_allow_traffic")
HOOK_EVENTS = ("BeforeAllowTraffic", "AfterAllowTraffic")
HOOK_TIMEOUT_S = 60
HOOK_MEMORY_MB = 128


@dataclass(frozen=True)
class HookSpec:
    """A lifecycle hook function: the notifier's package with another handler."""

    event: str  # BeforeAllowTraffic / AfterAllowTraffic
    name: str
    handler: str
    runtime: str
    environment: dict[str, str]

    def as_api(self, role_arn: str) -> dict[str, Any]:
        return {"Role": role_arn, "Handler": self.handler, "Runtime": self.runtime,
                "Timeout": HOOK_TIMEOUT_S, "MemorySize": HOOK_MEMORY_MB,
                "Environment": {"Variables": dict(self.environment)}}


def hook_specs(env: Environment, topic_arn: str) -> tuple[HookSpec, ...]:
    variables = {"TARGET_FUNCTION": env.function_name, "ALIAS": env.alias_name,
                 "TABLE_NAME": env.table_name, "TOPIC_ARN": topic_arn,
                 "LINK_BASE_URL": env.link_base_url,
                 "LINK_ALLOWED_HOSTS": ",".join(env.link_allowed_hosts),
                 "ALLOW_HTTP_LINKS": "true" if env.allow_http_links else "false"}
    return tuple(HookSpec(event, name, handler, env.function.runtime, variables)
                 for event, name, handler in zip(HOOK_EVENTS, env.hook_function_names,
                                                 HOOK_HANDLERS, strict=True))


def release_alarms(env: Environment) -> tuple[AlarmSpec, ...]:
    """Errors and Throttles of the `live` alias (both versions while traffic is split:
    an old-version error stops a release too, the conservative side), and any
    message on the failure queue."""
    errors, throttles, queue = env.alarm_names
    alias = ((("FunctionName", env.function_name),
              ("Resource", f"{env.function_name}:{env.alias_name}")))
    r = env.release
    return (
        AlarmSpec(errors, f"notifyctl: {env.function_name}:{env.alias_name} errors; stops "
                          "and rolls back a release", "AWS/Lambda", "Errors", alias, "Sum",
                  r.alarm_period_s, float(r.errors_threshold),
                  "GreaterThanOrEqualToThreshold"),
        AlarmSpec(throttles, f"notifyctl: {env.function_name}:{env.alias_name} throttles; "
                             "stops and rolls back a release", "AWS/Lambda", "Throttles",
                  alias, "Sum", r.alarm_period_s, float(r.throttles_threshold),
                  "GreaterThanOrEqualToThreshold"),
        AlarmSpec(queue, f"notifyctl: events on {env.dlq_name}; stops and rolls back a "
                         "release", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                  (("QueueName", env.dlq_name),), "Maximum",
                  max(r.alarm_period_s, SQS_MIN_PERIOD_S), 0.0, "GreaterThanThreshold"),
    )


# What the configuration set publishes to the events topic (SESv2 EventType names).
SES_EVENT_TYPES = ("SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY",
                   "RENDERING_FAILURE")
# The account-level suppression list's reasons (SESv2 PutAccountSuppressionAttributes).
SUPPRESSED_REASONS = ("BOUNCE", "COMPLAINT")
FEEDBACK_HANDLER = "book_notifier.feedback.handler"
FEEDBACK_TIMEOUT_S = 30
FEEDBACK_MEMORY_MB = 128
FEEDBACK_PERMISSION_SID = "notifyctl-ses-events-invoke"
FEEDBACK_POLICY_NAME = "feedback"
# The feedback subscription's filter (SNS FilterPolicyScope MessageBody): a Send event
# changes no record that a Delivery/Bounce/Complaint/DeliveryDelay event of the same
# email does not also change, so skipping it halves the feedback function's invocations.
FEEDBACK_FILTER_SCOPE = "MessageBody"
FEEDBACK_FILTER_POLICY: dict[str, Any] = {"eventType": [{"anything-but": ["Send"]}]}


@dataclass(frozen=True)
class FeedbackSpec:
    """The feedback function: the notifier's package with another handler, invoked
    (unqualified: its code follows every deploy-lambda) by the SES events topic."""

    name: str
    runtime: str
    environment: dict[str, str]
    handler: str = FEEDBACK_HANDLER

    def as_api(self, role_arn: str) -> dict[str, Any]:
        return {"Role": role_arn, "Handler": self.handler, "Runtime": self.runtime,
                "Timeout": FEEDBACK_TIMEOUT_S, "MemorySize": FEEDBACK_MEMORY_MB,
                "Environment": {"Variables": dict(self.environment)}}


@dataclass(frozen=True)
class Specs:
    """Everything one environment needs, in creation (dependency) order."""

    env: Environment
    arns: Arns
    tags: dict[str, str]
    topic_policy: dict[str, Any]
    trust_policy: dict[str, Any]
    function_policy: dict[str, Any]
    publisher_policy: dict[str, Any]
    queue_attributes: dict[str, str]
    function: FunctionConfig
    ses_identity: str
    ses_identity_kind: str  # "email" or "domain"
    codedeploy_trust_policy: dict[str, Any] = field(default_factory=dict)
    codedeploy_policy: dict[str, Any] = field(default_factory=dict)
    alarms: tuple[AlarmSpec, ...] = ()
    deployment_group: DeploymentGroupSpec | None = None
    hook_policy: dict[str, Any] = field(default_factory=dict)
    hooks: tuple[HookSpec, ...] = ()
    description: str = field(default="")
    ses_events_topic_policy: dict[str, Any] = field(default_factory=dict)
    feedback_policy: dict[str, Any] = field(default_factory=dict)
    feedback: FeedbackSpec | None = None

    @property
    def account(self) -> str:
        return self.arns.account

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        """The tags in the [{Key, Value}] shape most services use."""
        return [{key: k, value: v} for k, v in self.tags.items()]


def build_specs(env: Environment, account: str, region: str, partition: str = "aws") -> Specs:
    arns = Arns(partition, region, account, env)
    identity = env.sending_domain or env.sender
    identity_arns = [arns.ses_identity(identity)]
    if env.sending_domain:
        # Sending from an address in a verified domain is authorised against the
        # domain identity, or the address identity when that one is verified too.
        identity_arns.append(arns.ses_identity(env.sender))
    # Every send names the configuration set: SendEmail is authorised on it too.
    identity_arns.append(arns.configuration_set)
    return Specs(
        env=env,
        arns=arns,
        tags=tags_for(env),
        topic_policy=policies.topic_policy(arns.topic, arns.account_root),
        trust_policy=policies.lambda_trust_policy(account),
        function_policy=policies.function_policy(
            log_streams_arn=arns.log_streams, table_arn=arns.table, queue_arn=arns.queue,
            ses_identity_arns=identity_arns, sender=env.sender),
        publisher_policy=policies.publisher_policy(arns.topic),
        queue_attributes={
            "SqsManagedSseEnabled": "true",
            "MessageRetentionPeriod": str(QUEUE_RETENTION_S),
        },
        function=desired_function_config(env),
        ses_identity=identity,
        ses_identity_kind="domain" if env.sending_domain else "email",
        codedeploy_trust_policy=policies.codedeploy_trust_policy(account),
        codedeploy_policy=policies.codedeploy_policy(
            function_arn=arns.function, alarm_arns=[arns.alarm(a) for a in env.alarm_names],
            hook_function_arns=[arns.function_named(n) for n in env.hook_function_names]),
        hook_policy=policies.hook_policy(
            function_arn=arns.function, table_arn=arns.table,
            deployment_group_arn=arns.deployment_group,
            hook_log_streams_arns=[arns.log_streams_of(n) for n in env.hook_function_names]),
        hooks=hook_specs(env, arns.topic),
        alarms=release_alarms(env),
        deployment_group=DeploymentGroupSpec(env.codedeploy_application_name,
                                             env.deployment_group_name, arns.codedeploy_role,
                                             env.alarm_names),
        description=f"notifyctl {env.project}/{env.name}",
        ses_events_topic_policy=policies.ses_events_topic_policy(
            arns.ses_events_topic, arns.account_root, account, arns.configuration_set),
        feedback_policy=policies.feedback_policy(
            table_arn=arns.table,
            log_streams_arn=arns.log_streams_of(env.feedback_function_name)),
        feedback=FeedbackSpec(env.feedback_function_name, env.function.runtime,
                              {"TABLE_NAME": env.table_name,
                               "LOG_LEVEL": env.function.log_level}),
    )
