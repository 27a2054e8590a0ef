"""Issue 13's table, the Lambda half: one probe per row, made through boto3 as a user
would, each checking what AWS documents (docs/research: aws-behaviours.md)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import zip_source

pytestmark = pytest.mark.integration


def make_function(emulator: Any, source: str | dict[str, str], **config: Any) -> str:
    """Create a function (Runtime python3.11 unless given) and return its name."""
    files = {"app.py": source} if isinstance(source, str) else source
    name = emulator.unique("parity")
    spec: dict[str, Any] = {"FunctionName": name, "Runtime": "python3.11",
                            "Role": emulator.role_arn(), "Handler": "app.handler", "Timeout": 10,
                            "Code": {"ZipFile": zip_source(files)}}
    spec.update(config)
    emulator.client("lambda").create_function(**spec)
    emulator.wait_for_function(name)
    return name


def invoke(emulator: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[dict, Any]:
    resp = emulator.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kwargs)
    return resp, json.loads(resp["Payload"].read() or b"null")


def log_text(emulator: Any, group: str) -> str:
    events = emulator.client("logs").filter_log_events(logGroupName=group)["events"]
    return "".join(e["message"] for e in events)


# -- the runtime's view -------------------------------------------------------------------
IMPORTS = """
import importlib

def handler(event, context):
    importlib.import_module(event["module"])
    return "imported"
"""


@pytest.mark.parametrize("module", ["requests", "yaml", "notifyctl", "moto", "pytest"])
def test_the_emulators_own_libraries_are_not_importable(emulator: Any, module: str) -> None:
    name = make_function(emulator, f"import {module}\n\ndef handler(event, context):\n    pass\n")

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert f"No module named '{module}'" in body["errorMessage"]


def test_the_runtime_sdk_and_the_standard_library_are_importable(emulator: Any) -> None:
    name = make_function(emulator, IMPORTS)

    for module in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
                   "json", "sqlite3", "ctypes"):
        resp, body = invoke(emulator, name, {"module": module})
        assert "FunctionError" not in resp, (module, body)


@pytest.mark.parametrize(("runtime", "version"), [("python3.12", [3, 12]),
                                                   ("python3.13", [3, 13])])
def test_the_runtime_names_the_interpreter(emulator: Any, runtime: str,
                                           version: list[int]) -> None:
    source = ("import sys, itertools\n\ndef handler(event, context):\n"
              "    return {'version': list(sys.version_info[:2]),\n"
              "            'batched': hasattr(itertools, 'batched')}\n")
    name = make_function(emulator, source, Runtime=runtime)

    _, body = invoke(emulator, name)

    init_start = log_text(emulator, f"/aws/lambda/{name}").split("\n")[0]
    if body["version"] == version:  # installed here (pyenv, PATH)
        assert body["batched"] is (version >= [3, 12])
        assert "WARNING" not in init_start
    else:  # not installed: the emulator's Python, said loudly
        assert f"WARNING: {runtime} is not installed here" in init_start
        notes = emulator.status()["runtime"]["runtime_notes"]
        assert any(runtime in note for note in notes)


def test_a_missing_python_runs_on_the_host_and_says_so_loudly(cli: Any,
                                                             tmp_path: Path) -> None:
    from notifyctl.emulator import control
    from tests.integration.conftest import Emulator

    hidden = {"PYENV_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}  # no python3.13 here
    with control.private_emulator(extra_env=hidden) as info:
        emulator = Emulator(endpoint=info.endpoint, info=info, state_dir=tmp_path)
        source = "import sys\n\ndef handler(event, context):\n    return sys.version_info[1]\n"
        name = make_function(emulator, source, Runtime="python3.13")

        _, minor = invoke(emulator, name)
        init_start = log_text(emulator, f"/aws/lambda/{name}").split("\n")[0]
        text = cli("local", "status", "--port", str(info.port))
        data = json.loads(cli("-o", "json", "local", "status", "--port", str(info.port)).stdout)

    import sys

    assert minor == sys.version_info[1]
    assert "WARNING: python3.13 is not installed here: running on the emulator's Python" \
        in init_start
    assert "WARNING: python3.13 is not installed here" in text.stdout
    note = {f["name"]: f for f in data["functions"]}[name]["runtime_note"]
    assert note in data["runtime"]["runtime_notes"]


def test_a_runtime_the_emulator_cannot_run_fails_clearly(emulator: Any) -> None:
    name = make_function(emulator, {"index.js": "exports.handler = async () => 1;\n"},
                         Runtime="nodejs20.x", Handler="index.handler")

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidRuntime"
    assert "nodejs20.x" in body["errorMessage"]


LAYER_USER = """
import os
import layer_mod

