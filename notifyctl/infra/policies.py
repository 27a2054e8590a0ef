"""Every IAM and SNS policy document notifyctl writes, as pure functions.

Least privilege: each statement names exact ARNs. Where a `*` appears it is
written down in `WILDCARDS` below with the reason AWS requires it, and
tests/unit/test_policies.py checks every document against that list.
"""

from __future__ import annotations

import re
from typing import Any

VERSION = "2012-10-17"

# The only places a `*` is allowed in a document we write, and why.
# (document, what, reason)
WILDCARDS: tuple[tuple[str, str, str], ...] = (
    ("function_policy", "Resource suffix `log-group:/aws/lambda/<fn>:*`",
     "CreateLogStream/PutLogEvents are authorised on log-stream ARNs "
     "(`log-group:<name>:log-stream:<stream>`); stream names are chosen by Lambda at run "
     "time, so the group's streams are matched by the `:*` suffix. Not a bare `*`."),
    ("topic_policy", "Principal `*` in the DenyInsecureTransport statement",
     "A Deny must apply to every caller; it grants nothing."),
    ("hook_policy", "Resource suffix `function:<fn>:*` for lambda:InvokeFunction",
     "The BeforeAllowTraffic hook invokes the release's target version, whose number is "
     "known only when the release starts; `:*` matches this function's qualified ARNs "
     "(versions and aliases), never another function. Not a bare `*`."),
    ("hook_policy", "Resource `*` for cloudwatch:GetMetricStatistics",
     "GetMetricStatistics has no resource-level permissions (AWS's service authorization "
     "reference lists no resource type for it); the AfterAllowTraffic hook reads the "
     "target version's Errors with it, nothing else."),
)
# Bare `*` resources that AWS requires for an action we grant: only the hook's
# metric read. (Actions such as ses:GetSendQuota or sqs:ListQueues would need one;
# the function does not get them.)
WILDCARD_RESOURCE_ACTIONS: frozenset[str] = frozenset({"cloudwatch:GetMetricStatistics"})


def lambda_trust_policy(account: str) -> dict[str, Any]:
    """Lambda may assume the role, only on behalf of functions in this account."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }


def codedeploy_trust_policy(account: str) -> dict[str, Any]:
    """CodeDeploy may assume the release role, only for deployments in this account."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "codedeploy.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }


def codedeploy_policy(*, function_arn: str, alarm_arns: list[str],
                      hook_function_arns: list[str]) -> dict[str, Any]:
    """The release role's inline policy: what CodeDeploy does for a Lambda deployment.

    The actions of AWS's managed AWSCodeDeployRoleForLambda (GetAlias/UpdateAlias to
    shift traffic, GetProvisionedConcurrencyConfig, DescribeAlarms to watch the
    group's alarms, InvokeFunction for the lifecycle hooks), scoped to this
    environment's function, alarms and hooks instead of its `Resource: *` and
    `function:CodeDeployHook_*`. Its sns:Publish (triggers) and s3:GetObject (S3
    revisions) are left out: notifyctl sends the AppSpec as content and sets no
    triggers."""
    statements: list[dict[str, Any]] = [
        {"Sid": "ShiftAliasTraffic", "Effect": "Allow",
         "Action": ["lambda:GetAlias", "lambda:UpdateAlias",
                    "lambda:GetProvisionedConcurrencyConfig"],
         "Resource": [function_arn, function_arn + ":live"]},
        {"Sid": "WatchReleaseAlarms", "Effect": "Allow",
         "Action": "cloudwatch:DescribeAlarms", "Resource": list(alarm_arns)},
    ]
    if hook_function_arns:
        statements.append({"Sid": "InvokeLifecycleHooks", "Effect": "Allow",
                           "Action": "lambda:InvokeFunction",
                           "Resource": list(hook_function_arns)})
    return {"Version": VERSION, "Statement": statements}


def hook_policy(*, function_arn: str, table_arn: str, deployment_group_arn: str,
                hook_log_streams_arns: list[str]) -> dict[str, Any]:
    """The lifecycle hooks' role (lambda_src/book_notifier/hooks.py): invoke the
    target version, read the de-dup record, read the target's error metric, read the
    deployment and report the hook's status, write their own logs. The invocation's
    log lines come back with it (LogType=Tail): no logs:FilterLogEvents needed."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "InvokeTargetVersion", "Effect": "Allow",
             "Action": "lambda:InvokeFunction", "Resource": function_arn + ":*"},
            {"Sid": "ReadDedupRecord", "Effect": "Allow", "Action": "dynamodb:GetItem",
             "Resource": table_arn},
            {"Sid": "ReadTargetErrors", "Effect": "Allow",
             "Action": "cloudwatch:GetMetricStatistics", "Resource": "*"},
            # CodeDeploy authorises both on the deployment group the deployment runs in.
            {"Sid": "ReportHookStatus", "Effect": "Allow",
             "Action": ["codedeploy:GetDeployment",
                        "codedeploy:PutLifecycleEventHookExecutionStatus"],
             "Resource": deployment_group_arn},
            {"Sid": "WriteOwnLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": list(hook_log_streams_arns)},
        ],
    }


def function_policy(*, log_streams_arn: str, table_arn: str, queue_arn: str,
                    ses_identity_arns: list[str], sender: str) -> dict[str, Any]:
    """The execution role's one inline policy."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "WriteOwnLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": log_streams_arn},
            {"Sid": "DedupTable", "Effect": "Allow",
             "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
             "Resource": table_arn},
            {"Sid": "SendAsSender", "Effect": "Allow",
             "Action": ["ses:SendEmail", "ses:SendRawEmail"],
             "Resource": list(ses_identity_arns) if len(ses_identity_arns) > 1
             else ses_identity_arns[0],
             "Condition": {"StringEquals": {"ses:FromAddress": sender}}},
            {"Sid": "OnFailureDestination", "Effect": "Allow",
             "Action": "sqs:SendMessage",
             "Resource": queue_arn},
        ],
    }


