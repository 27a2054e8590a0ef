"""The read calls that find each resource of an environment, shared by the planner
(`bootstrap`, `status`) and `teardown`'s probes, so both agree on what exists.

Each finder answers None when the resource does not exist (`aws.calls.get_or_none`)
and raises anything else; each tag reader answers a plain {key: value} dict.
"""

from __future__ import annotations

from typing import Any

from notifyctl.aws.calls import (
    CODEDEPLOY_APP_NOT_FOUND,
    CODEDEPLOY_GROUP_NOT_FOUND,
    DYNAMODB_NOT_FOUND,
    IAM_NOT_FOUND,
    LAMBDA_NOT_FOUND,
    SESV2_NOT_FOUND,
    SNS_NOT_FOUND,
    SQS_NOT_FOUND,
    get_or_none,
    tag_dict,
)


def log_group(logs: Any, name: str) -> dict[str, Any] | None:
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    return next((g for g in groups if g["logGroupName"] == name), None)


def log_group_tags(logs: Any, arn: str) -> dict[str, str]:
    return dict(logs.list_tags_for_resource(resourceArn=arn).get("tags", {}))


def table(ddb: Any, name: str) -> dict[str, Any] | None:
    got = get_or_none(ddb.describe_table, *DYNAMODB_NOT_FOUND, TableName=name)
    return dict(got["Table"]) if got else None


def table_tags(ddb: Any, arn: str) -> dict[str, str]:
    return tag_dict(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags"))


def queue_url(sqs: Any, name: str) -> str | None:
    got = get_or_none(sqs.get_queue_url, *SQS_NOT_FOUND, QueueName=name)
    return str(got["QueueUrl"]) if got else None


def queue_tags(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))


def topic_attributes(sns: Any, arn: str) -> dict[str, str] | None:
    got = get_or_none(sns.get_topic_attributes, *SNS_NOT_FOUND, TopicArn=arn)
    return dict(got["Attributes"]) if got else None


def topic_tags(sns: Any, arn: str) -> dict[str, str]:
    return tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def role(iam: Any, name: str) -> dict[str, Any] | None:
    got = get_or_none(iam.get_role, *IAM_NOT_FOUND, RoleName=name)
    return dict(got["Role"]) if got else None


def role_tags(iam: Any, name: str) -> dict[str, str]:
    return tag_dict(iam.list_role_tags(RoleName=name).get("Tags"))


def role_policy(iam: Any, role_name: str, policy_name: str) -> Any | None:
    got = get_or_none(iam.get_role_policy, *IAM_NOT_FOUND, RoleName=role_name,
                      PolicyName=policy_name)
    return got["PolicyDocument"] if got else None


def managed_policy(iam: Any, arn: str) -> dict[str, Any] | None:
    got = get_or_none(iam.get_policy, *IAM_NOT_FOUND, PolicyArn=arn)
    return dict(got["Policy"]) if got else None


def policy_tags(iam: Any, arn: str) -> dict[str, str]:
    return tag_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags"))


def function(lam: Any, name: str) -> dict[str, Any] | None:
    """GetFunction: $LATEST's configuration and the function's tags."""
    got = get_or_none(lam.get_function, *LAMBDA_NOT_FOUND, FunctionName=name)
    return dict(got) if got else None


def alias(lam: Any, function_name: str, name: str) -> dict[str, Any] | None:
    got = get_or_none(lam.get_alias, *LAMBDA_NOT_FOUND, FunctionName=function_name, Name=name)
    return dict(got) if got else None


def alarm(cloudwatch: Any, name: str) -> dict[str, Any] | None:
    got = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])
    return next((dict(a) for a in got.get("MetricAlarms", []) if a["AlarmName"] == name), None)


def alarm_tags(cloudwatch: Any, arn: str) -> dict[str, str]:
    return tag_dict(cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags"))


def codedeploy_application(cd: Any, name: str) -> dict[str, Any] | None:
    got = get_or_none(cd.get_application, *CODEDEPLOY_APP_NOT_FOUND, applicationName=name)
    return dict(got["application"]) if got else None


def deployment_group(cd: Any, application: str, name: str) -> dict[str, Any] | None:
    got = get_or_none(cd.get_deployment_group, *CODEDEPLOY_GROUP_NOT_FOUND,
                      applicationName=application, deploymentGroupName=name)
    return dict(got["deploymentGroupInfo"]) if got else None


def codedeploy_tags(cd: Any, arn: str) -> dict[str, str]:
    return tag_dict(cd.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def configuration_set(sesv2: Any, name: str) -> dict[str, Any] | None:
    got = get_or_none(sesv2.get_configuration_set, *SESV2_NOT_FOUND, ConfigurationSetName=name)
    return dict(got) if got else None


def configuration_set_tags(sesv2: Any, arn: str) -> dict[str, str]:
    return tag_dict(sesv2.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def event_destinations(sesv2: Any, configuration_set: str) -> list[dict[str, Any]]:
    got = get_or_none(sesv2.get_configuration_set_event_destinations, *SESV2_NOT_FOUND,
                      ConfigurationSetName=configuration_set)
    return list((got or {}).get("EventDestinations") or [])


def suppressed_reasons(sesv2: Any) -> list[str]:
    """The account-level suppression list's reasons (SESv2 GetAccount)."""
    account = sesv2.get_account()
    return sorted((account.get("SuppressionAttributes") or {}).get("SuppressedReasons") or [])
