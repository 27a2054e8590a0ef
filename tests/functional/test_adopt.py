"""`bootstrap --adopt` and the ownership rule, against moto.

The account is made by bootstrap, then every notifyctl tag is removed: the same
resources and documents a Terraform module (or a console) would have built."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.untagged import strip_notifyctl_tags

pytestmark = pytest.mark.functional


@pytest.fixture
def run(cli: Any, pipeline_config: Any, moto_aws: None) -> Any:
    path = pipeline_config("a-books", pitr=False)

    def invoke(*args: str, env: str = "dev") -> Any:
        return cli("--config", path, "--env", env, *args)
    return invoke


@pytest.fixture
def untagged(run: Any, aws_clients: Any) -> Any:
    assert run("bootstrap", "--yes").exit_code == 0
    assert strip_notifyctl_tags(aws_clients.client)
    return aws_clients


def states(run: Any) -> dict[str, str]:
    result = run("-o", "json", "status")
    return {f"{r['resource']} {r['name']}": r["state"]
            for r in json.loads(result.stdout)["resources"]}


def test_untagged_resources_are_not_ours_and_their_children_follow(
        run: Any, untagged: Any) -> None:
    got = states(run)
    # SES identities carry no tags: used as they are, whoever verified them
    assert {k for k, v in got.items() if v != "not-ours"} == {
        "ses-identity notifications@example.com"}, got
    plan = json.loads(run("-o", "json", "bootstrap", "--plan").stdout)
    alias = next(s for s in plan if s["resource"] == "lambda-alias")
    assert alias["action"] == "conflict"
    assert "lambda-function" in alias["note"]


def test_adopt_plan_tags_nothing_and_shows_every_equivalent_resource(
        run: Any, untagged: Any) -> None:
    result = run("-o", "json", "bootstrap", "--adopt", "--plan")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    actions = {s["action"] for s in data["plan"]}
    assert actions == {"adopt"}, data["plan"]
    assert {"lambda-function", "iam-role", "sns-topic", "sqs-queue", "dynamodb-table",
            "iam-policy", "log-group", "codedeploy-app", "deployment-group",
            "cloudwatch-alarm", "hook-function"} <= {s["resource"] for s in data["plan"]}
    assert data["adopted"] == []
    assert "present" not in {v for k, v in states(run).items() if "ses-identity" not in k}


def test_adopt_yes_makes_everything_ours_and_bootstrap_has_nothing_to_do(
        run: Any, untagged: Any) -> None:
    result = run("-o", "json", "bootstrap", "--adopt", "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted"]
    assert set(states(run).values()) == {"present"}
    plan = json.loads(run("-o", "json", "bootstrap", "--plan").stdout)
    assert {s["action"] for s in plan} == {"unchanged"}, plan
    again = json.loads(run("-o", "json", "bootstrap", "--adopt", "--plan").stdout)
    assert again["plan"] == []


def test_adopt_needs_consent_when_not_on_a_terminal(run: Any, untagged: Any) -> None:
    result = run("bootstrap", "--adopt")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert states(run)["sns-topic a-books-book-events"] == "not-ours"


def test_a_resource_that_differs_stays_a_conflict_with_its_diff(
        run: Any, untagged: Any) -> None:
    iam = untagged.client("iam")
    doc = json.loads(json.dumps(iam.get_role_policy(RoleName="a-books-notifier-role",
                                                    PolicyName="notifier")["PolicyDocument"]))
    doc["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::bucket/*"})
    iam.put_role_policy(RoleName="a-books-notifier-role", PolicyName="notifier",
                        PolicyDocument=json.dumps(doc))
    lam = untagged.client("lambda")
    lam.update_function_configuration(FunctionName="a-books-notifier", MemorySize=1024)
    version = lam.publish_version(FunctionName="a-books-notifier")["Version"]
    lam.update_alias(FunctionName="a-books-notifier", Name="live", FunctionVersion=version)

    text = run("bootstrap", "--adopt", "--plan")
    assert "iam-role a-books-notifier-role differs" in text.stdout
    assert '"Action": "s3:GetObject"' in text.stdout
    assert "MemorySize" in text.stdout

    result = run("-o", "json", "bootstrap", "--adopt", "--yes")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    conflicts = {c["resource"] for c in data["conflicts"]}
    assert {"iam-role", "lambda-function", "lambda-alias"} <= conflicts
    assert "sns-topic a-books-book-events" in data["adopted"]
    got = states(run)
    assert got["iam-role a-books-notifier-role"] == "not-ours"
    assert got["lambda-function a-books-notifier"] == "not-ours"
    assert got["sns-topic a-books-book-events"] == "present"


def test_another_environments_resources_are_never_adopted(run: Any) -> None:
    assert run("bootstrap", "--yes", env="other").exit_code == 0
    data = json.loads(run("-o", "json", "bootstrap", "--adopt", "--plan").stdout)
    assert {s["action"] for s in data["plan"]} == {"conflict"}
    assert all("'other'" in s["note"] or "follows" in s["note"] for s in data["plan"])


# ------------------------------------------------------------ the ownership rule
ADOPT_HINT = "notifyctl bootstrap --adopt"


def refused(result: Any, resource: str) -> None:
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[0]
    assert resource in line and ADOPT_HINT in line, result.stderr
    assert "Traceback" not in result.output


def test_deploy_refuses_an_untagged_function_and_works_once_adopted(
        run: Any, untagged: Any) -> None:
    lam = untagged.client("lambda")
    before = lam.get_alias(FunctionName="a-books-notifier", Name="live")["FunctionVersion"]
    deploy = ("deploy-lambda", "--force", "--strategy", "all-at-once", "--no-verify")
    refused(run(*deploy), "lambda-function a-books-notifier")
    refused(run("deploy-lambda", "--plan", "--strategy", "all-at-once"),
            "lambda-function a-books-notifier")
    # a CodeDeploy release also needs the hooks and the application to be ours
    refused(run("deploy-lambda", "--plan", "--strategy", "canary10-5m"),
            "lambda-function a-books-notifier")
    assert lam.get_alias(FunctionName="a-books-notifier",
                         Name="live")["FunctionVersion"] == before

    assert run("bootstrap", "--adopt", "--yes").exit_code == 0
    result = run("-o", "json", *deploy)
    assert result.exit_code == 0, result.output
    after = json.loads(result.stdout)["version"]
    assert after != before
    assert lam.get_alias(FunctionName="a-books-notifier", Name="live")["FunctionVersion"] == after


def test_rollback_refuses_an_untagged_function_and_works_once_adopted(
        run: Any, untagged: Any) -> None:
    lam = untagged.client("lambda")
    # two releases, made while it was ours... then the tags are gone again
    assert run("bootstrap", "--adopt", "--yes").exit_code == 0
    assert run("deploy-lambda", "--force", "--strategy", "all-at-once",
               "--no-verify").exit_code == 0
    lam.untag_resource(Resource=lam.get_function(FunctionName="a-books-notifier")[
        "Configuration"]["FunctionArn"], TagKeys=["managed-by", "notifyctl:env"])
    live = lam.get_alias(FunctionName="a-books-notifier", Name="live")["FunctionVersion"]
    refused(run("rollback"), "lambda-function a-books-notifier")
    refused(run("deployments", "stop", "d-ABCDEFGHI"), "lambda-function a-books-notifier")
    assert lam.get_alias(FunctionName="a-books-notifier", Name="live")["FunctionVersion"] == live

    assert run("bootstrap", "--adopt", "--yes").exit_code == 0
    result = run("-o", "json", "rollback")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["from_version"] == live


def test_redrive_refuses_an_untagged_queue_but_a_dry_run_only_reads(
        run: Any, untagged: Any) -> None:
    refused(run("failures", "redrive", "--all", "--yes"), "a-books-")
    assert run("failures", "redrive", "--all", "--dry-run").exit_code == 0
    assert run("bootstrap", "--adopt", "--yes").exit_code == 0
    result = run("failures", "redrive", "--all", "--yes")
    assert result.exit_code == 0, result.output


def test_teardown_leaves_untagged_resources_and_deletes_them_once_adopted(
        run: Any, untagged: Any) -> None:
    result = run("-o", "json", "teardown", "--yes")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["deleted"] == []
    topic = next(k for k in report["kept"] if k["resource"] == "sns-topic")
    assert topic["action"] == "not-ours" and ADOPT_HINT in topic["reason"]

    assert run("bootstrap", "--adopt", "--yes").exit_code == 0
    report = json.loads(run("-o", "json", "teardown", "--yes").stdout)
    assert {"sns-topic", "lambda-function", "iam-role", "sqs-queue"} <= {
        d["resource"] for d in report["deleted"]}
    assert untagged.client("sns").list_topics()["Topics"] == []
