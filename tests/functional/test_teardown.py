"""`notifyctl teardown` against moto: only our tagged resources, in order, table kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.functional



@pytest.fixture
def run(cli: Any, pipeline_config: Any, moto_aws: None) -> Any:
    path = pipeline_config("d-books")

    def invoke(*args: str, env: str = "dev") -> Any:
        return cli("--config", path, "--env", env, *args)
    return invoke


def teardown_json(run: Any, *args: str, env: str = "dev") -> dict[str, Any]:
    result = run("--output", "json", "teardown", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_teardown_removes_what_bootstrap_created_and_keeps_the_table(
        run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    report = teardown_json(run, "--yes")
    assert [d["resource"] for d in report["deleted"]] == [
        "codedeploy-app", "cloudwatch-alarm", "codedeploy-role", "hook-function",
        "hook-log-group", "hook-role", "feedback-sns-sub", "feedback-function",
        "feedback-log-group", "feedback-role", "sns-subscription", "lambda-function",
        "ses-config-set", "ses-events-topic", "log-group", "iam-role", "iam-policy",
        "sns-topic", "sqs-queue"]
    assert {k["resource"] for k in report["kept"]} == {"dynamodb-table", "ses-identity",
                                                       "account-suppression"}
    c = aws_clients.client
    assert c("dynamodb").describe_table(TableName="d-books-dedup")["Table"]
    assert c("sns").list_topics()["Topics"] == []
    assert c("sesv2").list_configuration_sets()["ConfigurationSets"] == []
    assert c("lambda").list_functions()["Functions"] == []
    assert c("iam").list_roles()["Roles"] == []
    assert c("sqs").list_queues().get("QueueUrls", []) == []
    assert c("codedeploy").list_applications()["applications"] == []
    assert c("cloudwatch").describe_alarms()["MetricAlarms"] == []
    status = run("status")
    assert status.exit_code == 1
    # a second teardown finds nothing of ours left but the table
    again = teardown_json(run, "--yes")
    assert again["deleted"] == []


def test_teardown_text_lists_deleted_and_kept(run: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    result = run("teardown", "--yes")
    assert result.exit_code == 0, result.output
    assert "deleted sns-topic d-books-book-events" in result.stdout
    assert "kept    dynamodb-table d-books-dedup" in result.stdout
    assert "--delete-data" in result.stdout


def test_delete_data_also_deletes_the_table(run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    report = teardown_json(run, "--yes", "--delete-data")
    assert "dynamodb-table" in [d["resource"] for d in report["deleted"]]
    tables = aws_clients.client("dynamodb").list_tables()["TableNames"]
    assert "d-books-dedup" not in tables


def test_a_protected_table_survives_delete_data_until_protection_is_turned_off(
        cli: Any, pipeline_config: Any, moto_aws: None, aws_clients: Any) -> None:
    protected = pipeline_config("d-books", protect=True)
    unprotected = pipeline_config("d-books", protect=False)
    ddb = aws_clients.client("dynamodb")
    assert cli("--config", protected, "--env", "dev", "bootstrap", "--yes").exit_code == 0
    assert ddb.describe_table(TableName="d-books-dedup")["Table"]["DeletionProtectionEnabled"]

    result = cli("--config", protected, "--env", "dev", "-o", "json", "teardown", "--yes",
                 "--delete-data")
    assert result.exit_code == 0, result.output
    kept = {k["resource"]: k["reason"] for k in json.loads(result.stdout)["kept"]}
    assert "deletion protection is on" in kept["dynamodb-table"]
    assert "d-books-dedup" in ddb.list_tables()["TableNames"]

    # Turning protection off is a planned, visible change; then the table can go.
    plan = cli("--config", unprotected, "--env", "dev", "-o", "json", "bootstrap", "--plan")
    table = next(s for s in json.loads(plan.stdout) if s["resource"] == "dynamodb-table")
    assert table["changes"]["deletion_protection"] == {"live": True, "wanted": False}
    assert cli("--config", unprotected, "--env", "dev", "bootstrap", "--yes").exit_code == 0
    assert cli("--config", unprotected, "--env", "dev", "teardown", "--yes",
               "--delete-data").exit_code == 0
    assert "d-books-dedup" not in ddb.list_tables()["TableNames"]


def test_teardown_refuses_without_yes_when_not_interactive(run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    result = run("teardown")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert len(aws_clients.client("sns").list_topics()["Topics"]) == 2  # + the SES events


def test_resources_without_our_tags_are_never_touched(run: Any, aws_clients: Any) -> None:
    c = aws_clients.client
    topic = c("sns").create_topic(Name="d-books-book-events")["TopicArn"]
    url = c("sqs").create_queue(QueueName="d-books-notifier-failures")["QueueUrl"]
    c("sqs").tag_queue(QueueUrl=url, Tags={"managed-by": "someone-else"})
    c("dynamodb").create_table(TableName="d-books-dedup", BillingMode="PAY_PER_REQUEST",
                               AttributeDefinitions=[{"AttributeName": "pk",
                                                      "AttributeType": "S"}],
                               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    report = teardown_json(run, "--yes", "--delete-data")
    assert report["deleted"] == []
    not_ours = {k["resource"] for k in report["kept"] if k["action"] == "not-ours"}
    assert not_ours == {"sns-topic", "sqs-queue", "dynamodb-table"}
    assert c("sns").get_topic_attributes(TopicArn=topic)
    assert c("sqs").get_queue_url(QueueName="d-books-notifier-failures")
    assert c("dynamodb").describe_table(TableName="d-books-dedup")


def test_another_environments_resources_are_not_ours(run: Any, aws_clients: Any) -> None:
    # "other" uses the same prefix (a misconfiguration): its resources carry env=other
    assert run("bootstrap", "--yes", env="other").exit_code == 0
    report = teardown_json(run, "--yes")
    assert report["deleted"] == []
    assert len(aws_clients.client("sns").list_topics()["Topics"]) == 2  # + the SES events
    plan = json.loads(run("--output", "json", "bootstrap", "--plan").stdout)
    topic = next(s for s in plan if s["resource"] == "sns-topic")
    assert topic["action"] == "conflict"
    assert "'other'" in topic["note"]


def test_publisher_policy_still_attached_is_kept_with_the_reason(
        run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    iam = aws_clients.client("iam")
    iam.create_role(RoleName="webapp", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    arn = "arn:aws:iam::123456789012:policy/d-books-book-publisher"
    iam.attach_role_policy(RoleName="webapp", PolicyArn=arn)
    report = teardown_json(run, "--yes")
    kept = {k["resource"]: k["reason"] for k in report["kept"]}
    assert "role webapp" in kept["iam-policy"]
    assert iam.get_policy(PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="webapp")["AttachedPolicies"]
