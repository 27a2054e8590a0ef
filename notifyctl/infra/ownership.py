"""Which resources are this environment's: the one rule every command applies.

A resource with one of our names is OURS when it carries this environment's tags
(`specs.is_ours`: managed-by=notifyctl and notifyctl:env=<env>), whoever created it
(bootstrap, or Terraform/a console followed by `bootstrap --adopt`). Commands that
change a resource refuse one that is not ours (`require_ours`, exit 1: the account
is not as notifyctl expects; the operator's fix is `bootstrap --adopt`, or another
prefix). Reading commands (status, --plan) show it as "not-ours".

Resources that carry no tags of their own follow their parent (`PARENT`): the
alias, its event invoke config and the SNS permission are the function's; the
subscription is the topic's. The planner applies `PARENT` to its steps, teardown
deletes children with their parent, and `require_ours` checks the parent.

Adoption (`bootstrap --adopt`) is the planner run with `adopt=True`: a resource
that is not ours and not another notifyctl environment's (`adoptable`) is compared
with the specification as if it were ours; equivalent -> an ADOPT step (tag calls
only), otherwise a conflict showing the per-field differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notifyctl.aws.calls import ClientFactory
from notifyctl.config.schema import Environment
from notifyctl.errors import OperationError
from notifyctl.infra import reads
from notifyctl.infra.specs import MANAGED_BY, TAG_ENV, TAG_MANAGED_BY, Arns, is_ours

ADOPT_COMMAND = "notifyctl bootstrap --adopt"

# The planner's resource kinds this module names (infra.planner imports this module,
# so it cannot import them from there; tests/unit/test_ownership.py holds them equal).
FUNCTION, ALIAS, HOOK_FUNCTION = "lambda-function", "lambda-alias", "hook-function"
QUEUE, TABLE, TOPIC, CODEDEPLOY_APP = ("sqs-queue", "dynamodb-table", "sns-topic",
                                       "codedeploy-app")

# Untaggable kind -> the kind whose tags decide its ownership (a new untaggable
# kind adds its row here).
PARENT: dict[str, str] = {
    ALIAS: FUNCTION,
    "event-invoke-config": FUNCTION,
    "lambda-permission": FUNCTION,
    "sns-subscription": TOPIC,
}


def adoptable(tags: dict[str, str] | None, env: Environment) -> bool:
    """Not ours, and not claimed by another notifyctl environment: `--adopt` may
    compare it and, if it is equivalent and the operator agrees, tag it."""
    tags = tags or {}
    return not is_ours(tags, env) and tags.get(TAG_ENV) in (None, env.name)


def ownership_text(env: Environment) -> str:
    return f"{TAG_MANAGED_BY}={MANAGED_BY}, {TAG_ENV}={env.name}"


def not_ours_error(kind: str, name: str, env: Environment,
                   tags: dict[str, str] | None = None) -> OperationError:
    """The one-line refusal of every changing command."""
    owner = (tags or {}).get(TAG_ENV)
    whose = (f"it belongs to notifyctl environment {owner!r}" if owner and owner != env.name
             else f"it is not tagged {ownership_text(env)}")
    fix = (f"use another prefix for environment {env.name!r}" if owner and owner != env.name
           else f"run `{ADOPT_COMMAND}` to compare it with notifyctl's and tag it")
    return OperationError(f"refusing to change {kind} {name}: {whose}; {fix}")


def require_ours(kind: str, name: str, tags: dict[str, str] | None,
                 env: Environment) -> None:
    """Raise the refusal unless `tags` (None: the resource does not exist, which is
    the caller's own error to report) mark the resource as this environment's."""
    if tags is not None and not is_ours(tags, env):
        raise not_ours_error(kind, name, env, tags)


# ------------------------------------------------------------------ tag readers
# kind -> (aws, env) -> [(name, tags or None when absent)]; the reads the planner
# and teardown use, for the kinds a command other than bootstrap changes.
Reader = Callable[[ClientFactory, Environment], list[tuple[str, dict[str, str] | None]]]


def _function_tags(aws: ClientFactory, name: str) -> dict[str, str] | None:
    live = reads.function(aws.client("lambda"), name)
    return None if live is None else dict(live.get("Tags") or {})


def _functions(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    return [(env.function_name, _function_tags(aws, env.function_name))]


def _hooks(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    return [(name, _function_tags(aws, name)) for name in env.hook_function_names]


def _queue(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    sqs = aws.client("sqs")
    url = reads.queue_url(sqs, env.dlq_name)
    return [(env.dlq_name, None if url is None else reads.queue_tags(sqs, url))]


def _table(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    ddb = aws.client("dynamodb")
    table = reads.table(ddb, env.table_name)
    return [(env.table_name,
             None if table is None else reads.table_tags(ddb, table["TableArn"]))]


def _topic(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    sns, arn = aws.client("sns"), Arns(aws.partition, aws.region, aws.account_id, env).topic
    if reads.topic_attributes(sns, arn) is None:
        return [(env.topic_name, None)]
    return [(env.topic_name, reads.topic_tags(sns, arn))]


def _codedeploy(aws: ClientFactory, env: Environment) -> list[tuple[str, Any]]:
    cd = aws.client("codedeploy")
    arns = Arns(aws.partition, aws.region, aws.account_id, env)
    name = env.codedeploy_application_name
    if reads.codedeploy_application(cd, name) is None:
        return [(name, None)]
    return [(name, reads.codedeploy_tags(cd, arns.codedeploy_application))]


READERS: dict[str, Reader] = {
    FUNCTION: _functions,
    HOOK_FUNCTION: _hooks,
    QUEUE: _queue,
    TABLE: _table,
    TOPIC: _topic,
    CODEDEPLOY_APP: _codedeploy,
}


def check(aws: ClientFactory, env: Environment, *kinds: str) -> None:
    """Refuse (OperationError, exit 1) if a resource of `kinds` exists with our name
    but is not this environment's. An untaggable kind checks its parent."""
    for kind in dict.fromkeys(PARENT.get(k, k) for k in kinds):
        for name, tags in READERS[kind](aws, env):
            require_ours(kind, name, tags, env)
