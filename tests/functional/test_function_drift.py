"""The function's configuration drift is measured against what `live` serves, and a
configuration fix publishes the code `live` serves (issue 11, bugs 1 and 3)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from notifyctl.config import load
from notifyctl.infra import bootstrap
from notifyctl.plans.model import CONFLICT, UNCHANGED, UPDATE

pytestmark = pytest.mark.functional

FUNCTION = "t-books-notifier"


@pytest.fixture
def run(cli: Any, pipeline_config: Any, moto_aws: None) -> Any:
    def invoke(*args: str, memory: int = 256) -> Any:
        return cli("--config", pipeline_config("t-books", memory=memory), "--env", "dev", *args)
    return invoke


def function_step(run: Any, memory: int) -> dict[str, Any]:
    result = run("--output", "json", "bootstrap", "--plan", memory=memory)
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)
    changed = [s for s in steps if s["action"] != UNCHANGED]
    assert [s["resource"] for s in changed] in ([], ["lambda-function"]), changed
    return next(s for s in steps if s["resource"] == "lambda-function")


def other_code(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("book_notifier/handler.py", f"def handler(e, c):\n    return {text!r}\n")
    return buf.getvalue()


def served(lam: Any) -> dict[str, Any]:
    got = dict(lam.get_function_configuration(FunctionName=FUNCTION, Qualifier="live"))
    got.pop("ResponseMetadata", None)
    return got


def test_a_failure_inside_the_configuration_step_leaves_a_plan_that_finishes_it(
        run: Any, pipeline_config: Any, aws_clients: Any) -> None:
    from botocore.exceptions import ClientError

    from notifyctl.errors import OperationError

    assert run("bootstrap", "--yes").exit_code == 0
    lam = aws_clients.client("lambda")

    class ThrottledPublish:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            if name == "publish_version":
                def fail(**_: Any) -> None:
                    raise ClientError({"Error": {"Code": "TooManyRequestsException",
                                                 "Message": "Rate exceeded"}},
                                      "PublishVersion")
                return fail
            return getattr(self.real, name)

    class Flaky:
        settings = aws_clients.settings
        account_id, region, partition = aws_clients.account_id, "us-east-1", "aws"

        def client(self, service: str) -> Any:
            real = aws_clients.client(service)
            return ThrottledPublish(real) if service == "lambda" else real

    env, _ = load(pipeline_config("t-books", memory=512), "dev")
    _, plan = bootstrap.plan(aws_clients, env)
    with pytest.raises(OperationError) as failed:
        bootstrap.apply(Flaky(), plan, sleep=lambda _: None)
    assert "lambda.publish_version" in failed.value.message
    # $LATEST has the new configuration; `live` still serves the old one.
    assert lam.get_function_configuration(FunctionName=FUNCTION)["MemorySize"] == 512
    assert served(lam)["MemorySize"] == 256

    _, replan = bootstrap.plan(aws_clients, env)
    assert not replan.up_to_date
    step = replan.step("lambda-function")
    assert step.action == UPDATE
    assert dict(step.changes) == {"MemorySize": (256, 512)}
    bootstrap.apply(aws_clients, replan, sleep=lambda _: None)
    assert served(lam)["MemorySize"] == 512
    assert bootstrap.plan(aws_clients, env)[1].up_to_date


def test_status_reports_a_function_whose_live_version_drifted(
        run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    lam = aws_clients.client("lambda")
    lam.update_function_configuration(FunctionName=FUNCTION, MemorySize=512)
    result = run("--output", "json", "status", memory=512)
    resources = {r["resource"]: r for r in json.loads(result.stdout)["resources"]}
    assert resources["lambda-function"]["state"] == "drifted"
    assert resources["lambda-function"]["changes"] == {
        "MemorySize": {"live": 256, "wanted": 512}}


def test_a_configuration_fix_after_publish_only_publishes_the_code_live_serves(
        run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    lam = aws_clients.client("lambda")
    good = served(lam)["CodeSha256"]
    # `deploy-lambda --publish-only` of another build: $LATEST and version 2 hold
    # it, `live` stays on version 1 (the same holds after deploy + rollback).
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=other_code("broken"))
    lam.publish_version(FunctionName=FUNCTION)

    step = function_step(run, memory=512)
    assert step["action"] == UPDATE
    assert "update_function_code" in [c["method"] for c in step["calls"]]
    assert "code" in step["note"]
    result = run("bootstrap", "--yes", memory=512)
    assert result.exit_code == 0, result.output
    now = served(lam)
    assert now["MemorySize"] == 512
    assert now["CodeSha256"] == good
    assert function_step(run, memory=512)["action"] == UNCHANGED


def test_a_configuration_fix_refuses_when_live_serves_code_this_tree_does_not_build(
        run: Any, aws_clients: Any) -> None:
    assert run("bootstrap", "--yes").exit_code == 0
    lam = aws_clients.client("lambda")
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=other_code("v2"))
    v2 = lam.publish_version(FunctionName=FUNCTION)["Version"]
    lam.update_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=v2)
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=other_code("v3"))
    before = served(lam)

    step = function_step(run, memory=512)
    assert step["action"] == CONFLICT
    assert "deploy-lambda" in step["note"]
    result = run("bootstrap", "--yes", memory=512)
    assert result.exit_code == 1
    assert "lambda-function" in result.stderr
    assert served(lam) == before
