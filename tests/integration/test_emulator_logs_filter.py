"""FilterLogEvents with CloudWatch Logs filter patterns and logStreamNamePrefix (issue 13)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

PRINTS = '''
import json

def handler(event, context):
    for outcome in ("sent", "rejected", "sent"):
        print(json.dumps({"outcome": outcome, "latency": 1500 if outcome == "rejected" else 20}))
    print("[WARN] 404 from the link host")
    return "ok"
'''


def test_patterns_filter_a_functions_log(emulator: Any) -> None:
    fn = emulator.create_function(PRINTS)["FunctionName"]
    emulator.client("lambda").invoke(FunctionName=fn, Payload=b"{}")
    logs = emulator.client("logs")
    group = f"/aws/lambda/{fn}"

    def messages(pattern: str) -> list[str]:
        events = emulator.wait_until(
            lambda: logs.filter_log_events(logGroupName=group)["events"], what="the log lines")
        assert events
        return [e["message"].strip() for e in
                logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]]

    rejected = messages('{ $.outcome = "rejected" }')
    assert [json.loads(m)["outcome"] for m in rejected] == ["rejected"]
    assert len(messages("{ $.latency < 100 }")) == 2
    assert messages("?WARN ?nothing-like-this") == ["[WARN] 404 from the link host"]
    assert all("sent" not in m for m in messages("-sent"))
    assert messages('"from the link"') == ["[WARN] 404 from the link host"]
    assert messages("404") == ["[WARN] 404 from the link host"]


def test_invalid_pattern_is_invalid_parameter(emulator: Any) -> None:
    logs = emulator.client("logs")
    group = emulator.unique("/probe/invalid")
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as err:
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.outcome = "x" ')
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_log_stream_name_prefix_is_honoured(emulator: Any) -> None:
    logs = emulator.client("logs")
    group = emulator.unique("/probe/prefix")
    logs.create_log_group(logGroupName=group)
    for stream in ("2026/11/28/[1]aaa", "2026/11/28/[2]bbb"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": int(time.time() * 1000),
                                        "message": stream}])

    def streams(prefix: str) -> list[str]:
        events = logs.filter_log_events(logGroupName=group, logStreamNamePrefix=prefix)["events"]
        return sorted(e["logStreamName"] for e in events)

    assert streams("2026/11/28/[2]") == ["2026/11/28/[2]bbb"]
    assert streams("2026/") == ["2026/11/28/[1]aaa", "2026/11/28/[2]bbb"]
    assert streams("1999/") == []
