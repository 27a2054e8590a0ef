"""`notifyctl status` against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.functional



@pytest.fixture
def run(cli: Any, pipeline_config: Any, moto_aws: None) -> Any:
    def invoke(*args: str, env: str = "dev", memory: int = 256) -> Any:
        return cli("--config", pipeline_config("s-books", memory=memory, pitr=False),
                   "--env", env, *args)
    return invoke


def status_json(run: Any, **kw: Any) -> tuple[int, dict[str, Any]]:
    result = run("--output", "json", "status", **kw)
    return result.exit_code, json.loads(result.stdout)


def test_status_of_an_empty_account_is_all_missing_and_exits_one(run: Any) -> None:
    code, report = status_json(run)
    assert code == 1
    assert report["ok"] is False
    assert {r["state"] for r in report["resources"]} == {"missing"}
    text = run("status")
    assert text.exit_code == 1
    assert "run `notifyctl bootstrap`" in text.stdout


def test_status_counts_messages_waiting_in_the_failure_queue(run: Any,
                                                              aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName="s-books-notifier-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    _, report = status_json(run)
    assert report["failure_queue"]["depth"] == 1


def test_a_deleted_resource_is_missing_and_exits_one(run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    aws_clients.client("logs").delete_log_group(logGroupName="/aws/lambda/s-books-notifier")
    code, report = status_json(run)
    assert code == 1
    states = {r["resource"]: r["state"] for r in report["resources"]}
    assert states["log-group"] == "missing"
    assert states["lambda-function"] == "present"
