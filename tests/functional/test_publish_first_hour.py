"""Issue 14: publish-book's first-hour mistakes and Ctrl-C on a large load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notifyctl.aws.session import AwsClients

pytestmark = pytest.mark.functional

BASE = ["--env", "dev", "--region", "us-east-1"]
TOPIC = "books-dev-book-events"


@pytest.fixture
def topic(aws_clients: Any, repo_config: Path) -> str:
    return str(aws_clients.client("sns").create_topic(Name=TOPIC)["TopicArn"])


class InterruptedSns:
    """The moto client, but Ctrl-C arrives during the `at`-th PublishBatch call."""

    def __init__(self, real: Any, at: int) -> None:
        self.real, self.at, self.calls = real, at, 0
        self.published = 0

    def publish_batch(self, **kw: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        self.published += len(kw["PublishBatchRequestEntries"])
        return self.real.publish_batch(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def interrupt_at() -> dict[str, Any]:
    """`clients`: a client factory whose SNS client interrupts at the batch `at`."""
    holder: dict[str, Any] = {"at": 3}

    class Interrupting(AwsClients):
        def client(self, service: str) -> Any:
            real = super().client(service)
            if service != "sns":
                return real
            holder.setdefault("sns", InterruptedSns(real, holder["at"]))
            return holder["sns"]

    holder["clients"] = Interrupting
    return holder


def test_ctrl_c_on_two_million_events_stops_at_once_and_says_how_to_resume(
        cli: Any, topic: str, interrupt_at: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "failed.jsonl"
    result = cli(*BASE, "publish-book", "--count", "2000000", "--concurrency", "1",
                 "--failed-out", str(out), clients=interrupt_at["clients"])
    assert result.exit_code == 130, result.output
    assert interrupt_at["sns"].published == 20
    assert "published 20" in result.stdout
    assert ("1999970 events were never attempted; send them with: notifyctl publish-book "
            "--count 2000000 --start-index 30") in " ".join(result.stdout.split())
    # only the batch in flight at Ctrl-C (attempted, outcome unknown) is in the file
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 10 and {r["error"]["code"] for r in rows} == {"Interrupted"}


def test_resuming_sends_only_the_rest(cli: Any, topic: str, aws_clients: Any) -> None:
    result = cli(*BASE, "-o", "json", "publish-book", "--count", "25", "--start-index", "22")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] == 3


def test_ctrl_c_on_a_file_names_the_line_to_resume_from(
        cli: Any, topic: str, interrupt_at: dict[str, Any], tmp_path: Path) -> None:
    src = tmp_path / "e.jsonl"
    src.write_text("".join(json.dumps({"email": f"r{i}@example.com"}) + "\n" for i in range(50)))
    result = cli(*BASE, "-o", "json", "publish-book", "--file", str(src), "--concurrency", "1",
                 "--failed-out", str(tmp_path / "f.jsonl"), clients=interrupt_at["clients"])
    assert result.exit_code == 130
    data = json.loads(result.stdout)
    assert data["published"] == 20
    assert data["resume"] == f"notifyctl publish-book --file {src} --start-line 31"
    again = cli(*BASE, "-o", "json", "publish-book", "--file", str(src), "--start-line", "31")
    assert json.loads(again.stdout)["published"] == 20


@pytest.mark.parametrize(("args", "message"), [
    (["--email", ""], "--email: expected an address like jane@example.com, got ''"),
    (["--start-index", "3"], "--start-index: only with --count"),
    (["--count", "5", "--start-index", "5"], "--start-index: expected 0 to 4"),
])
def test_flag_mistakes_are_exit_2(cli: Any, topic: str, args: list[str], message: str) -> None:
    result = cli(*BASE, "publish-book", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}")


def test_an_empty_file_is_exit_2_not_published_0(cli: Any, topic: str, tmp_path: Path) -> None:
    empty = tmp_path / "events.jsonl"
    empty.write_text("")
    result = cli(*BASE, "publish-book", "--file", str(empty))
    assert result.exit_code == 2
    assert f"--file: {empty} has no events (it is empty)" in result.stderr
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    result = cli(*BASE, "publish-book", "--file", str(blank))
    assert result.exit_code == 2 and "has no events" in result.stderr


def test_an_unrelated_file_is_named_by_line_never_echoed(cli: Any, topic: str,
                                                         tmp_path: Path) -> None:
    secretish = tmp_path / "passwd"
    secretish.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n")
    result = cli(*BASE, "publish-book", "--file", str(secretish))
    assert result.exit_code == 2
    assert "line 1: not a CSV header nor a JSON object" in result.stderr
    assert "root" not in result.output.replace(str(tmp_path), "")


def test_invalid_lines_in_a_failed_out_file_are_resendable_once_fixed(
        cli: Any, topic: str, tmp_path: Path) -> None:
    src = tmp_path / "e.jsonl"
    src.write_text(json.dumps({"email": "ok@example.com"}) + "\n"
                   + json.dumps({"email": "bad@@example.com"}) + "\n")
    out = tmp_path / "failed.jsonl"
    first = cli(*BASE, "publish-book", "--file", str(src), "--failed-out", str(out))
    assert first.exit_code == 1
    again = cli(*BASE, "-o", "json", "publish-book", "--file", str(out),
                "--failed-out", str(tmp_path / "again.jsonl"))
    data = json.loads(again.stdout)
    assert data["published"] == 0
    assert data["invalid_lines"][0]["error"].startswith("email:")  # the same problem, named
    row = json.loads(out.read_text())
    row["raw"] = json.dumps({"email": "fixed@example.com"})
    out.write_text(json.dumps(row) + "\n")
    fixed = cli(*BASE, "-o", "json", "publish-book", "--file", str(out))
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["published"] == 1


def test_an_endpoint_nobody_listens_on_is_one_line_quickly(cli: Any, repo_config: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("--endpoint-url", f"http://127.0.0.1:{port}", "publish-book", "--count", "50")
    assert result.exit_code == 1
    assert "is the local emulator running?" in result.stderr


def test_a_wait_timeout_says_why_messages_are_pending(aws_clients: Any, topic: str,
                                                      repo_config: Path) -> None:
    import time as real_time

    from notifyctl.config import load
    from notifyctl.publish.job import PublishRequest, publish_book

    env = load(str(repo_config), "dev")[0]
    aws_clients.client("dynamodb").create_table(
        TableName=env.table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    logs = aws_clients.client("logs")
    logs.create_log_group(logGroupName=env.log_group_name)
    logs.create_log_stream(logGroupName=env.log_group_name, logStreamName="s")
    sqs = aws_clients.client("sqs")
    url = sqs.create_queue(QueueName=env.dlq_name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    now = [0.0]

    def sleep(seconds: float) -> None:
        if not now[0]:  # the function fails at init, as a broken build does
            logs.put_log_events(logGroupName=env.log_group_name, logStreamName="s", logEvents=[
                {"timestamp": int(real_time.time() * 1000), "message":
                 "[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'handler'"}])
        now[0] += seconds

    report = publish_book(aws_clients, env, PublishRequest(count=2, wait=True, timeout_s=5),
                          sleep=sleep, monotonic=lambda: now[0])
    assert report.wait is not None and report.wait.timed_out
    diagnosis = report.to_dict()["wait"]["diagnosis"]
    assert diagnosis["function_errors"] == 1
    assert diagnosis["first_error"].startswith("[ERROR] Runtime.UserCodeSyntaxError")
    assert diagnosis["failure_queue_depth"] == 1
    assert diagnosis["commands"] == ["notifyctl logs --since 1m --by-request",
                                     "notifyctl status   # the failure queue's depth"]
