"""deploy-lambda / rollback against the embedded emulator, end to end.

Uses the session fixture `emulator` (tests/integration/conftest.py). Each test
uses its own resource prefix, so tests sharing the emulator do not collide.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from release_helpers import seed_function

from notifyctl.aws.session import AwsClients, AwsSettings
from notifyctl.config.loader import load
from notifyctl.release.function_spec import desired_function_config
from notifyctl.release.package import build

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

HANDLER_TEMPLATE = '''"""A stand-in notifier that says which release is running."""

MARKER = {marker!r}


def handler(event, context):
    for record in event.get("Records", []):
        print("DEPLOY-TEST", MARKER, record["Sns"]["MessageId"])
    return {{"marker": MARKER}}
'''


def write_source(root: Path, marker: str) -> Path:
    pkg = root / "book_notifier"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text('"""test release"""\n')
    (pkg / "handler.py").write_text(HANDLER_TEMPLATE.format(marker=marker))
    return root


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll an asynchronous outcome (SNS -> Lambda -> logs) until it shows up."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the outcome")
        time.sleep(interval)


@pytest.fixture
def setup(emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    prefix = "dep-" + uuid.uuid4().hex[:8]
    data = yaml.safe_load((REPO / "config" / "notifyctl.yaml").read_text())
    data["environments"] = {"it": {"prefix": prefix, "endpoint_url": emulator.endpoint,
                                   "region": "us-east-1",
                                   "release": {"strategy": "all-at-once"}}}
    config = tmp_path / "notifyctl.yaml"
    config.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(config))
    monkeypatch.setenv("NOTIFYCTL_ENV", "it")
    env = load(str(config), "it")[0]
    clients = AwsClients(AwsSettings(None, "us-east-1", emulator.endpoint, True, True))
    src = write_source(tmp_path / "src", "release-1")
    seed_function(clients.client("lambda"), clients.client("iam"), env.function_name,
                  env.alias_name, build(src), desired_function_config(env), owner=env,
                  role_name=f"{prefix}-role")
    return env, clients, src


def deploy(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("--output", "json", "deploy-lambda", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def invoke_live(clients: Any, env: Any) -> str:
    got = clients.client("lambda").invoke(FunctionName=f"{env.function_name}:live",
                                          Payload=b"{}")
    return json.loads(got["Payload"].read())["marker"]


def test_deploy_twice_then_rollback(cli: Any, setup: Any) -> None:
    env, clients, src = setup
    assert deploy(cli, "--source", str(src))["unchanged"] is True
    write_source(src, "release-2")
    first = deploy(cli, "--source", str(src))
    assert (first["version"], first["previous_version"], first["unchanged"]) == ("2", "1", False)
    second = deploy(cli, "--source", str(src))
    assert (second["version"], second["unchanged"]) == ("2", True)
    assert invoke_live(clients, env) == "release-2"

    result = cli("--output", "json", "rollback")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["to_version"] == "1"
    assert invoke_live(clients, env) == "release-1"


def test_after_deploy_an_sns_publish_runs_the_new_versions_code(cli: Any, setup: Any) -> None:
    env, clients, src = setup
    write_source(src, "release-sns")
    assert deploy(cli, "--source", str(src))["version"] == "2"

    lam, sns, logs = (clients.client(s) for s in ("lambda", "sns", "logs"))
    alias_arn = lam.get_alias(FunctionName=env.function_name, Name="live")["AliasArn"]
    topic = sns.create_topic(Name=env.topic_name)["TopicArn"]
    lam.add_permission(FunctionName=env.function_name, Qualifier="live",
                       StatementId="sns-invoke", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=alias_arn)
    message_id = sns.publish(TopicArn=topic, Message=json.dumps({"book_id": "b-1"}))["MessageId"]

    def marker_lines() -> list[dict[str, Any]]:
        try:
            events = logs.filter_log_events(logGroupName=env.log_group_name,
                                            filterPattern='"DEPLOY-TEST"')["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e for e in events if message_id in e["message"]]

    [line] = eventually(marker_lines)
    assert "release-sns" in line["message"]
    assert "[2]" in line["logStreamName"]  # the stream of version 2's environment
