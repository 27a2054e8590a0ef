"""Turn a bootstrapped account into one "built by Terraform or a console": the same
resources, names and documents, without notifyctl's tags (for the adoption tests,
on moto and on the emulator). Uses the clients it is given; lists every resource,
so it needs no names."""

from __future__ import annotations

from typing import Any

KEYS = ["managed-by", "notifyctl:env", "notifyctl:project"]


def strip_notifyctl_tags(client: Any, *, region: str = "us-east-1") -> list[str]:
    """Remove notifyctl's tags from every resource; `client(service)` -> boto3 client.
    Returns what it untagged ("kind name")."""
    done: list[str] = []
    lam = client("lambda")
    for fn in lam.list_functions()["Functions"]:
        lam.untag_resource(Resource=fn["FunctionArn"], TagKeys=KEYS)
        done.append(f"function {fn['FunctionName']}")
    iam = client("iam")
    for role in iam.list_roles()["Roles"]:
        iam.untag_role(RoleName=role["RoleName"], TagKeys=KEYS)
        done.append(f"role {role['RoleName']}")
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        iam.untag_policy(PolicyArn=policy["Arn"], TagKeys=KEYS)
        done.append(f"policy {policy['PolicyName']}")
    sns = client("sns")
    for topic in sns.list_topics()["Topics"]:
        sns.untag_resource(ResourceArn=topic["TopicArn"], TagKeys=KEYS)
        done.append(f"topic {topic['TopicArn']}")
    sqs = client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.untag_queue(QueueUrl=url, TagKeys=KEYS)
        done.append(f"queue {url}")
    ddb = client("dynamodb")
    for name in ddb.list_tables()["TableNames"]:
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        ddb.untag_resource(ResourceArn=arn, TagKeys=KEYS)
        done.append(f"table {name}")
    logs = client("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        arn = group["arn"].removesuffix(":*")
        logs.untag_resource(resourceArn=arn, tagKeys=KEYS)
        done.append(f"log group {group['logGroupName']}")
    cw = client("cloudwatch")
    for alarm in cw.describe_alarms()["MetricAlarms"]:
        cw.untag_resource(ResourceARN=alarm["AlarmArn"], TagKeys=KEYS)
        done.append(f"alarm {alarm['AlarmName']}")
    cd = client("codedeploy")
    account = client("sts").get_caller_identity()["Account"]
    for app in cd.list_applications()["applications"]:
        base = f"arn:aws:codedeploy:{region}:{account}"
        cd.untag_resource(ResourceArn=f"{base}:application:{app}", TagKeys=KEYS)
        for group in cd.list_deployment_groups(applicationName=app)["deploymentGroups"]:
            cd.untag_resource(ResourceArn=f"{base}:deploymentgroup:{app}/{group}",
                              TagKeys=KEYS)
        done.append(f"codedeploy {app}")
    return done
