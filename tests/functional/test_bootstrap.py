"""`notifyctl bootstrap` against moto: plan, apply, re-plan, drift, conflicts, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notifyctl.config import load
from notifyctl.infra import bootstrap, policies
from notifyctl.plans.model import CREATE, UNCHANGED, UPDATE

pytestmark = pytest.mark.functional

ALL_KINDS = ["log-group", "dynamodb-table", "sqs-queue", "sns-topic", "iam-role", "iam-policy",
             "ses-identity", "ses-events-topic", "ses-config-set",
             "event-destination", "account-suppression", "lambda-function",
             "lambda-alias", "event-invoke-config", "lambda-permission", "sns-subscription",
             "feedback-role", "feedback-log-group", "feedback-function", "feedback-permission",
             "feedback-sns-sub", "codedeploy-role", "cloudwatch-alarm",
             "cloudwatch-alarm", "cloudwatch-alarm", "codedeploy-app",
             "deployment-group", "hook-role", "hook-log-group", "hook-function",
             "hook-log-group", "hook-function"]
ACCOUNT = "123456789012"


@pytest.fixture
def write_config(pipeline_config: Any) -> Any:
    def write(memory: int = 256, retention: int = 30) -> str:
        return str(pipeline_config("t-books", memory=memory, retention=retention))
    return write


@pytest.fixture
def config(write_config: Any) -> str:
    return str(write_config())


@pytest.fixture
def run(cli: Any, config: str, moto_aws: None) -> Any:
    """notifyctl with the test config on moto: run("bootstrap", "--yes")."""
    def invoke(*args: str, env: str = "dev", config_path: str | None = None) -> Any:
        return cli("--config", config_path or config, "--env", env, *args)
    return invoke


def plan_json(run: Any, **kw: Any) -> list[dict[str, Any]]:
    result = run("--output", "json", "bootstrap", "--plan", **kw)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_plan_on_an_empty_account_lists_every_resource_as_create(run: Any,
                                                                  aws_clients: Any) -> None:
    steps = plan_json(run)
    assert [s["resource"] for s in steps] == ALL_KINDS
    # A new SES account suppresses bounces and complaints already (account-wide).
    assert {s["action"] for s in steps if s["resource"] != "account-suppression"} == {
        CREATE}
    # --plan changed nothing
    assert aws_clients.client("sns").list_topics()["Topics"] == []
    assert aws_clients.client("iam").list_roles()["Roles"] == []


def test_plan_json_shows_calls_without_zip_bytes(run: Any) -> None:
    steps = plan_json(run)
    fn = next(s for s in steps if s["resource"] == "lambda-function")
    create = fn["calls"][0]
    assert create["method"] == "create_function"
    assert create["params"]["Code"]["ZipFile"].startswith("<package")


def test_plan_text_is_a_table_and_exits_zero(run: Any) -> None:
    result = run("bootstrap", "--plan")
    assert result.exit_code == 0, result.output
    assert "31 to create" in result.stdout
    assert "sns-topic" in result.stdout


def test_apply_then_plan_again_is_all_unchanged_and_says_no_changes(run: Any) -> None:
    first = run("bootstrap", "--yes")
    assert first.exit_code == 0, first.output
    assert "applied 31 change(s)" in first.stderr
    assert f"arn:aws:iam::{ACCOUNT}:policy/t-books-book-publisher" in first.stdout
    assert {s["action"] for s in plan_json(run)} == {UNCHANGED}
    second = run("bootstrap", "--yes")
    assert second.exit_code == 0, second.output
    assert "no changes" in second.stderr


def test_every_policy_document_written_is_least_privilege(run: Any) -> None:
    """Parse every IAM/SNS document the plan writes."""
    steps = plan_json(run)
    written = []
    for step in steps:
        for call in step["calls"]:
            params = call["params"]
            for key in ("PolicyDocument", "AssumeRolePolicyDocument"):
                if key in params:
                    written.append((call["method"], json.loads(params[key])))
            if "Policy" in params.get("Attributes", {}):
                written.append((call["method"], json.loads(params["Attributes"]["Policy"])))
    assert {m for m, _ in written} == {"create_role", "put_role_policy", "create_policy",
                                       "create_topic"}
    for method, doc in written:
        assert policies.lint(doc) == [], method
    # What AWS then holds: test_bootstrapped_account.py (one shared account).


def test_feedback_subscription_skips_send_events_and_its_filter_is_reconciled(
        run: Any, aws_clients: Any) -> None:
    """The feedback function is not invoked for Send events (a MessageBody filter), and
    a filter changed by hand is planned back as an update of that subscription only."""
    assert run("bootstrap", "--yes").exit_code == 0
    sns = aws_clients.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith("-ses-events"))
    sub = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["FilterPolicyScope"] == "MessageBody"
    assert json.loads(attrs["FilterPolicy"]) == {"eventType": [{"anything-but": ["Send"]}]}

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"eventType": ["Bounce"]}))
    updates = [s for s in plan_json(run) if s["action"] != UNCHANGED]
    assert [(s["resource"], s["action"]) for s in updates] == [("feedback-sns-sub", UPDATE)]
    assert updates[0]["changes"]["FilterPolicy"] == {
        "live": {"eventType": ["Bounce"]}, "wanted": {"eventType": [{"anything-but": ["Send"]}]}}
    assert run("bootstrap", "--yes").exit_code == 0
    assert {s["action"] for s in plan_json(run)} == {UNCHANGED}
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"eventType": [{"anything-but": ["Send"]}]}


def test_changed_retention_plans_exactly_that_update(run: Any, write_config: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    changed = write_config(retention=90)
    steps = plan_json(run, config_path=changed)
    updates = [s for s in steps if s["action"] != UNCHANGED]
    # the feedback function's and the hooks' log groups keep the function's retention too
    assert [(s["resource"], s["action"]) for s in updates] == [
        ("log-group", UPDATE), ("feedback-log-group", UPDATE), ("hook-log-group", UPDATE),
        ("hook-log-group", UPDATE)]
    assert updates[0]["changes"] == {"retentionInDays": {"live": 30, "wanted": 90}}
    assert [c["method"] for c in updates[0]["calls"]] == ["put_retention_policy"]
    assert run("bootstrap", "--yes", config_path=changed).exit_code == 0
    assert {s["action"] for s in plan_json(run, config_path=changed)} == {UNCHANGED}


def test_changed_memory_updates_configuration_and_moves_alias_keeping_the_code(
        run: Any, write_config: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    lam = aws_clients.client("lambda")
    code_before = lam.get_function(FunctionName="t-books-notifier")["Configuration"][
        "CodeSha256"]
    changed = write_config(memory=512)
    steps = plan_json(run, config_path=changed)
    updates = [s for s in steps if s["action"] != UNCHANGED]
    assert [s["resource"] for s in updates] == ["lambda-function"]
    assert updates[0]["changes"] == {"MemorySize": {"live": 256, "wanted": 512}}
    assert [c["method"] for c in updates[0]["calls"]] == [
        "update_function_configuration", "function_updated", "publish_version", "update_alias"]
    assert run("bootstrap", "--yes", config_path=changed).exit_code == 0
    live = lam.get_function_configuration(FunctionName="t-books-notifier", Qualifier="live")
    assert live["MemorySize"] == 512
    assert live["Version"] == "2"
    assert live["CodeSha256"] == code_before
    assert {s["action"] for s in plan_json(run, config_path=changed)} == {UNCHANGED}


def test_rollback_after_a_configuration_update_returns_to_the_previous_version(
        run: Any, write_config: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    changed = write_config(memory=512)
    assert run("bootstrap", "--yes", config_path=changed).exit_code == 0
    result = run("rollback", config_path=changed)
    assert result.exit_code == 0, result.output
    alias = aws_clients.client("lambda").get_alias(FunctionName="t-books-notifier", Name="live")
    assert alias["FunctionVersion"] == "1"


def test_code_of_an_existing_function_is_not_redeployed(run: Any, aws_clients: Any,
                                                        tmp_path: Path) -> None:
    import io
    import zipfile

    assert run("bootstrap", "--yes").exit_code == 0
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("book_notifier/handler.py", "def handler(e, c):\n    return 'other'\n")
    lam = aws_clients.client("lambda")
    new_sha = lam.update_function_code(FunctionName="t-books-notifier",
                                       ZipFile=buf.getvalue())["CodeSha256"]
    assert {s["action"] for s in plan_json(run)} == {UNCHANGED}
    assert lam.get_function(FunctionName="t-books-notifier")["Configuration"][
        "CodeSha256"] == new_sha


def test_non_local_environment_refuses_without_yes_when_not_interactive(
        run: Any, aws_clients: Any) -> None:
    result = run("bootstrap")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert aws_clients.client("sns").list_topics()["Topics"] == []


def test_same_named_resource_without_our_tags_is_a_conflict_and_is_not_touched(
        run: Any, aws_clients: Any) -> None:
    sns = aws_clients.client("sns")
    arn = sns.create_topic(Name="t-books-book-events")["TopicArn"]
    before = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
    steps = plan_json(run)
    topic = next(s for s in steps if s["resource"] == "sns-topic")
    assert topic["action"] == "conflict"
    assert "without notifyctl's tags" in topic["note"]
    result = run("bootstrap", "--yes")
    assert result.exit_code == 1
    assert "sns-topic t-books-book-events" in result.stderr
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"] == before
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    assert aws_clients.client("iam").list_roles()["Roles"] == []


def test_a_failure_part_way_names_the_step_and_a_rerun_continues(
        moto_aws: None, aws_clients: Any, config: str) -> None:
    from botocore.exceptions import ClientError

    from notifyctl.errors import OperationError

    env, _ = load(config, "dev")

    class FailingSns:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            if name == "subscribe":
                def fail(**_: Any) -> None:
                    raise ClientError({"Error": {"Code": "InternalError",
                                                 "Message": "boom"}}, "Subscribe")
                return fail
            return getattr(self.real, name)

    class Flaky:
        settings = aws_clients.settings
        account_id, region, partition = ACCOUNT, "us-east-1", "aws"

        def client(self, service: str) -> Any:
            real = aws_clients.client(service)
            return FailingSns(real) if service == "sns" else real

    _, plan = bootstrap.plan(aws_clients, env)
    with pytest.raises(OperationError) as failed:
        bootstrap.apply(Flaky(), plan, sleep=lambda _: None)
    assert "15/31 (create sns-subscription" in failed.value.message
    assert "sns.subscribe" in failed.value.message
    assert failed.value.hint and "re-run" in failed.value.hint

    _, resumed = bootstrap.plan(aws_clients, env)
    assert [s.resource for s in resumed.changes] == ["sns-subscription", *ALL_KINDS[16:]]
    bootstrap.apply(aws_clients, resumed, sleep=lambda _: None)
    _, final = bootstrap.plan(aws_clients, env)
    assert final.up_to_date
    versions = aws_clients.client("lambda").list_versions_by_function(
        FunctionName="t-books-notifier")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_bootstrap_json_output_is_one_document(run: Any) -> None:
    result = run("--output", "json", "bootstrap", "--yes")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changed"] is True
    assert len(data["applied"]) == 31
    assert data["outputs"]["publisher_policy_arn"].endswith(":policy/t-books-book-publisher")
