"""`publish-book` against moto in-process: the command and the library call.

The topic is subscribed by a raw-delivery SQS queue where a test needs to see what
arrived. Per-entry failures (HTTP 200 with Failed entries) come from a thin wrapper
around the moto SNS client; the function's work is simulated by writing its
de-duplication items (the brief's schema) into a moto DynamoDB table.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from book_notifier import contract
from notifyctl.aws.session import AwsClients
from notifyctl.config import load
from notifyctl.publish.job import PublishRequest, publish_book
from notifyctl.publish.publisher import MAX_BATCH_ENTRIES

pytestmark = pytest.mark.functional

REGION = "us-east-1"
TOPIC = "books-dev-book-events"  # the dev environment's topic
TABLE = "books-dev-dedup"
BASE = ["--env", "dev", "--region", REGION]


@pytest.fixture
def env(repo_config: Path) -> Any:
    return load(str(repo_config), "dev")[0]


@pytest.fixture
def topic(aws_clients: Any, repo_config: Path) -> str:
    return str(aws_clients.client("sns").create_topic(Name=TOPIC)["TopicArn"])


@pytest.fixture
def queue(aws_clients: Any, topic: str) -> str:
    """An SQS queue subscribed to the topic with raw delivery: body = the message."""
    sqs = aws_clients.client("sqs")
    url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    aws_clients.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                        Attributes={"RawMessageDelivery": "true"})
    return str(url)


def received(aws_clients: Any, url: str) -> list[dict[str, Any]]:
    sqs = aws_clients.client("sqs")
    out: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages"):
        out.extend(batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return out


@pytest.fixture
def table(aws_clients: Any) -> str:
    aws_clients.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return TABLE


def dev_policy(env: Any) -> contract.LinkPolicy:
    return contract.LinkPolicy.of(env.link_allowed_hosts, env.allow_http_links)


class WrappedSns:
    """The moto SNS client, except that entries whose message contains a marker
    come back in `Failed` (with HTTP 200), as SNS does for per-entry errors."""

    def __init__(self, real: Any, rules: dict[str, tuple[str, bool, int]]) -> None:
        # marker -> (code, sender_fault, how many attempts fail; -1 = every one)
        self.real = real
        self.rules = dict(rules)
        self.failures: dict[str, int] = {}
        self.batch_sizes: list[int] = []

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
                      ) -> dict[str, Any]:
        self.batch_sizes.append(len(PublishBatchRequestEntries))
        passed, failed = [], []
        for entry in PublishBatchRequestEntries:
            rule = next((m for m in self.rules if m in entry["Message"]), None)
            if rule is not None:
                code, sender, times = self.rules[rule]
                seen = self.failures.get(rule, 0)
                if times < 0 or seen < times:
                    self.failures[rule] = seen + 1
                    failed.append({"Id": entry["Id"], "Code": code, "Message": f"{code}!",
                                   "SenderFault": sender})
                    continue
            passed.append(entry)
        response: dict[str, Any] = {"Successful": [], "Failed": failed}
        if passed:
            real = self.real.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=passed)
            response["Successful"] = real["Successful"]
            response["Failed"] += real.get("Failed", [])
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def wrap_sns() -> Iterator[dict[str, Any]]:
    """A client factory (`clients`: settings -> AwsClients) whose clients hand out a
    WrappedSns with the rules the test puts in `rules`."""
    holder: dict[str, Any] = {"rules": {}}

    class Wrapping(AwsClients):
        def client(self, service: str) -> Any:
            real = super().client(service)
            if service != "sns":
                return real
            if "wrapped" not in holder:
                holder["wrapped"] = WrappedSns(real, holder["rules"])
            return holder["wrapped"]

    holder["clients"] = Wrapping
    yield holder


def write_lines(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


# -------------------------------------------------------------------- one event
def test_one_event_prints_its_message_id_and_reaches_the_topic(cli, aws_clients, queue, env
                                                               ) -> None:
    result = cli(*BASE, "publish-book", "--email", "jane@example.com", "--book-id", "b-42",
                 "--title", "Dune")
    assert result.exit_code == 0, result.output
    message_id = result.stdout.strip()
    [msg] = received(aws_clients, queue)
    event = contract.parse(msg["Body"], dev_policy(env))
    assert (event.book_id, event.email, event.title) == ("b-42", "jane@example.com", "Dune")
    assert event.link == "https://dev.books.example.com/books/b-42"
    assert msg["MessageAttributes"]["event_type"] == {"DataType": "String",
                                                      "StringValue": "book.created"}
    assert len(message_id) > 10 and " " not in message_id


def test_one_event_as_json(cli, topic) -> None:
    result = cli(*BASE, "-o", "json", "publish-book")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["published"], data["failed"], len(data["message_ids"])) == (1, 0, 1)


@pytest.mark.parametrize(("args", "needle"), [
    (["--email", "jane.example.com"], "--email"),
    (["--link", "ftp://dev.books.example.com/b/1"], "--link"),
    (["--link", "https://elsewhere.example.org/b/1"], "--link"),
    (["--count", "5", "--book-id", "b-1"], "--book-id"),
    (["--count", "2", "--file", "x.jsonl"], "--count and --file"),
    (["--timeout", "5"], "--timeout"),
])
def test_bad_input_is_exit_2_naming_the_field_and_nothing_is_sent(cli, aws_clients, queue,
                                                                  args, needle) -> None:
    result = cli(*BASE, "publish-book", *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output
    assert received(aws_clients, queue) == []


def test_a_missing_topic_says_to_run_bootstrap(cli, moto_aws, repo_config) -> None:
    result = cli(*BASE, "publish-book")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "bootstrap" in result.stderr


# ------------------------------------------------------------------- many events
def test_25_events_take_3_publish_batch_calls(aws_clients, topic, env) -> None:
    sizes: list[int] = []
    aws_clients.client("sns").meta.events.register(
        "provide-client-params.sns.PublishBatch",
        lambda params, **kw: sizes.append(len(params["PublishBatchRequestEntries"])))
    report = publish_book(aws_clients, env, PublishRequest(count=25))
    assert report.published == 25 and report.failed == 0 and report.ok
    assert sorted(sizes) == [5, MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES]
    assert len(set(report.message_ids)) == 25


def test_synthetic_events_all_reach_the_topic_valid(cli, aws_clients, queue, env) -> None:
    result = cli(*BASE, "-o", "json", "publish-book", "--count", "23",
                 "--email", "load@example.com")
    assert result.exit_code == 0, result.output
    messages = received(aws_clients, queue)
    assert len(messages) == 23
    events = [contract.parse(m["Body"], dev_policy(env)) for m in messages]
    assert {e.email for e in events} == {"load@example.com"}
    assert len({e.book_id for e in events}) == 23


def test_entries_failing_for_good_go_to_failed_out_and_exit_1(cli, topic, wrap_sns,
                                                              tmp_path) -> None:
    wrap_sns["rules"]["b-poison"] = ("InvalidParameter", True, -1)
    lines = [json.dumps({"book_id": f"b-{i}", "email": "a@example.com"}) for i in range(12)]
    lines[4] = json.dumps({"book_id": "b-poison", "email": "p@example.com"})
    src = write_lines(tmp_path, "events.jsonl", lines)
    out = tmp_path / "failed.jsonl"
    result = cli(*BASE, "-o", "json", "publish-book", "--file", src, "--failed-out", str(out),
                 clients=wrap_sns["clients"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert (data["published"], data["failed"], data["failed_out"]) == (11, 1, str(out))
    [row] = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["line"] == 5
    assert row["event"]["book_id"] == "b-poison" and row["event"]["email"] == "p@example.com"
    assert row["error"]["code"] == "InvalidParameter"


def test_retryable_entry_failures_are_retried_and_what_never_succeeds_is_kept(
        aws_clients, topic, env, wrap_sns, tmp_path) -> None:
    wrap_sns["rules"].update({"b-flaky": ("InternalError", False, 2),
                              "b-down": ("InternalError", False, -1)})
    lines = [json.dumps({"book_id": b, "email": "a@example.com"})
             for b in ("b-1", "b-flaky", "b-2", "b-down", "b-3")]
    out = tmp_path / "failed.jsonl"
    slept: list[float] = []
    wrapping = wrap_sns["clients"](aws_clients.settings)
    report = publish_book(wrapping, env, PublishRequest(
        file=write_lines(tmp_path, "e.jsonl", lines), failed_out=str(out), concurrency=1),
        sleep=slept.append)
    assert (report.published, report.failed) == (4, 1)
    assert not report.ok
    assert wrap_sns["wrapped"].batch_sizes == [5, 2, 2, 1, 1]  # only failures resent
    assert len(slept) == 4  # backoff before each resend (5 attempts in all)
    [row] = [json.loads(x) for x in out.read_text().splitlines()]
    assert (row["event"]["book_id"], row["error"]["attempts"]) == ("b-down", 5)


def test_jsonl_with_a_bad_line_in_the_middle_sends_the_rest(cli, aws_clients, queue,
                                                            tmp_path) -> None:
    lines = [json.dumps({"book_id": f"b-{i}", "email": "a@example.com"}) for i in range(6)]
    lines[2] = '{"book_id": "b-x", "email": "not an email"}'
    out = tmp_path / "failed.jsonl"
    result = cli(*BASE, "publish-book", "--file", write_lines(tmp_path, "e.jsonl", lines),
                 "--failed-out", str(out))
    assert result.exit_code == 1
    assert "line 3: email:" in result.stdout
    assert str(out) in result.stdout
    assert len(received(aws_clients, queue)) == 5
    [row] = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["line"] == 3 and row["error"]["code"] == "InvalidEvent"


def test_csv_with_a_bad_line_in_the_middle_sends_the_rest(cli, aws_clients, queue, env,
                                                          tmp_path) -> None:
    src = write_lines(tmp_path, "e.csv", [
        "book_id,email,title,link",
        "b-1,a@example.com,One,",
        "b-2,b@example.com,Two,https://evil.example.org/b-2",
        "b-3,c@example.com,Three,https://dev.books.example.com/books/b-3?ref=csv",
    ])
    out = tmp_path / "failed.jsonl"
    result = cli(*BASE, "-o", "json", "publish-book", "--file", src, "--failed-out", str(out))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["published"] == 2 and data["failed"] == 1
    assert data["invalid_lines"] == [{"line": 3, "error": "link: host 'evil.example.org' "
                                                           "is not on the allow-list"}]
    links = sorted(contract.parse(m["Body"], dev_policy(env)).link
                   for m in received(aws_clients, queue))
    assert links == ["https://dev.books.example.com/books/b-1",
                     "https://dev.books.example.com/books/b-3?ref=csv"]


def test_a_failed_out_file_can_be_sent_again(cli, aws_clients, queue, wrap_sns,
                                             tmp_path) -> None:
    wrap_sns["rules"]["b-poison"] = ("InvalidParameter", True, 1)  # fails only the first time
    src = write_lines(tmp_path, "e.jsonl", [json.dumps({"book_id": b, "email": "a@example.com"})
                                            for b in ("b-1", "b-poison")])
    out = tmp_path / "failed.jsonl"
    assert cli(*BASE, "publish-book", "--file", src, "--failed-out", str(out),
               clients=wrap_sns["clients"]).exit_code == 1
    again = cli(*BASE, "publish-book", "--file", str(out), clients=wrap_sns["clients"])
    assert again.exit_code == 0, again.output
    assert len(received(aws_clients, queue)) == 2


def test_the_default_failed_out_file_is_named_in_the_summary(cli, topic, wrap_sns, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    wrap_sns["rules"]["b-"] = ("InvalidParameter", True, -1)
    result = cli(*BASE, "-o", "json", "publish-book", "--book-id", "b-1",
                 clients=wrap_sns["clients"])
    assert result.exit_code == 1
    name = json.loads(result.stdout)["failed_out"]
    assert name.startswith("notifyctl-failed-") and (tmp_path / name).is_file()


def test_the_rate_ceiling_holds_over_a_run(aws_clients, topic, env) -> None:
    now = [0.0]
    stamps: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    aws_clients.client("sns").meta.events.register(
        "provide-client-params.sns.PublishBatch",
        lambda params, **kw: stamps.extend([now[0]] * len(params["PublishBatchRequestEntries"])))
    report = publish_book(aws_clients, env, PublishRequest(count=60, rate=20, concurrency=1),
                          sleep=sleep, monotonic=lambda: now[0])
    assert report.published == 60
    # At most one batch (10) up front, then 20/s: by fake time t, <= 10 + 20 t sent.
    assert all(i + 1 <= 10 + 20 * t + 1e-9 for i, t in enumerate(stamps))
    assert now[0] == pytest.approx((60 - 10) / 20)


# ------------------------------------------------------------------------- wait
def simulate_function(aws_clients: Any, outcomes: dict[int, tuple[str, str | None]]) -> None:
    """After each PublishBatch, write the function's final record for every message
    (entry index in the run -> status, reason), like a function that is instant."""
    dynamodb = aws_clients.client("dynamodb")
    counter = [0]
    # Each publisher thread's batch, read back by the same thread after its call.
    entries: dict[int, list[dict[str, Any]]] = {}

    def before(params: dict[str, Any], **kw: Any) -> None:
        entries[threading.get_ident()] = params["PublishBatchRequestEntries"]

    def after(parsed: dict[str, Any], **kw: Any) -> None:
        batch = entries.pop(threading.get_ident())
        for ok in parsed.get("Successful", []):
            status, reason = outcomes.get(counter[0], ("SENT", None))
            counter[0] += 1
            event_id = json.loads(batch[int(ok["Id"])]["Message"]).get("event_id")
            key = contract.dedup_key(event_id, ok["MessageId"])
            item: dict[str, Any] = {"pk": {"S": key}, "status": {"S": status},
                                    "attempts": {"N": "1"}, "expires_at": {"N": "9999999999"}}
            if status == "SENT":
                import time

                item["sent_at"] = {"N": str(int(time.time() * 1000) + 50)}
                item["ses_message_id"] = {"S": "ses-1"}
            if reason:
                item["reason"] = {"S": reason}
            dynamodb.put_item(TableName=TABLE, Item=item)

    sns = aws_clients.client("sns")
    sns.meta.events.register("before-parameter-build.sns.PublishBatch", before)
    sns.meta.events.register("after-call.sns.PublishBatch", after)


def test_wait_reports_outcomes_and_latency(aws_clients, topic, table, env) -> None:
    simulate_function(aws_clients, {3: ("REJECTED", "title: too long"),
                                    7: ("FAILED", "ses: MessageRejected")})
    report = publish_book(aws_clients, env, PublishRequest(count=12, wait=True, concurrency=1),
                          sleep=lambda s: None)
    w = report.wait
    assert w is not None
    assert (w.sent, w.rejected, w.failed, w.pending) == (10, 1, 1, 0)
    assert w.reasons == {"title: too long": 1, "ses: MessageRejected": 1}
    latency = w.latency_percentiles()
    assert latency is not None and 0 <= latency["p50"] <= latency["max"]
    assert not report.ok  # two were not sent


def test_wait_times_out_with_pending_messages(aws_clients, topic, table, env) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    report = publish_book(aws_clients, env, PublishRequest(count=3, wait=True, timeout_s=10),
                          sleep=sleep, monotonic=lambda: now[0])
    assert report.wait is not None and report.wait.timed_out
    assert (report.wait.unseen, report.wait.sent) == (3, 0)
    assert not report.ok


def test_wait_as_json_from_the_command(cli, aws_clients, topic, table) -> None:
    class Simulating(AwsClients):
        def client(self, service: str) -> Any:
            c = super().client(service)
            if service == "sns" and not getattr(c, "_simulated", False):
                c._simulated = True
                simulate_function(self, {})
            return c

    result = cli(*BASE, "-o", "json", "publish-book", "--count", "15", "--wait",
                 "--timeout", "30", clients=Simulating)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["published"] == 15
    assert data["wait"]["sent"] == 15 and data["wait"]["pending"] == 0
    assert set(data["wait"]["latency_ms"]) == {"p50", "p95", "p99", "max"}


def test_wait_on_a_missing_table_says_to_run_bootstrap(cli, topic) -> None:
    result = cli(*BASE, "publish-book", "--wait")
    assert result.exit_code == 1
    assert TABLE in result.stderr and "bootstrap" in result.stderr
