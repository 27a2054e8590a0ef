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
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"


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
    description: str = field(default="")

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
        description=f"notifyctl {env.project}/{env.name}",
    )
