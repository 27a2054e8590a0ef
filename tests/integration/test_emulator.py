"""The emulator's Lambda runtime through the Lambda API: the Lambda contract,
warm reuse, failures, timeouts, logs, metrics, qualifiers and aliases."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.integration

COUNTER = """
import json, os
COUNT = 0
print("cold start")

def handler(event, context):
    global COUNT
    COUNT += 1
    print("invocation", COUNT)
    return {"count": COUNT, "pid": os.getpid(), "event": event}
"""

CONTRACT = """
import os

def handler(event, context):
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER",
            "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "GREETING"]
    return {
        "env": {k: os.environ.get(k) for k in keys},
        "cwd": os.getcwd(),
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
    }
"""

FAILING = """
def handler(event, context):
    raise ValueError("bad input: " + str(event.get("x")))
"""

SLEEPY = """
import time
STARTS = 0
STARTS += 1

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"starts": STARTS, "invocations": 1}
"""

CRASHY = """
import os
N = 0

def handler(event, context):
    global N
    N += 1
    if event.get("exit"):
        os._exit(7)
    return {"n": N}
"""

VERSIONED = 'def handler(event, context):\n    return {"code": "%s"}\n'


def invoke(emulator: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[dict, Any]:
    resp = emulator.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kwargs)
    return resp, json.loads(resp["Payload"].read() or b"null")


def log_messages(emulator: Any, name: str) -> list[dict[str, Any]]:
    logs = emulator.client("logs")
    events, token = [], None
    while True:
        kwargs = {"logGroupName": f"/aws/lambda/{name}"}
        if token:
            kwargs["nextToken"] = token
        page = logs.filter_log_events(**kwargs)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def test_invoke_runs_the_handler_and_reuses_the_warm_environment(emulator: Any) -> None:
    name = emulator.create_function(COUNTER)["FunctionName"]

    first, body1 = invoke(emulator, name, {"n": 1})
    _, body2 = invoke(emulator, name, {"n": 2})
    _, body3 = invoke(emulator, name, {"n": 3})

    assert first["StatusCode"] == 200
    assert "FunctionError" not in first
    assert first["ExecutedVersion"] == "$LATEST"
    assert [body1["count"], body2["count"], body3["count"]] == [1, 2, 3]
    assert body1["pid"] == body2["pid"] == body3["pid"]
    assert body3["event"] == {"n": 3}


def test_the_function_sees_the_lambda_environment_and_context(emulator: Any) -> None:
    name = emulator.create_function(CONTRACT, timeout=7, memory=256,
                                    environment={"GREETING": "hi"})["FunctionName"]

    resp, body = invoke(emulator, name)

    env, ctx = body["env"], body["context"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == body["cwd"]
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_ENDPOINT_URL"] == emulator.endpoint
    assert env["GREETING"] == "hi"
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert ctx["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert 0 < ctx["remaining"] <= 7000
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["aws_request_id"])


def test_a_raising_handler_fails_that_invocation_as_unhandled(emulator: Any) -> None:
    name = emulator.create_function(FAILING)["FunctionName"]

    resp, body = invoke(emulator, name, {"x": 42})

    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: 42"
    assert any("raise ValueError" in line for line in body["stackTrace"])


def test_a_timeout_kills_the_environment_and_the_next_call_starts_a_new_one(emulator: Any) -> None:
    name = emulator.create_function(SLEEPY, timeout=1)["FunctionName"]
    _, warm = invoke(emulator, name)

    resp, body = invoke(emulator, name, {"sleep": 30})
    _, after = invoke(emulator, name)

    assert warm["starts"] == 1
    assert resp["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    assert after["starts"] == 1  # module code ran again: a new environment
    messages = [e["message"] for e in log_messages(emulator, name)]
    assert any("Task timed out after 1.00 seconds" in m for m in messages)
    assert any(m.startswith("REPORT") and "Status: timeout" in m for m in messages)


def test_a_crashing_process_fails_only_its_invocation(emulator: Any) -> None:
    name = emulator.create_function(CRASHY)["FunctionName"]
    invoke(emulator, name)

    resp, body = invoke(emulator, name, {"exit": True})
    _, after = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 7" in body["errorMessage"]
    assert after == {"n": 1}
    assert emulator.status()["status"] == "ready"


def test_an_unimportable_handler_reports_an_init_error(emulator: Any) -> None:
    name = emulator.create_function("import no_such_module\n")["FunctionName"]

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module" in body["errorMessage"]


def test_logs_go_to_the_function_group_with_platform_lines(emulator: Any) -> None:
    name = emulator.create_function(COUNTER)["FunctionName"]
    _, first = invoke(emulator, name)
    invoke(emulator, name)

    events = log_messages(emulator, name)
    messages = [e["message"] for e in events]
    streams = {e["logStreamName"] for e in events}

    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", streams.pop())
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    ends = [m for m in messages if m.startswith("END RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(starts) == len(ends) == len(reports) == 2
    assert starts[0].rstrip().endswith("Version: $LATEST")
    assert re.search(r"Duration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
                     r"Max Memory Used: \d+ MB", reports[0])
    assert "Init Duration: " in reports[0] and "Init Duration" not in reports[1]
    assert messages.index("cold start\n") < messages.index(starts[0])
    assert messages.index(starts[0]) < messages.index("invocation 1\n") < messages.index(ends[0])


def test_log_type_tail_returns_the_end_of_the_log(emulator: Any) -> None:
    import base64

    name = emulator.create_function(COUNTER)["FunctionName"]

    resp, _ = invoke(emulator, name, LogType="Tail")

    tail = base64.b64decode(resp["LogResult"]).decode()
    assert "START RequestId" in tail and "invocation 1" in tail and "REPORT RequestId" in tail


def test_metrics_are_published_to_aws_lambda(emulator: Any) -> None:
    import datetime as dt

    ok = emulator.create_function(COUNTER)["FunctionName"]
    bad = emulator.create_function(FAILING)["FunctionName"]
    for _ in range(3):
        invoke(emulator, ok)
    invoke(emulator, bad)

    cw = emulator.client("cloudwatch")
    now = dt.datetime.now(dt.UTC)

    def total(metric: str, name: str, stat: str = "Sum") -> float:
        resp = cw.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=10),
            Period=3600, Statistics=[stat])
        return sum(p[stat] for p in resp["Datapoints"])

    assert total("Invocations", ok) == 3
    assert total("Errors", ok) == 0
    assert total("Duration", ok, "SampleCount") == 3
    assert total("Invocations", bad) == 1
    assert total("Errors", bad) == 1


def test_reserved_concurrency_zero_throttles(emulator: Any) -> None:
    import boto3
    from botocore.config import Config

    name = emulator.create_function(COUNTER)["FunctionName"]
    emulator.client("lambda").put_function_concurrency(FunctionName=name,
                                                       ReservedConcurrentExecutions=0)
    lam = boto3.session.Session().client(  # no retries: botocore retries throttles
        "lambda", endpoint_url=emulator.endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}))

    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName=name, Payload=b"{}")


def test_the_qualifier_parameter_selects_the_version(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = emulator.create_function(VERSIONED % "one", publish=True)["FunctionName"]
    lam.update_function_code(FunctionName=name, ZipFile=_zip(VERSIONED % "two"))
    emulator.wait_for_function(name)

    v1, body1 = invoke(emulator, name, Qualifier="1")
    latest, body_latest = invoke(emulator, name)
    arn_v1, body_arn = invoke(emulator, f"arn:aws:lambda:us-east-1:123456789012:function:{name}:1")

    assert (body1, v1["ExecutedVersion"]) == ({"code": "one"}, "1")
    assert (body_latest, latest["ExecutedVersion"]) == ({"code": "two"}, "$LATEST")
    assert body_arn == {"code": "one"}


def test_alias_routing_weights_run_both_versions(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = emulator.create_function(VERSIONED % "one", publish=True)["FunctionName"]
    lam.update_function_code(FunctionName=name, ZipFile=_zip(VERSIONED % "two"))
    emulator.wait_for_function(name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})

    seen = {}
    for _ in range(40):
        resp, body = invoke(emulator, name, Qualifier="live")
        seen[resp["ExecutedVersion"]] = body["code"]

    assert seen == {"1": "one", "2": "two"}


def test_get_function_code_location_downloads_the_zip(emulator: Any) -> None:
    import hashlib
    import urllib.request

    name = emulator.create_function(COUNTER)["FunctionName"]
    resp = emulator.client("lambda").get_function(FunctionName=name)

    location = resp["Code"]["Location"]
    assert location.startswith(emulator.endpoint)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = opener.open(location, timeout=5).read()
    import base64

    assert base64.b64encode(hashlib.sha256(data).digest()).decode() == \
        resp["Configuration"]["CodeSha256"]


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


def test_concurrent_conditional_puts_let_exactly_one_win(emulator: Any) -> None:
    """The de-dup claim relies on this; moto alone checks then writes, unlocked."""
    import threading

    import boto3
    from botocore.config import Config

    ddb = emulator.client("dynamodb")
    table = emulator.unique("claims")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    clients = [boto3.session.Session().client(
        "dynamodb", endpoint_url=emulator.endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1})) for _ in range(6)]
    wins: list[int] = []
    barrier = threading.Barrier(len(clients))

    def claim(index: int) -> None:
        for round_ in range(20):
            barrier.wait()
            try:
                clients[index].put_item(
                    TableName=table, Item={"pk": {"S": f"m-{round_}"}, "by": {"N": str(index)}},
                    ConditionExpression="attribute_not_exists(pk)")
                wins.append(round_)
            except clients[index].exceptions.ConditionalCheckFailedException:
                pass

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(wins) == list(range(20))
