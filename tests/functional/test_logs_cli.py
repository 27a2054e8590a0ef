"""`notifyctl logs` end to end on moto: a realistic mix of platform and JSON lines."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest
from test_logs_support import GROUP, invocation, stream_name

pytestmark = pytest.mark.functional

# The dev environment's function group; --region keeps everything in moto's us-east-1.
BASE = ("--env", "dev", "--region", "us-east-1")
R1 = "11111111-aaaa-4bbb-8ccc-000000000001"
R2 = "22222222-aaaa-4bbb-8ccc-000000000002"
R3 = "33333333-aaaa-4bbb-8ccc-000000000003"


@pytest.fixture
def logs(moto_aws: None, repo_config: Any) -> Any:
    import boto3

    client = boto3.client("logs", region_name="us-east-1")
    client.create_log_group(logGroupName=GROUP)
    return client


def put(client: Any, stream: str, messages: list[str], ts: int) -> None:
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    client.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
        {"timestamp": ts + i, "message": m} for i, m in enumerate(messages)])


@pytest.fixture
def realistic(logs: Any) -> Any:
    """Two execution environments (versions 3 and 4), three invocations, one timing out."""
    now = int(time.time() * 1000)
    put(logs, stream_name("3", "a"), invocation(R1, cold=True, extra_text="a bare print()")
        + invocation(R2, outcome="duplicate"), now - 60_000)
    put(logs, stream_name("4", "b"), invocation(R3, version="4", cold=True, timeout=True),
        now - 30_000)
    return logs


def test_default_view_hides_start_end_but_surfaces_report_and_timeouts(cli: Any,
                                                                        realistic: Any) -> None:
    result = cli(*BASE, "logs")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "START RequestId" not in out and "END RequestId" not in out
    assert "INIT_START" not in out
    assert f"REPORT req={R1[:8]} 41.50 ms (billed 42 ms) · 70/256 MB · init 210 ms" in out
    assert f"{R3} Task timed out after 3.00 seconds" in out
    assert "a bare print()" in out
    assert "outcome=duplicate" in out and "recipient=j***@example.com" in out
    assert "\x1b[" not in out  # no colour when not a terminal


def test_platform_shows_the_raw_lines(cli: Any, realistic: Any) -> None:
    out = cli(*BASE, "logs", "--platform").stdout
    assert f"START RequestId: {R1} Version: 3" in out and f"END RequestId: {R2}" in out
    assert "INIT_START Runtime Version" in out


def test_by_request_shows_one_block_per_invocation_with_its_outcome(cli: Any,
                                                                     realistic: Any) -> None:
    result = cli(*BASE, "logs", "--by-request")
    assert result.exit_code == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("──")]
    assert len(headers) == 3
    assert R1 in headers[0] and "v3" in headers[0] and "41.50 ms" in headers[0] \
        and "cold start 210 ms" in headers[0] and headers[0].endswith("sent")
    assert R2 in headers[1] and headers[1].endswith("duplicate") and "cold" not in headers[1]
    assert R3 in headers[2] and "v4" in headers[2] and headers[2].endswith("timed out")
    # the bare print() sits inside R1's block
    lines = result.stdout.splitlines()
    assert lines.index(headers[0]) < next(i for i, x in enumerate(lines) if "a bare print()"
                                          in x) < lines.index(headers[1])


def test_request_id_shows_one_invocation_including_lines_without_an_id(cli: Any,
                                                                       realistic: Any) -> None:
    out = cli(*BASE, "logs", "--request-id", R1[:13]).stdout
    assert "a bare print()" in out and R1[:8] in out
    assert R2[:8] not in out and R3[:8] not in out


def test_version_filter(cli: Any, realistic: Any) -> None:
    out = cli(*BASE, "logs", "--version", "4").stdout
    assert R3[:8] in out and R1[:8] not in out and R2[:8] not in out


def test_json_output_is_one_object_per_event(cli: Any, realistic: Any) -> None:
    result = cli(*BASE, "--output", "json", "logs")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all({"timestamp", "group", "stream", "eventId", "message"} <= set(r)
                        for r in rows)
    done = [r for r in rows if r.get("data", {}).get("message") == "done"]
    assert {r["request_id"] for r in done} == {R1, R2}
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)


def test_json_by_request_is_one_object_per_invocation(cli: Any, realistic: Any) -> None:
    rows = [json.loads(x) for x in cli(*BASE, "-o", "json", "logs", "--by-request")
            .stdout.splitlines()]
    assert [(r["request_id"], r["outcome"]) for r in rows] == \
        [(R1, "sent"), (R2, "duplicate"), (R3, "timed out")]
    assert rows[0]["duration_ms"] == 41.5 and rows[0]["cold_start"] is True


def test_filter_pattern_is_passed_through(cli: Any, realistic: Any) -> None:
    out = cli(*BASE, "logs", "--filter", "duplicate").stdout
    assert "outcome=duplicate" in out and "outcome=sent" not in out


def test_window_excludes_older_events(cli: Any, realistic: Any) -> None:
    out = cli(*BASE, "logs", "--since", "45s").stdout
    assert R3[:8] in out and R1[:8] not in out


def test_missing_group_exits_1_with_a_clear_message(cli: Any, repo_config: Any,
                                                    moto_aws: None) -> None:
    result = cli(*BASE, "logs")
    assert result.exit_code == 1
    assert "log group /aws/lambda/books-dev-notifier not found" in result.stderr
    assert "has the function been deployed? has it run?" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [("--since", "yesterday"), ("--until", "soon"),
                                  ("--since", "1h", "--until", "2h")])
def test_bad_times_exit_2_with_an_example(cli: Any, repo_config: Any, args: tuple[str, ...]
                                          ) -> None:
    result = cli(*BASE, "logs", *args)
    assert result.exit_code == 2
    assert "--since" in result.stderr or "--until" in result.stderr


def test_ctrl_c_while_following_exits_130_without_traceback(cli: Any, realistic: Any,
                                                            monkeypatch: Any) -> None:
    from notifyctl.logs import follow

    polls = {"n": 0}
    original = follow.Follower.poll

    def poll_then_interrupt(self: Any) -> Any:
        polls["n"] += 1
        if polls["n"] > 1:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(follow.Follower, "poll", poll_then_interrupt)
    monkeypatch.setattr(follow.Follower, "run", _run_without_sleep(follow.Follower.run))
    result = cli(*BASE, "logs", "--follow", "--since", "5m", "--by-request")
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    assert result.stdout.count("──") == 3  # what was read is shown before exiting


def _run_without_sleep(original: Any) -> Any:
    def run(self: Any, max_polls: int | None = None) -> Any:
        self.sleep = lambda seconds: None
        self.limiter._sleep = lambda seconds: None
        return original(self, max_polls)
    return run


def test_several_groups_are_labelled(cli: Any, realistic: Any) -> None:
    realistic.create_log_group(logGroupName="/app/web")
    realistic.create_log_stream(logGroupName="/app/web", logStreamName="web-1")
    realistic.put_log_events(logGroupName="/app/web", logStreamName="web-1", logEvents=[
        {"timestamp": int(time.time() * 1000) - 1000, "message": "GET /books 200"}])
    out = cli(*BASE, "logs", "--group", GROUP, "--group", "/app/web").stdout
    assert "web[web-1] GET /books 200" in out and "books-dev-notifier[3]" in out
