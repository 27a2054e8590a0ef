"""Read-only checks of one bootstrapped account, shared by every test here.

Bootstrapping is most of a functional test's time, so the tests that only look
(what was created, `status`, the plan, the outputs) share one moto account with
the environments `dev` and `mail` bootstrapped once. Isolation by construction:
every client these tests get is the planner's `ReadOnly` proxy, which refuses any
call that could change the account (a test that needs to change it belongs in
test_bootstrap.py or test_status.py, on a fresh account).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import PIPELINE_CONFIG, CliResult, isolate

from notifyctl.config import load
from notifyctl.infra.planner import Planner, ReadOnly
from notifyctl.infra.specs import build_specs

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"
FUNCTION = "t-books-notifier"
TAGS = {"managed-by": "notifyctl", "notifyctl:env": "dev", "notifyctl:project": "books"}


class ReadOnlyClients:
    """An AwsClients whose clients refuse writes (the shared account stays as it is)."""

    def __init__(self, settings: Any) -> None:
        from notifyctl.aws.session import AwsClients

        self.real = AwsClients(settings)
        self.settings = settings

    @property
    def region(self) -> str:
        return self.real.region

    @property
    def account_id(self) -> str:
        return self.real.account_id

    @property
    def partition(self) -> str:
        return self.real.partition

    def client(self, service: str) -> Any:
        return ReadOnly(self.real.client(service))


@dataclass
class Account:
    configs: dict[int, str]  # memory_mb -> config path (same account, same resources)
    clients: ReadOnlyClients

    def run(self, *args: str, env: str = "dev", memory: int = 256) -> CliResult:
        from notifyctl.cli.main import run

        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = run(["--config", self.configs[memory], "--env", env, *args],
                       clients=lambda _settings, **_: self.clients)
        return CliResult(code, out.getvalue(), err.getvalue())

    def client(self, service: str) -> Any:
        return self.clients.client(service)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    from moto import mock_aws

    from notifyctl.aws.session import AwsSettings
    from notifyctl.cli.main import run

    patch = pytest.MonkeyPatch()
    isolate(patch, tmp_path_factory.mktemp("home"))
    folder = tmp_path_factory.mktemp("shared-account")
    configs: dict[int, str] = {}
    for memory in (256, 1024):
        path = folder / f"notifyctl-{memory}.yaml"
        path.write_text(PIPELINE_CONFIG % {"prefix": "t-books", "memory": memory,
                                           "retention": 30, "pitr": "true",
                                           "protect": "false"}, encoding="utf-8")
        configs[memory] = str(path)
    from notifyctl.emulator.patches.codedeploy import install_resources
    from tests.conftest import install_sesv2

    install_resources()  # what the moto_aws fixture installs (module scope: done here)
    install_sesv2()
    try:
        with mock_aws():
            for env in ("dev", "mail"):
                with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                    code = run(["--config", configs[256], "--env", env, "bootstrap", "--yes"])
                assert code == 0, f"bootstrap of {env} failed"
            yield Account(configs, ReadOnlyClients(AwsSettings(None, "us-east-1", None,
                                                               False, False)))
    finally:
        patch.undo()


def status_json(account: Account, **kw: Any) -> tuple[int, dict[str, Any]]:
    result = account.run("--output", "json", "status", **kw)
    return result.exit_code, json.loads(result.stdout)


def test_the_shared_account_refuses_writes(account: Account) -> None:
    with pytest.raises(PermissionError):
        account.client("sns").create_topic(Name="not-here")


def test_everything_is_wired_as_specified(account: Account) -> None:
    c = account.client
    fn, alias = FUNCTION, "live"
    alias_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{fn}:{alias}"
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:t-books-book-events"
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:t-books-notifier-failures"

    conf = c("lambda").get_function(FunctionName=fn)
    assert conf["Configuration"]["Handler"] == "book_notifier.handler.handler"
    assert conf["Configuration"]["Environment"]["Variables"]["TABLE_NAME"] == "t-books-dedup"
    assert conf["Tags"] == TAGS
    assert c("lambda").get_alias(FunctionName=fn, Name=alias)["FunctionVersion"] == "1"
    eic = c("lambda").get_function_event_invoke_config(FunctionName=fn, Qualifier=alias)
    assert eic["MaximumRetryAttempts"] == 2
    assert eic["MaximumEventAgeInSeconds"] == 21600
    assert eic["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    statement = json.loads(c("lambda").get_policy(FunctionName=fn, Qualifier=alias)["Policy"])[
        "Statement"][0]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == topic_arn
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    subs = c("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("lambda", alias_arn)]

    ddb = c("dynamodb")
    table = ddb.describe_table(TableName="t-books-dedup")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName="t-books-dedup")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    pitr = ddb.describe_continuous_backups(TableName="t-books-dedup")[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"

    url = c("sqs").get_queue_url(QueueName="t-books-notifier-failures")["QueueUrl"]
    attrs = c("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["MessageRetentionPeriod"] == "1209600"
    assert c("sqs").list_queue_tags(QueueUrl=url)["Tags"] == TAGS

    group = c("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/t-books-notifier")[
        "logGroups"][0]
    assert group["retentionInDays"] == 30

    topic_policy = json.loads(c("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"][
        "Policy"])
    deny = [s for s in topic_policy["Statement"] if s["Effect"] == "Deny"]
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ses = c("ses").get_identity_verification_attributes(Identities=["notifications@example.com"])
    assert "notifications@example.com" in ses["VerificationAttributes"]


def test_every_policy_document_aws_holds_is_least_privilege(account: Account) -> None:
    from notifyctl.infra import policies

    inline = account.client("iam").get_role_policy(RoleName="t-books-notifier-role",
                                                   PolicyName="notifier")
    assert policies.lint(inline["PolicyDocument"]) == []
    topic = account.client("sns").get_topic_attributes(
        TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t-books-book-events")
    assert policies.lint(json.loads(topic["Attributes"]["Policy"])) == []


def test_planning_makes_only_read_calls(account: Account) -> None:
    env, _ = load(account.configs[256], "dev")
    called: list[str] = []

    class Recording:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            called.append(name)
            return getattr(self.real, name)

    def client(service: str) -> Any:
        return Recording(account.clients.real.client(service))

    Planner(client, build_specs(env, ACCOUNT, "us-east-1")).plan()
    assert called
    assert all(n.startswith(("get_", "describe_", "list_", "exceptions")) for n in called), called


def test_sending_domain_gets_easy_dkim_and_dns_records(account: Account) -> None:
    result = account.run("--output", "json", "bootstrap", "--yes", env="mail")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)["outputs"]["dns_records"]
    kinds = [(r["type"], r["name"].split(".")[0]) for r in records]
    assert kinds[0] == ("TXT", "_amazonses")
    assert [k for k, _ in kinds].count("CNAME") == 3
    assert all(r["name"].endswith("._domainkey.books.example.com")
               for r in records if r["type"] == "CNAME")
    assert any("v=spf1 include:amazonses.com" in r["value"] for r in records)
    assert any(r["name"] == "_dmarc.books.example.com" for r in records)
    text = account.run("bootstrap", "--yes", env="mail")
    assert "DNS records to publish" in text.stdout
    assert "_dmarc.books.example.com" in text.stdout


def test_status_after_bootstrap_is_all_present(account: Account) -> None:
    code, report = status_json(account)
    assert code == 0, report
    assert {r["state"] for r in report["resources"]} == {"present"}
    assert report["function"]["alias_version"] == "1"
    assert [v["version"] for v in report["function"]["versions"]] == ["1"]
    assert report["ses"]["verification"] == "Success"
    assert report["ses"]["quota"]["max_24h"] == 200.0
    # moto has no sesv2 GetAccount; the functional tier installs the emulator's
    assert report["ses"]["sandbox"] is False
    assert report["failure_queue"]["depth"] == 0
    text = account.run("status")
    assert text.exit_code == 0, text.output
    assert "live -> 1" in text.stdout
    assert "sandbox no" in text.stdout


def test_drifted_function_configuration_is_reported_not_fatal(account: Account) -> None:
    code, report = status_json(account, memory=1024)
    assert code == 0
    fn = next(r for r in report["resources"] if r["resource"] == "lambda-function")
    assert fn["state"] == "drifted"
    assert fn["changes"] == {"MemorySize": {"live": 256, "wanted": 1024}}


def test_domain_identity_shows_dkim_status(account: Account) -> None:
    _, report = status_json(account, env="mail")
    assert report["ses"]["kind"] == "domain"
    assert report["ses"]["dkim"] == "Success"
