"""`notifyctl teardown`: delete this environment's resources, and nothing else.

A resource is deleted only if it carries this environment's tags (infra.ownership),
checked again right before its delete call, WHOEVER CREATED IT: bootstrap, or
Terraform/a console followed by `bootstrap --adopt` (adopting is consenting to
that). One not tagged as ours is left alone (the reason names `--adopt`).
Untaggable resources go with their parent (the function's alias, permission and
invoke config; the topic's subscription). Order (dependents first):

    CodeDeploy application (its deployment group goes with it) -> release alarms
    -> CodeDeploy role -> hook functions, their log groups, their role ->
    subscription -> function (its alias, versions, permission and event invoke
    config go with it) -> log group -> role ->
    publisher policy -> topic -> queue -> table (only with --delete-data)

Kept: the table and its data (unless --delete-data, and never while its deletion
protection is on); the SES identity (SES v1
identities carry no tags and verification is account-wide: delete it yourself
with `aws ses delete-identity` if nothing else sends from it); a publisher
policy still attached to a role (detach it first, it is the web app's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from notifyctl.aws.calls import SNS_NOT_FOUND, ClientFactory, is_error
from notifyctl.config.schema import Environment
from notifyctl.errors import NotifyctlError, OperationError
from notifyctl.infra import ownership, reads
from notifyctl.infra import planner as p
from notifyctl.infra.specs import INLINE_POLICY_NAME, Arns, is_ours

DELETE, KEEP, ABSENT, NOT_OURS = "delete", "keep", "absent", "not-ours"
TABLE_PROTECTED = ("deletion protection is on; set dedup.deletion_protection: false, run "
                   "`notifyctl bootstrap`, then teardown --delete-data")


class Kept(Exception):
    """Raised by a deleter that finds a reason not to delete after all."""


@dataclass
class Item:
    resource: str
    name: str
    action: str
    reason: str = ""
    # Returns the resource's tags now (None when it no longer exists).
    probe: Callable[[], dict[str, str] | None] | None = field(default=None, repr=False)
    delete: Callable[[], None] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, str]:
        return {"resource": self.resource, "name": self.name, "action": self.action,
                "reason": self.reason}


@dataclass
class Result:
    deleted: list[Item] = field(default_factory=list)
    kept: list[Item] = field(default_factory=list)
    absent: list[Item] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": [i.as_dict() for i in self.deleted],
                "kept": [i.as_dict() for i in self.kept],
                "absent": [i.as_dict() for i in self.absent]}


class _Resources:
    """Probe and delete functions for each resource, bound to one account."""

    def __init__(self, aws: ClientFactory, env: Environment) -> None:
        self.aws = aws
        self.env = env
        self.arns = Arns(aws.partition, aws.region, aws.account_id, env)
        self.table_protected = False  # set by probe_table

    def c(self, service: str) -> Any:
        return self.aws.client(service)

    # subscription: owned through the topic's tags
    def subscriptions(self) -> list[str]:
        try:
            return [s["SubscriptionArn"]
                    for s in p.lambda_subscriptions(self.c("sns"), self.arns.topic)
                    if (s.get("Endpoint") or "").startswith(self.arns.function)
                    and s.get("SubscriptionArn", "").startswith("arn:")]
        except Exception as exc:
            if is_error(exc, *SNS_NOT_FOUND):
                return []
            raise

    def probe_subscription(self) -> dict[str, str] | None:
        return self.probe_topic() if self.subscriptions() else None

    def delete_subscription(self) -> None:
        for arn in self.subscriptions():
            self.c("sns").unsubscribe(SubscriptionArn=arn)

    def probe_function(self) -> dict[str, str] | None:
        live = reads.function(self.c("lambda"), self.env.function_name)
        return None if live is None else dict(live.get("Tags") or {})

    def delete_function(self) -> None:
        self.c("lambda").delete_function(FunctionName=self.env.function_name)

    def probe_log_group(self) -> dict[str, str] | None:
        logs = self.c("logs")
        if reads.log_group(logs, self.env.log_group_name) is None:
            return None
        return reads.log_group_tags(logs, self.arns.log_group)

    def delete_log_group(self) -> None:
        self.c("logs").delete_log_group(logGroupName=self.env.log_group_name)

    def probe_role(self, name: str | None = None) -> dict[str, str] | None:
        iam, name = self.c("iam"), name or self.env.role_name
        if reads.role(iam, name) is None:
            return None
        return reads.role_tags(iam, name)

    def delete_role(self, name: str | None = None, policy: str = INLINE_POLICY_NAME) -> None:
        iam, name = self.c("iam"), name or self.env.role_name
        inline = iam.list_role_policies(RoleName=name).get("PolicyNames", [])
        attached = iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])
        others = [n for n in inline if n != policy] + [a["PolicyArn"] for a in attached]
        if others:
            raise Kept(f"has policies notifyctl did not put there: {', '.join(others)}")
        if policy in inline:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)

    def probe_codedeploy_role(self) -> dict[str, str] | None:
        return self.probe_role(self.env.codedeploy_role_name)

    def delete_codedeploy_role(self) -> None:
        self.delete_role(self.env.codedeploy_role_name, p.CODEDEPLOY_POLICY_NAME)

    def probe_application(self) -> dict[str, str] | None:
        cd = self.c("codedeploy")
        if reads.codedeploy_application(cd, self.env.codedeploy_application_name) is None:
            return None
        return reads.codedeploy_tags(cd, self.arns.codedeploy_application)

    def delete_application(self) -> None:
        # DeleteApplication deletes its deployment groups too.
        self.c("codedeploy").delete_application(
            applicationName=self.env.codedeploy_application_name)

    def probe_hooks(self) -> dict[str, str] | None:
        """The hook functions are one item, like the alarms."""
        lam = self.c("lambda")
        found = [f for name in self.env.hook_function_names
                 if (f := reads.function(lam, name))]
        if not found:
            return None
        tags = [dict(f.get("Tags") or {}) for f in found]
        return next((t for t in tags if not is_ours(t, self.env)), tags[0])

    def delete_hooks(self) -> None:
        lam = self.c("lambda")
        for name in self.env.hook_function_names:
            if reads.function(lam, name) is not None:
                lam.delete_function(FunctionName=name)

    def _hook_log_groups(self) -> list[str]:
        return [f"/aws/lambda/{n}" for n in self.env.hook_function_names]

    def probe_hook_logs(self) -> dict[str, str] | None:
        logs = self.c("logs")
        found = [g for g in self._hook_log_groups() if reads.log_group(logs, g)]
        if not found:
            return None
        tags = [reads.log_group_tags(logs, self.arns._arn("logs", f"log-group:{g}"))
                for g in found]
        return next((t for t in tags if not is_ours(t, self.env)), tags[0])

    def delete_hook_logs(self) -> None:
        logs = self.c("logs")
        for group in self._hook_log_groups():
            if reads.log_group(logs, group) is not None:
                logs.delete_log_group(logGroupName=group)

    def probe_hook_role(self) -> dict[str, str] | None:
        return self.probe_role(self.env.hook_role_name)

    def delete_hook_role(self) -> None:
        self.delete_role(self.env.hook_role_name, p.HOOK_POLICY_NAME)

    def probe_alarms(self) -> dict[str, str] | None:
        """The release alarms are one item: owned when every one that exists is ours."""
        cw = self.c("cloudwatch")
        found = [a for name in self.env.alarm_names if (a := reads.alarm(cw, name))]
        if not found:
            return None
        tags = [reads.alarm_tags(cw, a["AlarmArn"]) for a in found]
        return next((t for t in tags if not is_ours(t, self.env)), tags[0])

    def delete_alarms(self) -> None:
        self.c("cloudwatch").delete_alarms(AlarmNames=list(self.env.alarm_names))

    def probe_policy(self) -> dict[str, str] | None:
        iam = self.c("iam")
        if reads.managed_policy(iam, self.arns.publisher_policy) is None:
            return None
        return reads.policy_tags(iam, self.arns.publisher_policy)

    def delete_policy(self) -> None:
        iam, arn = self.c("iam"), self.arns.publisher_policy
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        users = [f"role {r['RoleName']}" for r in entities.get("PolicyRoles", [])] + [
            f"user {u['UserName']}" for u in entities.get("PolicyUsers", [])] + [
            f"group {g['GroupName']}" for g in entities.get("PolicyGroups", [])]
        if users:
            raise Kept(f"still attached to {', '.join(users)}; detach it from the web app "
                       "first, then run teardown again")
        for version in iam.list_policy_versions(PolicyArn=arn).get("Versions", []):
            if not version.get("IsDefaultVersion"):
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)

    def probe_topic(self) -> dict[str, str] | None:
        sns = self.c("sns")
        if reads.topic_attributes(sns, self.arns.topic) is None:
            return None
        return reads.topic_tags(sns, self.arns.topic)

    def delete_topic(self) -> None:
        self.c("sns").delete_topic(TopicArn=self.arns.topic)

    def _queue_url(self) -> str | None:
        return reads.queue_url(self.c("sqs"), self.env.dlq_name)

    def probe_queue(self) -> dict[str, str] | None:
        url = self._queue_url()
        if url is None:
            return None
        return reads.queue_tags(self.c("sqs"), url)

    def delete_queue(self) -> None:
        url = self._queue_url()
        if url:
            self.c("sqs").delete_queue(QueueUrl=url)

    def probe_table(self) -> dict[str, str] | None:
        ddb = self.c("dynamodb")
        table = reads.table(ddb, self.env.table_name)
        if table is None or table.get("TableStatus") == "DELETING":
            return None
        self.table_protected = bool(table.get("DeletionProtectionEnabled"))
        return reads.table_tags(ddb, table["TableArn"])

    def delete_table(self) -> None:
        if self.table_protected:
            raise Kept(TABLE_PROTECTED)
        self.c("dynamodb").delete_table(TableName=self.env.table_name)

    def probe_ses(self) -> dict[str, str] | None:
        identity = self.env.sending_domain or self.env.sender
        attrs = self.c("ses").get_identity_verification_attributes(
            Identities=[identity]).get("VerificationAttributes", {})
        return {} if identity in attrs else None


def plan_teardown(aws: ClientFactory, env: Environment, *, delete_data: bool = False) -> list[Item]:
    r = _Resources(aws, env)
    arns = r.arns
    rows: list[tuple[str, str, Callable[[], dict[str, str] | None], Callable[[], None] | None,
                     str]] = [
        (p.CODEDEPLOY_APP, env.codedeploy_application_name, r.probe_application,
         r.delete_application, ""),
        (p.ALARM, ", ".join(env.alarm_names), r.probe_alarms, r.delete_alarms, ""),
        (p.CODEDEPLOY_ROLE, env.codedeploy_role_name, r.probe_codedeploy_role,
         r.delete_codedeploy_role, ""),
        (p.HOOK_FUNCTION, ", ".join(env.hook_function_names), r.probe_hooks, r.delete_hooks,
         ""),
        (p.HOOK_LOG_GROUP, ", ".join(f"/aws/lambda/{n}" for n in env.hook_function_names),
         r.probe_hook_logs, r.delete_hook_logs, ""),
        (p.HOOK_ROLE, env.hook_role_name, r.probe_hook_role, r.delete_hook_role, ""),
        (p.SUBSCRIPTION, f"{env.topic_name} -> {env.function_name}", r.probe_subscription,
         r.delete_subscription, ""),
        (p.FUNCTION, env.function_name, r.probe_function, r.delete_function, ""),
        (p.LOG_GROUP, env.log_group_name, r.probe_log_group, r.delete_log_group, ""),
        (p.ROLE, env.role_name, r.probe_role, r.delete_role, ""),
        (p.PUBLISHER_POLICY, arns.publisher_policy, r.probe_policy, r.delete_policy, ""),
        (p.TOPIC, env.topic_name, r.probe_topic, r.delete_topic, ""),
        (p.QUEUE, env.dlq_name, r.probe_queue, r.delete_queue, ""),
        (p.TABLE, env.table_name, r.probe_table, r.delete_table if delete_data else None,
         "holds the de-duplication records; pass --delete-data to delete it"),
        (p.SES_IDENTITY, env.sending_domain or env.sender, r.probe_ses, None,
         "SES identities carry no tags and are account-wide; delete it with "
         "`aws ses delete-identity` if nothing else sends from it"),
    ]
    items = []
    for kind, name, probe, delete, keep_reason in rows:
        tags = probe()
        if tags is None:
            items.append(Item(kind, name, ABSENT))
        elif delete is None:
            items.append(Item(kind, name, KEEP, keep_reason))
        elif not is_ours(tags, env):
            items.append(Item(kind, name, NOT_OURS, _not_ours_reason(kind, name, tags, env)))
        elif kind == p.TABLE and r.table_protected:
            items.append(Item(kind, name, KEEP, TABLE_PROTECTED))
        else:
            items.append(Item(kind, name, DELETE, probe=probe, delete=delete))
    return items


def _not_ours_reason(kind: str, name: str, tags: dict[str, str], env: Environment) -> str:
    """The refusal every changing command gives (ownership.not_ours_error), as a reason."""
    return f"left alone: {ownership.not_ours_error(kind, name, env, tags).message}"


def _failure(item: Item, done: Result, exc: BaseException) -> OperationError:
    from notifyctl.aws.errors import translate

    if isinstance(exc, NotifyctlError):
        reason = exc.message
    else:
        translated = translate(exc)
        reason = translated.message if translated else f"{type(exc).__name__}: {exc}"
    deleted = ", ".join(f"{i.resource} {i.name}" for i in done.deleted) or "nothing"
    return OperationError(f"deleting {item.resource} {item.name} failed: {reason} "
                          f"(deleted so far: {deleted})",
                          hint="Fix the cause and run teardown again: it continues with "
                               "what is left.")


def execute(items: list[Item], env: Environment,
            on_item: Callable[[Item], None] | None = None) -> Result:
    result = Result()
    for item in items:
        if item.action == DELETE and item.probe and item.delete:
            tags = item.probe()  # checked again right before deleting
            if tags is None:
                item.action = ABSENT
            elif not is_ours(tags, env):
                item.action, item.reason = NOT_OURS, "tags changed since the plan: left alone"
            else:
                try:
                    item.delete()
                except Kept as why:
                    item.action, item.reason = KEEP, str(why)
                except Exception as exc:
                    raise _failure(item, result, exc) from exc
        if item.action == DELETE:
            result.deleted.append(item)
        elif item.action == ABSENT:
            result.absent.append(item)
        else:
            result.kept.append(item)
        if on_item:
            on_item(item)
    return result
