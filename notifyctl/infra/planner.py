"""Compare the specifications with what exists and produce a Plan.

Only describe/list/get calls: the clients handed to the planner are wrapped in
`ReadOnly`, which refuses any other method, so planning can never change
anything (and `--plan` and `status` are safe by construction).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from notifyctl.aws.calls import LAMBDA_NOT_FOUND, ClientFactory, get_or_none
from notifyctl.infra import policies, reads
from notifyctl.infra.ownership import ADOPT_COMMAND, PARENT, adoptable
from notifyctl.infra.specs import (
    FEEDBACK_FILTER_POLICY,
    FEEDBACK_FILTER_SCOPE,
    FEEDBACK_PERMISSION_SID,
    FEEDBACK_POLICY_NAME,
    GROUP_DEFAULT_CONFIG,
    INLINE_POLICY_NAME,
    MAX_EVENT_AGE_S,
    MAX_RETRY_ATTEMPTS,
    PARTITION_KEY,
    SES_EVENT_TYPES,
    SNS_PERMISSION_SID,
    SUPPRESSED_REASONS,
    TTL_ATTRIBUTE,
    AlarmSpec,
    HookSpec,
    Specs,
    is_ours,
)
from notifyctl.plans.model import (
    ADOPT,
    CODE,
    CONFLICT,
    CREATE,
    UNCHANGED,
    UPDATE,
    ApiCall,
    Plan,
    Step,
    Var,
)
from notifyctl.release.function_release import config_drift, config_update_calls

READ_PREFIXES = ("get_", "describe_", "list_", "can_paginate")

# Resource kinds, in dependency order (also the order of the plan).
LOG_GROUP = "log-group"
TABLE = "dynamodb-table"
QUEUE = "sqs-queue"
TOPIC = "sns-topic"
ROLE = "iam-role"
PUBLISHER_POLICY = "iam-policy"
SES_IDENTITY = "ses-identity"
FUNCTION = "lambda-function"
ALIAS = "lambda-alias"
INVOKE_CONFIG = "event-invoke-config"
PERMISSION = "lambda-permission"
SUBSCRIPTION = "sns-subscription"
# Safe releases (issue 16): the role CodeDeploy assumes, the alarms that stop a
# release, the application and its deployment group.
CODEDEPLOY_ROLE = "codedeploy-role"
ALARM = "cloudwatch-alarm"
CODEDEPLOY_APP = "codedeploy-app"
DEPLOYMENT_GROUP = "deployment-group"
HOOK_ROLE = "hook-role"
HOOK_LOG_GROUP = "hook-log-group"
HOOK_FUNCTION = "hook-function"
# The SES feedback loop (issue 17): the configuration set every send names, its
# event destination (an SNS topic of its own), the account's suppression list
# settings, and the feedback function that writes SES's events into the records.
SES_EVENTS_TOPIC = "ses-events-topic"
CONFIGURATION_SET = "ses-config-set"
EVENT_DESTINATION = "event-destination"
ACCOUNT_SUPPRESSION = "account-suppression"
FEEDBACK_ROLE = "feedback-role"
FEEDBACK_LOG_GROUP = "feedback-log-group"
FEEDBACK_FUNCTION = "feedback-function"
FEEDBACK_PERMISSION = "feedback-permission"
FEEDBACK_SUBSCRIPTION = "feedback-sns-sub"
KINDS = (LOG_GROUP, TABLE, QUEUE, TOPIC, ROLE, PUBLISHER_POLICY, SES_IDENTITY,
         SES_EVENTS_TOPIC, CONFIGURATION_SET, EVENT_DESTINATION, ACCOUNT_SUPPRESSION, FUNCTION,
         ALIAS, INVOKE_CONFIG, PERMISSION, SUBSCRIPTION, FEEDBACK_ROLE, FEEDBACK_LOG_GROUP,
         FEEDBACK_FUNCTION, FEEDBACK_PERMISSION, FEEDBACK_SUBSCRIPTION, CODEDEPLOY_ROLE, ALARM,
         CODEDEPLOY_APP, DEPLOYMENT_GROUP, HOOK_ROLE, HOOK_LOG_GROUP, HOOK_FUNCTION)
ACCOUNT_WIDE_NOTE = ("ACCOUNT-WIDE: the account-level suppression list applies to every "
                     "email this AWS account sends in this Region (every sender, every "
                     "configuration set, other applications too), not only this "
                     "environment's; teardown leaves it on")
HOOK_POLICY_NAME = "lifecycle-hooks"
CODEDEPLOY_POLICY_NAME = "codedeploy-lambda"

QUEUE_URL = "queue_url"
ALIAS_VERSION = "alias_version"


class ReadOnly:
    """A client proxy that allows only read calls (and paginators over them)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if not name.startswith(READ_PREFIXES):
            raise PermissionError(f"planner attempted a non-read call: {name}")
        return getattr(self._client, name)

    def get_paginator(self, name: str) -> Any:
        if not name.startswith(("list_", "describe_", "get_")):
            raise PermissionError(f"planner attempted a non-read paginator: {name}")
        return self._client.get_paginator(name)

    @property
    def exceptions(self) -> Any:
        return self._client.exceptions


def _tag_changes(live: dict[str, str], wanted: dict[str, str]) -> dict[str, tuple[Any, Any]]:
    missing = {k: v for k, v in wanted.items() if live.get(k) != v}
    if not missing:
        return {}
    return {"Tags": ({k: live.get(k) for k in missing}, missing)}


def _conflict(kind: str, name: str, tags: dict[str, str], specs: Specs) -> Step:
    owner = tags.get("notifyctl:env")
    if owner and owner != specs.env.name:
        return Step(CONFLICT, kind, name,
                    note=f"exists but belongs to notifyctl environment {owner!r}; it will not "
                         f"be adopted or changed. Rename the prefix of environment "
                         f"{specs.env.name!r}.")
    return Step(CONFLICT, kind, name,
                note="exists without notifyctl's tags for this environment (built by "
                     f"Terraform or a console?): left alone; `{ADOPT_COMMAND}` can adopt it")