def handler(event, context):
    return {"value": layer_mod.VALUE, "opt": sorted(os.listdir(os.path.dirname(
        os.path.dirname(layer_mod.__file__))))}
"""


def test_layers_are_under_opt_and_on_the_path_later_layers_win(emulator: Any) -> None:
    lam = emulator.client("lambda")
    first = lam.publish_layer_version(
        LayerName=emulator.unique("layer"),
        Content={"ZipFile": zip_source({"python/layer_mod.py": "VALUE = 'first'\n"})})
    second = lam.publish_layer_version(
        LayerName=emulator.unique("layer"),
        Content={"ZipFile": zip_source({"python/layer_mod.py": "VALUE = 'second'\n"})})
    name = make_function(emulator, LAYER_USER,
                         Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])

    resp, body = invoke(emulator, name)

    assert "FunctionError" not in resp, body
    assert body["value"] == "second"
    assert body["opt"] == ["python"]


FILES = """
import os, tempfile

def handler(event, context):
    out = {"tmpdir": tempfile.gettempdir()}
    path = "/tmp/notifyctl-parity-probe"
    out["seen_before"] = os.path.exists(path)
    with open(path, "w") as fh:
        fh.write(event["tag"])
    try:
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as fh:
            fh.write("x")
        out["task_root"] = "writable"
    except OSError as exc:
        out["task_root"] = exc.strerror
    return out
"""


def test_tmp_is_private_to_each_environment_and_the_task_root_read_only(emulator: Any) -> None:
    if emulator.status()["runtime"]["sandbox"] == "off":
        pytest.skip("the emulator runs without a sandbox here (documented difference)")
    first = make_function(emulator, FILES)
    second = make_function(emulator, FILES)
    tag = uuid.uuid4().hex

    _, one = invoke(emulator, first, {"tag": tag})
    _, two = invoke(emulator, second, {"tag": tag})

    assert emulator.status()["runtime"]["sandbox"].startswith("private /tmp")
    assert one["tmpdir"] == "/tmp"
    assert one["seen_before"] is False and two["seen_before"] is False
    assert one["task_root"] == two["task_root"] == "Read-only file system"
    assert not os.path.exists("/tmp/notifyctl-parity-probe")  # the host's /tmp untouched


# -- function states and preconditions ----------------------------------------------------
VERSIONED = 'def handler(event, context):\n    return {"code": "%s"}\n'
SLOW_TIME_SCALE = 0.4  # creates and updates take 4 s: the probes below run inside them


@pytest.fixture(scope="module")
def strict_emulator() -> Iterator[Any]:
    """A private emulator on a slow clock (a create or an update takes 4 s), whose
    account concurrency is 1."""
    from notifyctl.emulator import control
    from tests.integration.conftest import Emulator

    with control.private_emulator(time_scale=SLOW_TIME_SCALE, extra_env={
            "NOTIFYCTL_EMULATOR_ACCOUNT_CONCURRENCY": "1"}) as info:
        yield Emulator(endpoint=info.endpoint, info=info, state_dir=Path(info.state_dir or "."))


def test_a_new_function_is_pending_and_refuses_invoke_and_publish(strict_emulator: Any) -> None:
    lam = strict_emulator.client("lambda")
    name = strict_emulator.unique("pending")

    created = lam.create_function(FunctionName=name, Runtime="python3.11",
                                  Role=strict_emulator.role_arn(), Handler="app.handler",
                                  Code={"ZipFile": zip_source({"app.py": VERSIONED % "one"})})

    assert (created["State"], created["StateReasonCode"]) == ("Pending", "Creating")
    with pytest.raises(lam.exceptions.ResourceConflictException, match="Pending"):
        lam.invoke(FunctionName=name, Payload=b"{}")
    with pytest.raises(lam.exceptions.ResourceConflictException, match="Pending"):
        lam.publish_version(FunctionName=name)
    strict_emulator.wait_for_function(name)
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert invoke(strict_emulator, name)[1] == {"code": "one"}


def test_an_update_is_in_progress_conflicts_and_the_previous_code_serves(
        strict_emulator: Any) -> None:
    lam = strict_emulator.client("lambda")
    name = make_function(strict_emulator, VERSIONED % "one")

    updated = lam.update_function_code(FunctionName=name,
                                       ZipFile=zip_source({"app.py": VERSIONED % "two"}))

    assert (updated["State"], updated["LastUpdateStatus"]) == ("Active", "InProgress")
    with pytest.raises(lam.exceptions.ResourceConflictException, match="update is in progress"):
        lam.update_function_configuration(FunctionName=name, Description="again")
    with pytest.raises(lam.exceptions.ResourceConflictException, match="update is in progress"):
        lam.update_function_code(FunctionName=name,
                                 ZipFile=zip_source({"app.py": VERSIONED % "three"}))
    with pytest.raises(lam.exceptions.ResourceConflictException, match="update is in progress"):
        lam.publish_version(FunctionName=name)
    assert invoke(strict_emulator, name)[1] == {"code": "one"}
    strict_emulator.wait_for_function(name)
    assert invoke(strict_emulator, name)[1] == {"code": "two"}
    assert lam.publish_version(FunctionName=name)["Version"] == "1"


def test_account_concurrency_throttles_beyond_the_limit(strict_emulator: Any) -> None:
    lam = strict_emulator.client("lambda")
    name = make_function(strict_emulator, SLEEPY)
    first = threading.Thread(target=invoke, args=(strict_emulator, name, {"hold": 3}))
    first.start()
    try:
        strict_emulator.wait_until(
            lambda: any(f["name"] == name and f["busy"] for f in
                        strict_emulator.status()["functions"]), what="the first invocation")
        with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
            lam.invoke(FunctionName=name, Payload=b"{}")
    finally:
        first.join()
    assert caught.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_publish_version_refuses_a_wrong_code_sha256(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = make_function(emulator, VERSIONED % "one")
    sha = lam.get_function_configuration(FunctionName=name)["CodeSha256"]

    with pytest.raises(lam.exceptions.InvalidParameterValueException,
                       match="is different from current CodeSHA256"):
        lam.publish_version(FunctionName=name, CodeSha256="A" * 43 + "=")
    assert lam.publish_version(FunctionName=name, CodeSha256=sha)["Version"] == "1"


def test_a_stale_revision_id_is_refused(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = make_function(emulator, VERSIONED % "one")
    stale = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Description="first", RevisionId=stale)
    emulator.wait_for_function(name)

    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_configuration(FunctionName=name, Description="second",
                                          RevisionId=stale)
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.publish_version(FunctionName=name, RevisionId=stale)
    fresh = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    assert lam.publish_version(FunctionName=name, RevisionId=fresh)["Version"] == "1"


# -- limits -------------------------------------------------------------------------------
SLEEPY = """
import time

