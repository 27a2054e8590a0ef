"""`notifyctl logs` on the embedded emulator: over HTTP, as against AWS."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PREFIX = "books-logstest"
RID = "0b3c9a2e-5d1f-4e6a-9b7c-1234567890ab"


@pytest.fixture
def config(local_config: Any) -> str:
    return str(local_config(PREFIX))


@pytest.fixture
def group(emulator: Any) -> str:
    """A log group with one invocation written exactly as Lambda writes it."""
    logs = emulator.client("logs")
    name = f"/aws/lambda/{emulator.unique('fn')}"
    stream = "2026/11/28/[2]" + "c" * 32
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName=stream)
    now = int(time.time() * 1000) - 5000
    lines = [
        "INIT_START Runtime Version: python:3.12.v29\tRuntime Version ARN: arn:aws:lambda:x",
        f"START RequestId: {RID} Version: 2",
        json.dumps({"level": "INFO", "message": "email sent", "request_id": RID,
                    "message_id": "m-77", "book_id": "b-9", "recipient": "j***@example.com",
                    "outcome": "sent", "duration_ms": 35}),
        f"END RequestId: {RID}",
        f"REPORT RequestId: {RID}\tDuration: 35.20 ms\tBilled Duration: 36 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 71 MB\tInit Duration: 180.00 ms\t\n",
    ]
    logs.put_log_events(logGroupName=name, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
    return name


def test_logs_shows_the_function_lines_and_report(cli: Any, emulator: Any, group: str,
                                                  config: str) -> None:
    result = cli("--config", config, "--endpoint-url", emulator.endpoint, "logs",
                 "--since", "1m", "--group", group)
    assert result.exit_code == 0, result.output
    assert "[2] INFO  email sent req=0b3c9a2e message_id=m-77" in result.stdout
    assert "REPORT req=0b3c9a2e 35.20 ms (billed 36 ms) · 71/256 MB · init 180 ms" \
        in result.stdout
    assert "START RequestId" not in result.stdout


def test_by_request_and_json_on_the_emulator(cli: Any, emulator: Any, group: str,
                                             config: str) -> None:
    base = ("--config", config, "--endpoint-url", emulator.endpoint)
    text = cli(*base, "logs", "--since", "1m", "--group", group, "--by-request")
    assert text.exit_code == 0, text.output
    header = text.stdout.splitlines()[0]
    assert RID in header and "v2" in header and "cold start 180 ms" in header
    assert header.endswith("sent")
    rows = [json.loads(x) for x in cli(*base, "-o", "json", "logs", "--since", "1m",
                                       "--group", group).stdout.splitlines()]
    assert [r["kind"] for r in rows] == ["json", "report"]
    assert all(r["request_id"] == RID and r["group"] == group for r in rows)


def test_a_group_that_does_not_exist_exits_1(cli: Any, emulator: Any, config: str) -> None:
    result = cli("--config", config, "--endpoint-url", emulator.endpoint, "logs",
                 "--group", "/aws/lambda/never-deployed")
    assert result.exit_code == 1
    assert "has the function been deployed? has it run?" in result.stderr


def test_after_a_publish_logs_by_request_shows_the_invocation(cli: Any, emulator: Any,
                                                              bootstrapped: Any) -> None:
    base = bootstrapped(PREFIX)
    published = cli(*base, "-o", "json", "publish-book", "--wait", "--timeout", "60")
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["wait"]["sent"] == 1

    def blocks() -> list[dict[str, Any]]:
        result = cli(*base, "-o", "json", "logs", "--since", "1m", "--by-request")
        assert result.exit_code == 0, result.output
        return [b for b in map(json.loads, result.stdout.splitlines()) if b.get("complete")]

    found = emulator.wait_until(blocks, timeout=20, what="the invocation's REPORT line")
    assert found[-1]["outcome"] == "sent", found[-1]
    assert any(e.get("data", {}).get("outcome") == "sent" for e in found[-1]["events"])
    text = cli(*base, "logs", "--since", "1m", "--by-request")
    assert text.exit_code == 0 and "sent" in text.stdout