def _not_equivalent(step: Step) -> Step:
    """An adoption candidate whose configuration differs: it stays a conflict, with
    the differences (not the tags) as its changes, for the operator to read."""
    changes = {k: v for k, v in step.changes.items() if k != "Tags"}
    fields = ", ".join(changes) or "its configuration"
    why = f"{step.note} " if step.action == CONFLICT and step.note else ""
    return Step(CONFLICT, step.resource, step.name, changes,
                note=f"{why}not equivalent to notifyctl's specification ({fields} differ): "
                     "not adopted. Make it equal (in Terraform or the console), or delete "
                     "it, then adopt again.")


class Planner:
    def __init__(self, client: Callable[[str], Any], specs: Specs, *,
                 package_sha256: Callable[[], str] | None = None, adopt: bool = False) -> None:
        self._client = client
        # --adopt: resources with our names but without our tags are compared as if
        # ours (infra.ownership); `adopting` holds them, `foreign` the ones refused.
        self.adopt = adopt
        self.adopting: set[tuple[str, str]] = set()
        self.foreign: set[tuple[str, str]] = set()
        # The CodeSha256 of the package this source builds (local, no AWS call),
        # asked only when a configuration fix must restore the code `live` serves.
        self._package_sha256 = package_sha256
        self.specs = specs
        self.env = specs.env
        self.arns = specs.arns
        # Facts later steps need (whether a parent exists).
        self.exists: dict[str, bool] = {}
        self.alias_version: str | None = None

    def c(self, service: str) -> ReadOnly:
        return ReadOnly(self._client(service))

    def plan(self) -> Plan:
        planners = (self.log_group, self.table, self.queue, self.topic, self.role,
                    self.publisher_policy, self.ses_identity, self.ses_events_topic,
                    self.configuration_set, self.event_destination, self.account_suppression,
                    self.alias_probe, self.function, self.alias, self.invoke_config,
                    self.permission, self.subscription, self.feedback_role,
                    self.feedback_log_group, self.feedback_function,
                    self.feedback_permission, self.feedback_subscription,
                    self.codedeploy_role)
        steps = [s for p in planners if (s := p()) is not None]
        steps += [self.alarm(a) for a in self.specs.alarms]
        steps += [self.codedeploy_application(), self.deployment_group(), self.hook_role()]
        for hook in self.specs.hooks:
            steps += [self._log_group(HOOK_LOG_GROUP, f"/aws/lambda/{hook.name}"),
                      self.hook_function(hook)]
        return Plan(self._ownership(steps))

    def _foreign(self, kind: str, name: str, tags: dict[str, str]) -> Step | None:
        """None when the resource is ours (or, with --adopt, a candidate to compare
        as if it were); otherwise the conflict step that leaves it alone."""
        if is_ours(tags, self.env):
            return None
        if self.adopt and adoptable(tags, self.env):
            self.adopting.add((kind, name))
            return None
        self.foreign.add((kind, name))
        return _conflict(kind, name, tags, self.specs)

    def _ownership(self, steps: list[Step]) -> tuple[Step, ...]:
        """Adoption candidates become ADOPT steps (equivalent: only the tag calls)
        or conflicts (the differences shown); untaggable resources follow their
        parent's ownership (`ownership.PARENT`)."""
        out: list[Step] = []
        for step in steps:
            if (step.resource, step.name) in self.adopting:
                differs = step.action == CONFLICT or any(k != "Tags" for k in step.changes)
                if differs:
                    self.foreign.add((step.resource, step.name))
                    step = _not_equivalent(step)
                else:
                    step = Step(ADOPT, step.resource, step.name, step.changes,
                                tuple(c for c in step.calls if c.method.startswith("tag_")),
                                note=f"equivalent: tag it as environment "
                                     f"{self.env.name!r}'s")
            out.append(step)
        foreign_kinds = {kind for kind, _ in self.foreign}
        return tuple(
            Step(CONFLICT, s.resource, s.name,
                 note=f"follows its {PARENT[s.resource]}, which is not ours: not changed")
            if PARENT.get(s.resource) in foreign_kinds else s
            for s in out)

    # ------------------------------------------------------------ log group
    def log_group(self) -> Step:
        return self._log_group(LOG_GROUP, self.env.log_group_name)

    def _log_group(self, kind: str, name: str) -> Step:
        """A function's log group (the notifier's, a hook's), created before it."""
        logs = self.c("logs")
        arn = self.arns._arn("logs", f"log-group:{name}")
        live = reads.log_group(logs, name)
        retention = self.env.function.log_retention_days
        self.exists[kind] = live is not None
        if live is None:
            return Step(CREATE, kind, name, {"retentionInDays": (None, retention)}, (
                ApiCall("logs", "create_log_group", {"logGroupName": name,
                                                     "tags": dict(self.specs.tags)}),
                ApiCall("logs", "put_retention_policy", {"logGroupName": name,
                                                         "retentionInDays": retention}),
            ))
        tags = reads.log_group_tags(logs, arn)
        if (foreign := self._foreign(kind, name, tags)) is not None:
            return foreign
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        if live.get("retentionInDays") != retention:
            changes["retentionInDays"] = (live.get("retentionInDays"), retention)
            calls.append(ApiCall("logs", "put_retention_policy",
                                 {"logGroupName": name, "retentionInDays": retention}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("logs", "tag_resource", {"resourceArn": arn,
                                                          "tags": dict(self.specs.tags)}))
        return Step(UPDATE if calls else UNCHANGED, kind, name, changes, tuple(calls))

    # ------------------------------------------------------------ table
    def table(self) -> Step:
        ddb = self.c("dynamodb")
        name = self.env.table_name
        pitr = self.env.dedup.point_in_time_recovery
        protect = self.env.dedup.deletion_protection
        table = reads.table(ddb, name)
        self.exists[TABLE] = table is not None
        ttl_call = ApiCall("dynamodb", "update_time_to_live", {
            "TableName": name,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}})
        pitr_call = ApiCall("dynamodb", "update_continuous_backups", {
            "TableName": name,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}})
        if table is None:
            create = [
                ApiCall("dynamodb", "create_table", {
                    "TableName": name,
                    "AttributeDefinitions": [{"AttributeName": PARTITION_KEY,
                                              "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "DeletionProtectionEnabled": protect,
                    "Tags": self.specs.tag_list(),
                }),
                ApiCall("wait", "table_active", {"TableName": name}),
                ttl_call,
            ]
            if pitr:
                create.append(pitr_call)
            return Step(CREATE, TABLE, name, {"ttl": (None, TTL_ATTRIBUTE),
                                              "point_in_time_recovery": (None, pitr),
                                              "deletion_protection": (None, protect)},
                        tuple(create))
        tags = reads.table_tags(ddb, table["TableArn"])
        if (foreign := self._foreign(TABLE, name, tags)) is not None:
            return foreign
        key = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
        if key != [(PARTITION_KEY, "HASH")]:
            return Step(CONFLICT, TABLE, name, {"KeySchema": (key, [(PARTITION_KEY, "HASH")])},
                        note="the key schema cannot be changed in place; delete the table "
                             "(`notifyctl teardown --delete-data`) and bootstrap again")
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        if billing != "PAY_PER_REQUEST":
            changes["BillingMode"] = (billing, "PAY_PER_REQUEST")
            calls.append(ApiCall("dynamodb", "update_table",
                                 {"TableName": name, "BillingMode": "PAY_PER_REQUEST"}))
            calls.append(ApiCall("wait", "table_active", {"TableName": name}))
        live_protect = bool(table.get("DeletionProtectionEnabled", False))
        if live_protect != protect:
            changes["deletion_protection"] = (live_protect, protect)
            calls.append(ApiCall("dynamodb", "update_table",
                                 {"TableName": name, "DeletionProtectionEnabled": protect}))
            calls.append(ApiCall("wait", "table_active", {"TableName": name}))
        ttl = ddb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
        live_ttl = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in (
            "ENABLED", "ENABLING") else None
        if live_ttl != TTL_ATTRIBUTE:
            changes["ttl"] = (live_ttl, TTL_ATTRIBUTE)
            calls.append(ttl_call)
        backups = ddb.describe_continuous_backups(TableName=name).get(
            "ContinuousBackupsDescription", {})
        live_pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get(
            "PointInTimeRecoveryStatus") == "ENABLED"
        if live_pitr != pitr:
            changes["point_in_time_recovery"] = (live_pitr, pitr)
            calls.append(pitr_call)
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("dynamodb", "tag_resource", {
                "ResourceArn": table["TableArn"], "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, TABLE, name, changes, tuple(calls))

    # ------------------------------------------------------------ queue
    def queue(self) -> Step:
        sqs = self.c("sqs")
        name = self.env.dlq_name
        wanted = self.specs.queue_attributes
        url = reads.queue_url(sqs, name)
        self.exists[QUEUE] = url is not None
        if url is None:
            return Step(CREATE, QUEUE, name, {k: (None, v) for k, v in wanted.items()}, (
                ApiCall("sqs", "create_queue", {"QueueName": name, "Attributes": dict(wanted),
                                                "tags": dict(self.specs.tags)},
                        output=QUEUE_URL, output_key="QueueUrl"),
            ))
        tags = reads.queue_tags(sqs, url)
        if (foreign := self._foreign(QUEUE, name, tags)) is not None:
            return foreign
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get(
            "Attributes", {})
        changes: dict[str, tuple[Any, Any]] = {}
        for key, value in wanted.items():
            live = attrs.get(key)
            # A queue encrypted with a KMS key is encrypted too: leave it so.
            if key == "SqsManagedSseEnabled" and attrs.get("KmsMasterKeyId"):
                continue
            if str(live).lower() != value.lower():
                changes[key] = (live, value)
        calls: list[ApiCall] = []
        if changes:
            calls.append(ApiCall("sqs", "set_queue_attributes", {
                "QueueUrl": url, "Attributes": {k: wanted[k] for k in changes}}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("sqs", "tag_queue", {"QueueUrl": url,
                                                      "Tags": dict(self.specs.tags)}))
        return Step(UPDATE if calls else UNCHANGED, QUEUE, name, changes, tuple(calls))

    # ------------------------------------------------------------ topic
    def topic(self) -> Step:
        return self._topic(TOPIC, self.env.topic_name, self.arns.topic,
                           self.specs.topic_policy)

    def ses_events_topic(self) -> Step:
        return self._topic(SES_EVENTS_TOPIC, self.env.ses_events_topic_name,
                           self.arns.ses_events_topic, self.specs.ses_events_topic_policy)

    def _topic(self, kind: str, name: str, arn: str, policy: dict[str, Any]) -> Step:
        """A topic with its policy (book events; SES's email events)."""
        sns = self.c("sns")
        attrs = reads.topic_attributes(sns, arn)
        self.exists[kind] = attrs is not None
        if attrs is None:
            return Step(CREATE, kind, name, {"Policy": (None, policy)}, (
                ApiCall("sns", "create_topic", {"Name": name,
                                                "Attributes": {"Policy": json.dumps(policy)},
                                                "Tags": self.specs.tag_list()}),
            ))
        tags = reads.topic_tags(sns, arn)
        if (foreign := self._foreign(kind, name, tags)) is not None:
            return foreign
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        live_policy = policies.normalize(attrs["Policy"]) if attrs.get("Policy") else None
        if live_policy != policies.normalize(policy):
            changes["Policy"] = (live_policy, policy)
            calls.append(ApiCall("sns", "set_topic_attributes", {
                "TopicArn": arn, "AttributeName": "Policy", "AttributeValue": json.dumps(policy)}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("sns", "tag_resource", {"ResourceArn": arn,
                                                         "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, kind, name, changes, tuple(calls))

    # ------------------------------------------------------------ role
    def role(self) -> Step:
        return self._role(ROLE, self.env.role_name, self.specs.trust_policy,
                          INLINE_POLICY_NAME, self.specs.function_policy,
                          f"notifyctl: {self.env.function_name} execution role")

    def codedeploy_role(self) -> Step:
        return self._role(CODEDEPLOY_ROLE, self.env.codedeploy_role_name,
                          self.specs.codedeploy_trust_policy, CODEDEPLOY_POLICY_NAME,
                          self.specs.codedeploy_policy,
                          f"notifyctl: CodeDeploy releases of {self.env.function_name}")

    def hook_role(self) -> Step:
        return self._role(HOOK_ROLE, self.env.hook_role_name, self.specs.trust_policy,
                          HOOK_POLICY_NAME, self.specs.hook_policy,
                          f"notifyctl: lifecycle hooks of {self.env.function_name} releases")

    def _role(self, kind: str, name: str, trust: dict[str, Any], policy_name: str,
              inline: dict[str, Any], description: str) -> Step:
        """A role with one inline policy (the function's, CodeDeploy's)."""
        iam = self.c("iam")
        put_inline = ApiCall("iam", "put_role_policy", {
            "RoleName": name, "PolicyName": policy_name,
            "PolicyDocument": json.dumps(inline)})
        role = reads.role(iam, name)
        self.exists[kind] = role is not None
        if role is None:
            return Step(CREATE, kind, name, {"AssumeRolePolicyDocument": (None, trust),
                                             f"inline policy {policy_name}": (None, inline)},
                        (ApiCall("iam", "create_role", {
                            "RoleName": name, "AssumeRolePolicyDocument": json.dumps(trust),
                            "Description": description,
                            "Tags": self.specs.tag_list()}),
                         put_inline))
        tags = reads.role_tags(iam, name)
        if (foreign := self._foreign(kind, name, tags)) is not None:
            return foreign
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        live_trust = policies.normalize(role["AssumeRolePolicyDocument"])
        if live_trust != policies.normalize(trust):
            changes["AssumeRolePolicyDocument"] = (live_trust, trust)
            calls.append(ApiCall("iam", "update_assume_role_policy", {
                "RoleName": name, "PolicyDocument": json.dumps(trust)}))
        inline_doc = reads.role_policy(iam, name, policy_name)
        live_inline = policies.normalize(inline_doc) if inline_doc is not None else None
        if live_inline != policies.normalize(inline):
            changes[f"inline policy {policy_name}"] = (live_inline, inline)
            calls.append(put_inline)
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("iam", "tag_role", {"RoleName": name,
                                                     "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, kind, name, changes, tuple(calls))

    # ------------------------------------------------------------ publisher policy
    def publisher_policy(self) -> Step:
        iam = self.c("iam")
        name, arn = self.env.publisher_policy_name, self.arns.publisher_policy
        doc = self.specs.publisher_policy
        live = reads.managed_policy(iam, arn)
        self.exists[PUBLISHER_POLICY] = live is not None
        if live is None:
            return Step(CREATE, PUBLISHER_POLICY, name, {"PolicyDocument": (None, doc)}, (
                ApiCall("iam", "create_policy", {
                    "PolicyName": name, "PolicyDocument": json.dumps(doc),
                    "Description": f"Publish book events to {self.env.topic_name} "
                                   "(attach to the web app's role)",
                    "Tags": self.specs.tag_list()}),
            ), note=f"attach {arn} to the web app's instance role")
        tags = reads.policy_tags(iam, arn)
        if (foreign := self._foreign(PUBLISHER_POLICY, name, tags)) is not None:
            return foreign
        version = iam.get_policy_version(PolicyArn=arn, VersionId=live["DefaultVersionId"])
        live_doc = policies.normalize(version["PolicyVersion"]["Document"])
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        if live_doc != policies.normalize(doc):
            changes["PolicyDocument"] = (live_doc, doc)
            versions = iam.list_policy_versions(PolicyArn=arn).get("Versions", [])
            # IAM keeps at most 5 versions: drop the oldest non-default one first.
            old = sorted((v for v in versions if not v.get("IsDefaultVersion")),
                         key=lambda v: v["CreateDate"])
            if len(versions) >= 5 and old:
                calls.append(ApiCall("iam", "delete_policy_version", {
                    "PolicyArn": arn, "VersionId": old[0]["VersionId"]}))
            calls.append(ApiCall("iam", "create_policy_version", {
                "PolicyArn": arn, "PolicyDocument": json.dumps(doc), "SetAsDefault": True}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("iam", "tag_policy", {"PolicyArn": arn,
                                                       "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, PUBLISHER_POLICY, name, changes,
                    tuple(calls), note=f"attach {arn} to the web app's instance role")

    # ------------------------------------------------------------ SES identity
    def ses_identity(self) -> Step:
        ses = self.c("ses")
        identity, kind = self.specs.ses_identity, self.specs.ses_identity_kind
        attrs = ses.get_identity_verification_attributes(Identities=[identity]).get(
            "VerificationAttributes", {}).get(identity)
        note = ("SES identities carry no tags: an existing identity is used as is and "
                "teardown keeps it")
        self.exists[SES_IDENTITY] = attrs is not None
        verify = (ApiCall("ses", "verify_domain_identity", {"Domain": identity})
                  if kind == "domain" else
                  ApiCall("ses", "verify_email_identity", {"EmailAddress": identity}))
        dkim = ApiCall("ses", "verify_domain_dkim", {"Domain": identity})
        if attrs is None:
            calls = (verify, dkim) if kind == "domain" else (verify,)
            wanted = "verified, Easy DKIM on" if kind == "domain" else "verified"
            return Step(CREATE, SES_IDENTITY, identity, {"identity": (None, wanted)}, calls,
                        note=note)
        changes: dict[str, tuple[Any, Any]] = {}
        calls_list: list[ApiCall] = []
        status = attrs.get("VerificationStatus")
        if status in ("Failed", "TemporaryFailure") or (status == "NotStarted"
                                                         and kind == "email"):
            # Email verification links expire after 24 h: ask for a new one.
            changes["VerificationStatus"] = (status, "Pending")
            calls_list.append(verify)
        if kind == "domain":
            d = ses.get_identity_dkim_attributes(Identities=[identity]).get(
                "DkimAttributes", {}).get(identity, {})
            if not d.get("DkimTokens"):
                changes["DkimTokens"] = (None, "3 tokens")
                calls_list.append(dkim)
            elif not d.get("DkimEnabled"):
                changes["DkimEnabled"] = (False, True)
                calls_list.append(ApiCall("ses", "set_identity_dkim_enabled",
                                          {"Identity": identity, "DkimEnabled": True}))
        return Step(UPDATE if calls_list else UNCHANGED, SES_IDENTITY, identity, changes,
                    tuple(calls_list), note=note)

    # ------------------------------------------------------------ function
    def alias_probe(self) -> None:
        """Read the alias first: the function's update must know whether it exists."""
        lam = self.c("lambda")
        alias = reads.alias(lam, self.env.function_name, self.env.alias_name)
        self.exists[ALIAS] = alias is not None
        self.alias_version = alias["FunctionVersion"] if alias else None
        return None

    def function(self) -> Step:
        lam = self.c("lambda")
        name = self.env.function_name
        wanted = self.specs.function
        live = reads.function(lam, name)
        self.exists[FUNCTION] = live is not None
        if live is None:
            self.exists[ALIAS] = False
            params = {"FunctionName": name, "Role": self.arns.role, "Code": {"ZipFile": CODE},
                      "Description": self.specs.description, "Publish": False,
                      "Tags": dict(self.specs.tags), **wanted.as_api()}
            return Step(CREATE, FUNCTION, name,
                        {k: (None, v) for k, v in wanted.as_api().items()}, (
                ApiCall("lambda", "create_function", params),
                ApiCall("wait", "function_active", {"FunctionName": name}),
            ))
        tags = live.get("Tags") or {}
        if (foreign := self._foreign(FUNCTION, name, tags)) is not None:
            return foreign
        latest = live["Configuration"]
        # Drift is what `live` serves, not $LATEST: a configuration update whose
        # publish failed leaves $LATEST new and `live` old (issue 11, bug 1).
        served = (lam.get_function_configuration(FunctionName=name,
                                                 Qualifier=self.alias_version)
                  if self.alias_version else latest)
        changes = config_drift(served, wanted, self.arns.role)
        calls: list[ApiCall] = []
        note = ""
        if changes:
            refused = self._code_to_restore(served, latest)
            if isinstance(refused, Step):
                return refused
            calls += refused
            calls += config_update_calls(
                name, wanted, role_arn=self.arns.role,
                alias=self.env.alias_name if self.exists.get(ALIAS) else None,
                alias_code_sha256=served["CodeSha256"] if self.alias_version else None,
                alias_version=self.alias_version)
            note = ("configuration only: code is deploy-lambda's; the alias moves to a new "
                    "version with the same code")
            if refused:
                note += (f" (the code `live` serves is uploaded again first: $LATEST held "
                         f"{latest.get('CodeSha256')})")
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("lambda", "tag_resource", {"Resource": self.arns.function,
                                                            "Tags": dict(self.specs.tags)}))
        return Step(UPDATE if calls else UNCHANGED, FUNCTION, name, changes, tuple(calls),
                    note=note)

    def _code_to_restore(self, served: dict[str, Any],
                         latest: dict[str, Any]) -> list[ApiCall] | Step:
        """A configuration fix publishes $LATEST; it must publish the code `live` serves.

        After a rollback or `deploy-lambda --publish-only`, $LATEST holds other code
        (issue 11, bug 3). Lambda cannot copy code from a version, so the package
        this tree builds is uploaded first when it is exactly that code; otherwise
        the step is refused (a conflict) and says why."""
        if not self.alias_version or latest.get("CodeSha256") == served.get("CodeSha256"):
            return []
        name = self.env.function_name
        if self._package_sha256 is not None and self._package_sha256() == served.get(
                "CodeSha256"):
            return [ApiCall("lambda", "update_function_code",
                            {"FunctionName": name, "ZipFile": CODE}),
                    ApiCall("wait", "function_updated", {"FunctionName": name})]
        return Step(CONFLICT, FUNCTION, name,
                    config_drift(served, self.specs.function, self.arns.role),
                    note=f"`live` (version {self.alias_version}) serves code "
                         f"{served.get('CodeSha256')} but $LATEST holds "
                         f"{latest.get('CodeSha256')} (after a rollback or `deploy-lambda "
                         "--publish-only`), and this source does not build the code `live` "
                         "serves: a configuration fix would publish other code. Run "
                         "`notifyctl deploy-lambda` to ship code and configuration "
                         "together.")

    def alias(self) -> Step:
        name = self.env.function_name
        alias = self.env.alias_name
        if self.exists.get(ALIAS):
            return Step(UNCHANGED, ALIAS, f"{name}:{alias}",
                        note=f"-> version {self.alias_version}")
        return Step(CREATE, ALIAS, f"{name}:{alias}", {"FunctionVersion": (None, "new version")}, (
            ApiCall("lambda", "publish_version", {"FunctionName": name,
                                                  "Description": "notifyctl bootstrap"},
                    output=ALIAS_VERSION, output_key="Version"),
            ApiCall("lambda", "create_alias", {"FunctionName": name, "Name": alias,
                                               "FunctionVersion": Var(ALIAS_VERSION),
                                               "Description": "what SNS invokes"}),
        ))

    def invoke_config(self) -> Step:
        name, alias = self.env.function_name, self.env.alias_name
        wanted = {"MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
                  "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S,
                  "DestinationConfig": {"OnFailure": {"Destination": self.arns.queue}}}
        params = {"FunctionName": name, "Qualifier": alias, **wanted}
        live = None
        if self.exists.get(ALIAS):
            live = get_or_none(self.c("lambda").get_function_event_invoke_config,
                               *LAMBDA_NOT_FOUND, FunctionName=name, Qualifier=alias)
        if live is None:
            return Step(CREATE, INVOKE_CONFIG, f"{name}:{alias}",
                        {k: (None, v) for k, v in wanted.items()},
                        (ApiCall("lambda", "put_function_event_invoke_config", params),))
        changes: dict[str, tuple[Any, Any]] = {}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if live.get(key) != wanted[key]:
                changes[key] = (live.get(key), wanted[key])
        live_dest = ((live.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination")
        if live_dest != self.arns.queue:
            changes["OnFailure"] = (live_dest, self.arns.queue)
        calls = ((ApiCall("lambda", "update_function_event_invoke_config", params),)
                 if changes else ())
        return Step(UPDATE if calls else UNCHANGED, INVOKE_CONFIG, f"{name}:{alias}",
                    changes, calls)

    def permission(self) -> Step:
        name, alias = self.env.function_name, self.env.alias_name
        return self._sns_permission(PERMISSION, name, alias, SNS_PERMISSION_SID,
                                    self.arns.topic, bool(self.exists.get(ALIAS)))

    def _sns_permission(self, kind: str, name: str, qualifier: str | None, sid: str,
                        topic_arn: str, target_exists: bool) -> Step:
        """SNS may invoke the function (an alias, or unqualified), from one topic."""
        params = policies.sns_invoke_permission(
            function_name=name, qualifier=qualifier, statement_id=sid,
            topic_arn=topic_arn, account=self.specs.account)
        add = ApiCall("lambda", "add_permission", params)
        where = {"Qualifier": qualifier} if qualifier else {}
        statement = None
        if target_exists:
            got = get_or_none(self.c("lambda").get_policy, *LAMBDA_NOT_FOUND,
                              FunctionName=name, **where)
            doc = json.loads(got["Policy"]) if got else {}
            statement = next((s for s in doc.get("Statement", []) if s.get("Sid") == sid),
                             None)
        label = f"{name}:{qualifier} {sid}" if qualifier else f"{name} {sid}"
        if statement is None:
            return Step(CREATE, kind, label, {"SourceArn": (None, topic_arn)}, (add,))
        live = permission_facts(statement)
        wanted = {"Principal": "sns.amazonaws.com", "Action": "lambda:InvokeFunction",
                  "SourceArn": topic_arn, "SourceAccount": self.specs.account}
        changes = {k: (live.get(k), v) for k, v in wanted.items() if live.get(k) != v}
        if not changes:
            return Step(UNCHANGED, kind, label)
        return Step(UPDATE, kind, label, changes, (
            ApiCall("lambda", "remove_permission", {"FunctionName": name, **where,
                                                    "StatementId": sid}),
            add))

    def subscription(self) -> Step:
        label = f"{self.env.topic_name} -> {self.env.function_name}:{self.env.alias_name}"
        return self._subscription(SUBSCRIPTION, self.arns.topic, bool(self.exists.get(TOPIC)),
                                  self.arns.alias, label)

    def _subscription(self, kind: str, topic_arn: str, topic_exists: bool, endpoint: str,
                      label: str, filter_policy: dict[str, Any] | None = None) -> Step:
        """The topic's `lambda` subscription of `endpoint`; with `filter_policy`, a
        MessageBody-scoped filter reconciled as a document (SNS re-serialises it)."""
        found = None
        if topic_exists:
            for sub in lambda_subscriptions(self.c("sns"), topic_arn):
                if sub.get("Endpoint") == endpoint:
                    found = sub
        wanted = {} if filter_policy is None else {
            "FilterPolicyScope": FEEDBACK_FILTER_SCOPE, "FilterPolicy": json.dumps(filter_policy)}
        if found is None:
            return Step(CREATE, kind, label, {"Endpoint": (None, endpoint)}, (
                ApiCall("sns", "subscribe", {"TopicArn": topic_arn, "Protocol": "lambda",
                                             "Endpoint": endpoint,
                                             "ReturnSubscriptionArn": True,
                                             **({"Attributes": wanted} if wanted else {})}),
            ))
        arn = found.get("SubscriptionArn", "")
        if not wanted or arn in ("", "PendingConfirmation"):
            return Step(UNCHANGED, kind, label, note=arn)
        live = self.c("sns").get_subscription_attributes(
            SubscriptionArn=arn).get("Attributes", {})
        live_policy = json.loads(live["FilterPolicy"]) if live.get("FilterPolicy") else None
        live_scope = live.get("FilterPolicyScope") if live_policy is not None else None
        if live_policy == filter_policy and live_scope == FEEDBACK_FILTER_SCOPE:
            return Step(UNCHANGED, kind, label, note=arn)
        # The scope first: SNS validates a policy against the scope already set.
        return Step(UPDATE, kind, label, {
            "FilterPolicy": (live_policy, filter_policy),
            "FilterPolicyScope": (live_scope, FEEDBACK_FILTER_SCOPE)}, tuple(
                ApiCall("sns", "set_subscription_attributes", {
                    "SubscriptionArn": arn, "AttributeName": name, "AttributeValue": value})
                for name, value in wanted.items()), note=arn)

    # ------------------------------------------------------------ SES feedback (issue 17)
    def configuration_set(self) -> Step:
        """The configuration set every send names: reputation metrics on (CloudWatch
        Reputation.BounceRate / ComplaintRate), sending on; tagged (SESv2)."""
        sesv2 = self.c("sesv2")
        name, arn = self.env.configuration_set_name, self.arns.configuration_set
        live = reads.configuration_set(sesv2, name)
        self.exists[CONFIGURATION_SET] = live is not None
        if live is None:
            return Step(CREATE, CONFIGURATION_SET, name, {
                "ReputationMetricsEnabled": (None, True), "SendingEnabled": (None, True)}, (
                ApiCall("sesv2", "create_configuration_set", {
                    "ConfigurationSetName": name,
                    "ReputationOptions": {"ReputationMetricsEnabled": True},
                    "SendingOptions": {"SendingEnabled": True},
                    "Tags": self.specs.tag_list()}),),
                note="suppression: the account's list (no override on the set)")
        tags = reads.configuration_set_tags(sesv2, arn)
        if (foreign := self._foreign(CONFIGURATION_SET, name, tags)) is not None:
            return foreign
        changes: dict[str, tuple[Any, Any]] = {}
        calls: list[ApiCall] = []
        reputation = bool((live.get("ReputationOptions") or {}).get("ReputationMetricsEnabled"))
        if not reputation:
            changes["ReputationMetricsEnabled"] = (reputation, True)
            calls.append(ApiCall("sesv2", "put_configuration_set_reputation_options", {
                "ConfigurationSetName": name, "ReputationMetricsEnabled": True}))
        sending = (live.get("SendingOptions") or {}).get("SendingEnabled", True)
        if sending is False:
            changes["SendingEnabled"] = (False, True)
            calls.append(ApiCall("sesv2", "put_configuration_set_sending_options", {
                "ConfigurationSetName": name, "SendingEnabled": True}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("sesv2", "tag_resource", {"ResourceArn": arn,
                                                           "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, CONFIGURATION_SET, name, changes,
                    tuple(calls))

    def event_destination(self) -> Step:
        """The configuration set's SNS event destination (owned through the set: event
        destinations carry no tags; deleting the set deletes it)."""
        cs, name = self.env.configuration_set_name, self.env.event_destination_name
        wanted = {"Enabled": True, "MatchingEventTypes": list(SES_EVENT_TYPES),
                  "SnsDestination": {"TopicArn": self.arns.ses_events_topic}}
        label = f"{cs} -> {self.env.ses_events_topic_name}"
        params = {"ConfigurationSetName": cs, "EventDestinationName": name,
                  "EventDestination": wanted}
        live = None
        if self.exists.get(CONFIGURATION_SET):
            live = next((d for d in reads.event_destinations(self.c("sesv2"), cs)
                         if d.get("Name") == name), None)
        if live is None:
            return Step(CREATE, EVENT_DESTINATION, label, {
                "MatchingEventTypes": (None, list(SES_EVENT_TYPES)),
                "TopicArn": (None, self.arns.ses_events_topic)},
                (ApiCall("sesv2", "create_configuration_set_event_destination", params),))
        facts = {"Enabled": bool(live.get("Enabled")),
                 "MatchingEventTypes": sorted(live.get("MatchingEventTypes") or []),
                 "TopicArn": (live.get("SnsDestination") or {}).get("TopicArn")}
        goal = {"Enabled": True, "MatchingEventTypes": sorted(SES_EVENT_TYPES),
                "TopicArn": self.arns.ses_events_topic}
        changes = {k: (facts[k], v) for k, v in goal.items() if facts[k] != v}
        calls = ((ApiCall("sesv2", "update_configuration_set_event_destination", params),)
                 if changes else ())
        return Step(UPDATE if calls else UNCHANGED, EVENT_DESTINATION, label, changes, calls)

    def account_suppression(self) -> Step:
        """Bounces and complaints suppressed account-wide (SESv2 account attributes)."""
        wanted = sorted(SUPPRESSED_REASONS)
        live = reads.suppressed_reasons(self.c("sesv2"))
        label = f"account {self.specs.account} ({self.arns.region})"
        if live == wanted:
            return Step(UNCHANGED, ACCOUNT_SUPPRESSION, label, note=ACCOUNT_WIDE_NOTE)
        return Step(UPDATE, ACCOUNT_SUPPRESSION, label, {"SuppressedReasons": (live, wanted)}, (
            ApiCall("sesv2", "put_account_suppression_attributes",
                    {"SuppressedReasons": wanted}),), note=ACCOUNT_WIDE_NOTE)

    def feedback_role(self) -> Step:
        return self._role(FEEDBACK_ROLE, self.env.feedback_role_name, self.specs.trust_policy,
                          FEEDBACK_POLICY_NAME, self.specs.feedback_policy,
                          f"notifyctl: {self.env.feedback_function_name} (SES events -> "
                          "de-dup records)")

    def feedback_log_group(self) -> Step:
        return self._log_group(FEEDBACK_LOG_GROUP, self.env.feedback_log_group_name)

    def feedback_function(self) -> Step:
        spec = self.specs.feedback
        assert spec is not None  # build_specs always sets it
        step = self._companion_function(
            FEEDBACK_FUNCTION, spec.name, spec.as_api(self.arns.feedback_role),
            f"notifyctl SES feedback of {self.env.function_name}",
            f"{spec.handler}; code follows deploy-lambda")
        self.exists[FEEDBACK_FUNCTION] = step.action != CREATE
        return step

    def feedback_permission(self) -> Step:
        return self._sns_permission(FEEDBACK_PERMISSION, self.env.feedback_function_name, None,
                                    FEEDBACK_PERMISSION_SID, self.arns.ses_events_topic,
                                    bool(self.exists.get(FEEDBACK_FUNCTION)))

    def feedback_subscription(self) -> Step:
        label = f"{self.env.ses_events_topic_name} -> {self.env.feedback_function_name}"
        return self._subscription(FEEDBACK_SUBSCRIPTION, self.arns.ses_events_topic,
                                  bool(self.exists.get(SES_EVENTS_TOPIC)),
                                  self.arns.feedback_function, label,
                                  filter_policy=FEEDBACK_FILTER_POLICY)

    # ------------------------------------------------------------ releases (issue 16)
    def alarm(self, spec: AlarmSpec) -> Step:
        cw = self.c("cloudwatch")
        wanted = spec.params()
        put = ApiCall("cloudwatch", "put_metric_alarm", {**wanted, "Tags": self.specs.tag_list()})
        live = reads.alarm(cw, spec.name)
        if live is None:
            return Step(CREATE, ALARM, spec.name, {
                "metric": (None, f"{spec.namespace} {spec.metric} {spec.statistic}"),
                "threshold": (None, f"{spec.comparison} {spec.threshold:g}"),
                "Period": (None, spec.period_s)}, (put,))
        tags = reads.alarm_tags(cw, live["AlarmArn"])
        if (foreign := self._foreign(ALARM, spec.name, tags)) is not None:
            return foreign
        changes = {k: (live.get(k), v) for k, v in _alarm_facts(wanted).items()
                   if _alarm_facts(live).get(k) != v}
        calls: list[ApiCall] = [put] if changes else []
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("cloudwatch", "tag_resource", {
                "ResourceARN": live["AlarmArn"], "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, ALARM, spec.name, changes, tuple(calls),
                    note=f"state {live.get('StateValue')}")

    def codedeploy_application(self) -> Step:
        cd = self.c("codedeploy")
        name = self.env.codedeploy_application_name
        live = reads.codedeploy_application(cd, name)
        self.exists[CODEDEPLOY_APP] = live is not None
        if live is None:
            return Step(CREATE, CODEDEPLOY_APP, name, {"computePlatform": (None, "Lambda")}, (
                ApiCall("codedeploy", "create_application", {
                    "applicationName": name, "computePlatform": "Lambda",
                    "tags": self.specs.tag_list()}),))
        tags = reads.codedeploy_tags(cd, self.arns.codedeploy_application)
        if (foreign := self._foreign(CODEDEPLOY_APP, name, tags)) is not None:
            return foreign
        if live.get("computePlatform") != "Lambda":
            return Step(CONFLICT, CODEDEPLOY_APP, name,
                        {"computePlatform": (live.get("computePlatform"), "Lambda")},
                        note="an application's compute platform cannot change; delete it "
                             "(`notifyctl teardown`) and bootstrap again")
        calls: tuple[ApiCall, ...] = ()
        changes = _tag_changes(tags, self.specs.tags)
        if changes:
            calls = (ApiCall("codedeploy", "tag_resource", {
                "ResourceArn": self.arns.codedeploy_application,
                "Tags": self.specs.tag_list()}),)
        return Step(UPDATE if calls else UNCHANGED, CODEDEPLOY_APP, name, changes, calls)

    def deployment_group(self) -> Step:
        spec = self.specs.deployment_group
        assert spec is not None  # build_specs always sets it
        cd = self.c("codedeploy")
        wanted = {"serviceRoleArn": spec.service_role_arn,
                  "alarmConfiguration": spec.alarm_configuration(),
                  "autoRollbackConfiguration": spec.rollback_configuration()}
        live = (reads.deployment_group(cd, spec.application, spec.name)
                if self.exists.get(CODEDEPLOY_APP) else None)
        if live is None:
            return Step(CREATE, DEPLOYMENT_GROUP, spec.name,
                        {"alarms": (None, list(spec.alarms)),
                         "autoRollback": (None, list(spec.rollback_events))}, (
                ApiCall("codedeploy", "create_deployment_group", {
                    "applicationName": spec.application, "deploymentGroupName": spec.name,
                    "deploymentConfigName": GROUP_DEFAULT_CONFIG,
                    "deploymentStyle": {"deploymentType": "BLUE_GREEN",
                                        "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                    **wanted, "tags": self.specs.tag_list()}),),
                note="every deployment names its own strategy (release.strategy)")
        tags = reads.codedeploy_tags(cd, self.arns.deployment_group)
        if (foreign := self._foreign(DEPLOYMENT_GROUP, spec.name, tags)) is not None:
            return foreign
        changes = {k: (live.get(k), v) for k, v in wanted.items()
                   if _group_fact(k, live.get(k)) != _group_fact(k, v)}
        calls: list[ApiCall] = []
        if changes:
            calls.append(ApiCall("codedeploy", "update_deployment_group", {
                "applicationName": spec.application, "currentDeploymentGroupName": spec.name,
                **wanted}))
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("codedeploy", "tag_resource", {
                "ResourceArn": self.arns.deployment_group, "Tags": self.specs.tag_list()}))
        return Step(UPDATE if calls else UNCHANGED, DEPLOYMENT_GROUP, spec.name, changes,
                    tuple(calls))

    def hook_function(self, hook: HookSpec) -> Step:
        """A hook: created from this package; its configuration reconciled here, its
        code updated by deploy-lambda with the notifier's (one release)."""
        return self._companion_function(
            HOOK_FUNCTION, hook.name, hook.as_api(self.arns.hook_role),
            f"notifyctl {hook.event} hook of {self.env.function_name}",
            f"{hook.event} hook ({hook.handler})")

    def _companion_function(self, kind: str, name: str, wanted: dict[str, Any],
                            description: str, note: str) -> Step:
        """A function built from the notifier's package with another handler (a hook,
        the feedback function): created here, its configuration reconciled here, its
        code shipped by deploy-lambda."""
        lam = self.c("lambda")
        live = reads.function(lam, name)
        if live is None:
            return Step(CREATE, kind, name, {"Handler": (None, wanted["Handler"])}, (
                ApiCall("lambda", "create_function", {
                    "FunctionName": name, "Code": {"ZipFile": CODE}, "Publish": False,
                    "Description": description, "Tags": dict(self.specs.tags), **wanted}),
                ApiCall("wait", "function_active", {"FunctionName": name})), note=note)
        tags = live.get("Tags") or {}
        if (foreign := self._foreign(kind, name, tags)) is not None:
            return foreign
        conf = live["Configuration"]
        facts = {"Role": conf.get("Role"), "Handler": conf.get("Handler"),
                 "Runtime": conf.get("Runtime"), "Timeout": conf.get("Timeout"),
                 "MemorySize": conf.get("MemorySize"),
                 "Environment": {"Variables": (conf.get("Environment") or {}).get(
                     "Variables") or {}}}
        changes: dict[str, tuple[Any, Any]] = {k: (facts[k], v) for k, v in wanted.items()
                                               if facts[k] != v}
        calls: list[ApiCall] = []
        if changes:
            calls += [ApiCall("wait", "function_settled", {"FunctionName": name}),
                      ApiCall("lambda", "update_function_configuration",
                              {"FunctionName": name, **wanted}),
                      ApiCall("wait", "function_updated", {"FunctionName": name})]
        if tag_changes := _tag_changes(tags, self.specs.tags):
            changes.update(tag_changes)
            calls.append(ApiCall("lambda", "tag_resource", {
                "Resource": self.arns.function_named(name), "Tags": dict(self.specs.tags)}))
        return Step(UPDATE if calls else UNCHANGED, kind, name, changes, tuple(calls),
                    note=note)


ALARM_FIELDS = ("Namespace", "MetricName", "Dimensions", "Statistic", "Period",
                "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                "TreatMissingData", "ActionsEnabled")


def _alarm_facts(alarm: dict[str, Any]) -> dict[str, Any]:
    """The fields of an alarm we manage, comparable between DescribeAlarms and our spec."""
    facts = {k: alarm.get(k) for k in ALARM_FIELDS}
    facts["Dimensions"] = sorted((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or [])
    if facts["Threshold"] is not None:
        facts["Threshold"] = float(facts["Threshold"])
    return facts


def _group_fact(key: str, value: Any) -> Any:
    """A deployment group's field in a comparable form (alarm and event lists as sets)."""
    value = value or {}
    if key == "alarmConfiguration":
        return (bool(value.get("enabled")), bool(value.get("ignorePollAlarmFailure")),
                sorted(a.get("name", "") for a in value.get("alarms") or []))
    if key == "autoRollbackConfiguration":
        return (bool(value.get("enabled")), sorted(value.get("events") or []))
    return value


def lambda_subscriptions(sns: Any, topic_arn: str) -> Iterator[dict[str, Any]]:
    """The topic's subscriptions of protocol `lambda`, every page."""
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "lambda":
                yield sub


def permission_facts(statement: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Lambda resource-policy statement we care about."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("Service") or principal.get("AWS")
    cond = statement.get("Condition") or {}
    source_arn = ((cond.get("ArnLike") or {}).get("AWS:SourceArn")
                  or (cond.get("ArnEquals") or {}).get("AWS:SourceArn"))
    source_account = (cond.get("StringEquals") or {}).get("AWS:SourceAccount")
    return {"Principal": principal, "Action": statement.get("Action"),
            "SourceArn": source_arn, "SourceAccount": source_account}


def make_plan(aws: ClientFactory, specs: Specs, *,
              package_sha256: Callable[[], str] | None = None, adopt: bool = False) -> Plan:
    """Plan `specs` against the account `aws` points at (`adopt`: see infra.ownership)."""
    return Planner(aws.client, specs, package_sha256=package_sha256, adopt=adopt).plan()