def publisher_policy(topic_arn: str) -> dict[str, Any]:
    """The managed policy the web app's role attaches: publish to this topic only."""
    return {
        "Version": VERSION,
        "Statement": [{"Sid": "PublishBookEvents", "Effect": "Allow",
                       "Action": "sns:Publish", "Resource": topic_arn}],
    }


# What the topic's owner may do (the default topic policy's owner actions).
TOPIC_OWNER_ACTIONS = [
    "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission",
    "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
]


def topic_policy(topic_arn: str, account_root: str) -> dict[str, Any]:
    """Only principals of this account (those whose IAM policies allow it, i.e. the
    publisher policy) may publish; nobody may publish without TLS."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "AccountPublishers", "Effect": "Allow",
             "Principal": {"AWS": account_root}, "Action": "sns:Publish",
             "Resource": topic_arn},
            {"Sid": "AccountManages", "Effect": "Allow",
             "Principal": {"AWS": account_root}, "Action": list(TOPIC_OWNER_ACTIONS),
             "Resource": topic_arn},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def sns_invoke_permission(*, function_name: str, qualifier: str, statement_id: str,
                          topic_arn: str, account: str) -> dict[str, Any]:
    """add_permission arguments: SNS may invoke the alias, from this topic only."""
    return {
        "FunctionName": function_name,
        "Qualifier": qualifier,
        "StatementId": statement_id,
        "Action": "lambda:InvokeFunction",
        "Principal": "sns.amazonaws.com",
        "SourceArn": topic_arn,
        "SourceAccount": account,
    }


def normalize(doc: Any) -> Any:
    """A policy document in a canonical form, so that equivalent policies compare equal.

    AWS (and Terraform's `jsonencode`, or a console) may write the same policy in
    several forms; each pair below is one policy to IAM/SNS/SQS/Lambda, so it is one
    form here:

        "Statement": {...}                     "Statement": [{...}]
        "Action": "sns:Publish"                "Action": ["sns:Publish"]
        statements / string lists in any order (evaluation is order-insensitive)
        "Principal": "*"                       "Principal": {"AWS": "*"}
        "AWS": "123456789012"                  "AWS": "arn:aws:iam::123456789012:root"
        condition key "aws:SourceArn"          "AWS:SourceArn" (keys are case-insensitive)
        keys in any order; a URL-encoded document (IAM's GetRolePolicy)
    """
    import json
    from urllib.parse import unquote

    if isinstance(doc, str):
        text = doc
        if text.startswith("%7B") or text.startswith("%7b"):
            text = unquote(text)
        doc = json.loads(text)
    if isinstance(doc, dict) and "Statement" in doc:
        statements = doc["Statement"]
        if isinstance(statements, dict):
            statements = [statements]
        canon = [_canon(_statement(s)) for s in statements]
        doc = {**doc, "Statement": sorted(canon, key=lambda s: json.dumps(s, sort_keys=True))}
    return _canon(doc)


_ROOT_ARN = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):root$")


def _statement(statement: Any) -> Any:
    """One statement's principal and condition keys in their canonical form."""
    if not isinstance(statement, dict):
        return statement
    out = dict(statement)
    for key in ("Principal", "NotPrincipal"):
        principal = out.get(key)
        if principal == "*":
            principal = {"AWS": "*"}
        if isinstance(principal, dict) and "AWS" in principal:
            accounts = principal["AWS"] if isinstance(principal["AWS"], list) else [
                principal["AWS"]]
            principal = {**principal, "AWS": [
                m.group(1) if isinstance(a, str) and (m := _ROOT_ARN.match(a)) else a
                for a in accounts]}
        if principal is not None:
            out[key] = principal
    condition = out.get("Condition")
    if isinstance(condition, dict):
        out["Condition"] = {op: ({k.lower(): v for k, v in keys.items()}
                                 if isinstance(keys, dict) else keys)
                            for op, keys in condition.items()}
    return out


def _canon(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_canon(v) for v in value]
        if len(items) == 1 and not isinstance(items[0], dict | list):
            return items[0]
        if all(isinstance(i, str) for i in items):
            return sorted(items)
        return items
    return value


def lint(doc: Any) -> list[str]:
    """Problems of a policy document against our least-privilege rules: a `*` or
    `service:*` action, a bare `*` resource (unless the action is in
    WILDCARD_RESOURCE_ACTIONS), an Allow to a `*` principal. Empty when clean."""
    doc = normalize(doc)
    problems = []
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for i, st in enumerate(statements):
        sid = st.get("Sid", f"#{i}")
        actions = _as_list(st.get("Action"))
        if "NotAction" in st or "NotResource" in st:
            problems.append(f"{sid}: NotAction/NotResource grants too much")
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{sid}: wildcard action {action}")
        resources = _as_list(st.get("Resource"))
        for res in resources:
            if res == "*" and not set(actions) <= WILDCARD_RESOURCE_ACTIONS:
                problems.append(f"{sid}: bare `*` resource for {actions}")
        principal = st.get("Principal")
        if st.get("Effect") == "Allow" and (principal == "*" or (
                isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))):
            problems.append(f"{sid}: Allow to every principal")
    return problems


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
