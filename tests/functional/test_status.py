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
    # The account's suppression settings always exist (and suppress by default).
    assert {r["state"] for r in report["resources"]
            if r["resource"] != "account-suppression"} == {"missing"}
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


# --- the account's SES reputation (issue 17) ------------------------------------------

def _put_rate(aws_clients: Any, metric: str, value: float) -> None:
    """A reputation datapoint of a minute ago (SES publishes them; moto's query
    excludes the current second)."""
    from datetime import UTC, datetime, timedelta

    aws_clients.client("cloudwatch").put_metric_data(Namespace="AWS/SES", MetricData=[
        {"MetricName": metric, "Value": value,
         "Timestamp": datetime.now(UTC) - timedelta(minutes=1)}])


def test_status_reads_the_reputation_metrics_and_is_quiet_below_review(
        run: Any, aws_clients: Any) -> None:
    _put_rate(aws_clients, "Reputation.BounceRate", 0.012)
    _put_rate(aws_clients, "Reputation.ComplaintRate", 0.0002)

    _, report = status_json(run)

    rep = report["reputation"]
    assert (rep["bounce_rate"], rep["complaint_rate"], rep["level"]) == (0.012, 0.0002, "ok")
    assert rep["source"] == "cloudwatch Reputation.*"
    assert rep["thresholds"]["pause"] == {"bounce": 0.10, "complaint": 0.005}


def test_a_complaint_rate_past_review_warns_and_exits_one(run: Any, aws_clients: Any) -> None:
    _put_rate(aws_clients, "Reputation.ComplaintRate", 0.0015)

    result = run("status")

    assert result.exit_code == 1
    assert "past AWS's review threshold" in result.stdout
    assert "complaint rate 0.15 %" in result.stdout


def test_without_reputation_metrics_the_send_statistics_stand_in(run: Any) -> None:
    _, report = status_json(run)

    assert report["reputation"]["source"] in ("GetSendStatistics (14 days)", "no data")
    assert report["ses"]["quota"]["max_24h"] is not None  # the sending quota used