def handler(event, context):
    time.sleep(event.get("hold", 0))
    return "done"
"""

HUNGRY = """
def handler(event, context):
    block = b"x" * (event["mb"] * 1024 * 1024)
    return len(block)
"""


def test_a_function_over_its_memory_size_is_killed(emulator: Any) -> None:
    name = make_function(emulator, HUNGRY, MemorySize=128)

    small, body_small = invoke(emulator, name, {"mb": 16})
    resp, body = invoke(emulator, name, {"mb": 512})

    assert "FunctionError" not in small and body_small == 16 * 1024 * 1024
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    report = [line for line in log_text(emulator, f"/aws/lambda/{name}").split("\n")
              if line.startswith("REPORT") and "Status: error" in line]
    assert len(report) == 1 and "Memory Size: 128 MB" in report[0]
    used = int(report[0].split("Max Memory Used: ")[1].split(" ")[0])
    assert used >= 128


def test_payloads_over_the_invoke_limits_are_refused(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = make_function(emulator, SLEEPY)
    big_sync = json.dumps({"pad": "x" * (7 * 1024 * 1024)}).encode()
    big_async = json.dumps({"pad": "x" * (1536 * 1024)}).encode()

    with pytest.raises(ClientError) as sync:
        lam.invoke(FunctionName=name, Payload=big_sync)
    with pytest.raises(ClientError) as event:
        lam.invoke(FunctionName=name, Payload=big_async, InvocationType="Event")

    for caught in (sync, event):
        assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "smaller than 6291456 bytes" in sync.value.response["Error"]["Message"]
    assert "too large for the Event invocation type (limit 1048576 bytes)" in \
        event.value.response["Error"]["Message"]
    assert "FunctionError" not in invoke(emulator, name, {"pad": "x" * 1024})[0]


def test_a_response_over_6_mb_fails_the_invocation(emulator: Any) -> None:
    name = make_function(emulator, "def handler(event, context):\n"
                                   "    return 'x' * (7 * 1024 * 1024)\n")

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def make_queue(emulator: Any) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=emulator.unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def receive_one(emulator: Any, url: str) -> dict[str, Any]:
    sqs = emulator.client("sqs")

    def poll() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                   MessageAttributeNames=["All"]).get("Messages", [])

    return dict(emulator.wait_until(poll, what="a queued message")[0])


def test_reserved_concurrency_zero_fails_sync_and_sends_async_straight_to_failure(
        emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = make_function(emulator, SLEEPY)
    url, queue_arn = make_queue(emulator)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)

    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName=name, Payload=b"{}")
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    record = json.loads(receive_one(emulator, url)["Body"])

    assert record["requestPayload"] == {"n": 1}
    assert record["requestContext"]["approximateInvokeCount"] == 0
    stats = {f["name"]: f for f in emulator.status()["functions"]}[name]
    assert stats["throttles"] >= 2 and stats.get("invocations", 0) == 0  # never ran


# -- the rest of the Lambda rows -------------------------------------------------------------
FAILS = 'def handler(event, context):\n    raise RuntimeError("downstream is down")\n'


def test_dead_letter_config_receives_the_original_event(emulator: Any) -> None:
    lam = emulator.client("lambda")
    url, queue_arn = make_queue(emulator)
    name = make_function(emulator, FAILS, DeadLetterConfig={"TargetArn": queue_arn})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)

    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 7}')
    message = receive_one(emulator, url)

    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": queue_arn}
    assert json.loads(message["Body"]) == {"order": 7}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RequestID"] == response["ResponseMetadata"]["RequestId"]
    assert attributes["ErrorCode"] == "200"
    assert "downstream is down" in attributes["ErrorMessage"]


def test_sns_redrive_policy_receives_what_sns_cannot_deliver(emulator: Any) -> None:
    sns = emulator.client("sns")
    url, queue_arn = make_queue(emulator)
    topic = sns.create_topic(Name=emulator.unique("topic"))["TopicArn"]
    missing = "arn:aws:lambda:us-east-1:123456789012:function:" + emulator.unique("gone")
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=missing,
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn})})

    message_id = sns.publish(TopicArn=topic, Message="undeliverable")["MessageId"]
    notification = json.loads(receive_one(emulator, url)["Body"])

    assert (notification["MessageId"], notification["Message"]) == (message_id, "undeliverable")
    assert notification["TopicArn"] == topic


def test_an_event_invoke_config_applies_to_its_qualifier_only(emulator: Any) -> None:
    lam = emulator.client("lambda")
    name = make_function(emulator, FAILS, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    live_url, live_queue = make_queue(emulator)
    latest_url, latest_queue = make_queue(emulator)
    lam.put_function_event_invoke_config(
        FunctionName=name, Qualifier="live", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": live_queue}})
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": latest_queue}})

    live = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    lam.invoke(FunctionName=name, Qualifier="live", InvocationType="Event", Payload=b'{"q": 1}')
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"q": 2}')

    assert live["FunctionArn"].endswith(f":{name}:live")
    assert json.loads(receive_one(emulator, live_url)["Body"])["requestPayload"] == {"q": 1}
    assert json.loads(receive_one(emulator, latest_url)["Body"])["requestPayload"] == {"q": 2}
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert sorted(c["FunctionArn"].rsplit(":", 1)[1]
                  for c in listed["FunctionEventInvokeConfigs"]) == ["$LATEST", "live"]


def test_the_invoke_request_id_is_the_functions_aws_request_id(emulator: Any) -> None:
    name = make_function(emulator, "def handler(event, context):\n"
                                   "    return context.aws_request_id\n")

    resp, body = invoke(emulator, name)

    assert resp["ResponseMetadata"]["RequestId"] == body
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == body


LOGGER = """
import logging
logger = logging.getLogger("probe")

def handler(event, context):
    logger.debug("debug line")
    logger.info("info line", extra={"order": 7})
    return "ok"
"""


def test_logging_config_json_format_levels_and_custom_group(emulator: Any) -> None:
    group = "/custom/" + emulator.unique("group")
    emulator.client("logs").create_log_group(logGroupName=group)
    name = make_function(emulator, LOGGER, LoggingConfig={
        "LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN",
        "LogGroup": group})

    resp, _ = invoke(emulator, name)
    request_id = resp["ResponseMetadata"]["RequestId"]

    config = emulator.client("lambda").get_function_configuration(FunctionName=name)
    assert config["LoggingConfig"]["LogGroup"] == group
    lines = [json.loads(line) for line in log_text(emulator, group).splitlines() if line]
    assert [(line["level"], line["message"]) for line in lines] == [("INFO", "info line")]
    assert lines[0]["requestId"] == request_id and lines[0]["order"] == 7
    assert lines[0]["logger"] == "probe"
    assert not emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
