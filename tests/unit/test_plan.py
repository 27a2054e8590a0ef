"""The plan model, executors, waits and confirmation rules, without AWS."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fakes import FakeClock
from rich.console import Console

from notifyctl.cli.plan_view import DisplayExecutor
from notifyctl.errors import OperationError
from notifyctl.infra.bootstrap import ASK, PROCEED, REFUSE, confirmation
from notifyctl.infra.planner import ReadOnly
from notifyctl.plans import waits
from notifyctl.plans.executor import Executor
from notifyctl.plans.model import CODE, ApiCall, Plan, Step, Var
from notifyctl.release.function_release import config_drift, config_update_calls
from notifyctl.release.function_spec import FunctionConfig

pytestmark = pytest.mark.unit

ROLE_ERROR = ClientError({"Error": {"Code": "InvalidParameterValueException",
                                    "Message": "The role defined for the function cannot be "
                                               "assumed by Lambda."}}, "CreateFunction")


class Recorder:
    """A stand-in boto3 client: records calls, answers from a table."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers = answers or {}

    def __getattr__(self, name: str) -> Any:
        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            answer = self.answers.get(name, {})
            if isinstance(answer, list):
                answer = answer.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return call


def test_executor_resolves_earlier_outputs_and_the_package_lazily() -> None:
    lam = Recorder({"publish_version": {"Version": "7"}})
    built: list[int] = []

    def code() -> bytes:
        built.append(1)
        return b"zip"
    plan = Plan((
        Step("create", "lambda-alias", "f:live", calls=(
            ApiCall("lambda", "publish_version", {"FunctionName": "f"}, output="v",
                    output_key="Version"),
            ApiCall("lambda", "create_alias", {"FunctionName": "f", "FunctionVersion": Var("v"),
                                               "Code": {"ZipFile": CODE}}))),
        Step("unchanged", "sns-topic", "t", calls=(ApiCall("sns", "never_called"),)),
    ))
    result = Executor(lambda _: lam, code=code).execute(plan)
    assert lam.calls[1] == ("create_alias", {"FunctionName": "f", "FunctionVersion": "7",
                                             "Code": {"ZipFile": b"zip"}})
    assert built == [1]
    assert [s.resource for s in result.applied] == ["lambda-alias"]
    assert result.outputs == {"v": "7"}


def test_executor_failure_names_the_step_and_the_call() -> None:
    boom = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CreateTopic")
    sns = Recorder({"create_topic": boom})
    plan = Plan((Step("create", "sns-topic", "t", calls=(ApiCall("sns", "create_topic"),)),))
    with pytest.raises(OperationError) as err:
        Executor(lambda _: sns).execute(plan)
    assert err.value.message.startswith("step 1/1 (create sns-topic t) failed at "
                                        "sns.create_topic: ")
    assert "access denied" in err.value.message
    assert "re-run" in (err.value.hint or "")


def test_display_executor_prints_the_same_plan_without_calling_aws() -> None:
    plan = Plan((
        Step("create", "sns-topic", "t", calls=(ApiCall("sns", "create_topic"),)),
        Step("update", "log-group", "/aws/lambda/f", {"retentionInDays": (30, 90)}),
        Step("unchanged", "iam-role", "r"),
        Step("conflict", "sqs-queue", "q", note="exists without notifyctl's tags"),
    ))
    buf = io.StringIO()
    DisplayExecutor(Console(file=buf, width=200), show_calls=True).execute(plan)
    text = buf.getvalue()
    assert "retentionInDays: 30 -> 90" in text
    assert "sns.create_topic" in text
    assert "1 to create, 1 to update, 1 unchanged, 1 conflict(s)" in text
    assert plan.counts() == {"create": 1, "update": 1, "unchanged": 1, "conflict": 1,
                             "adopt": 0}
    assert not plan.up_to_date


def test_plan_description_is_json_safe() -> None:
    import json

    step = Step("create", "lambda-function", "f",
                calls=(ApiCall("lambda", "create_function", {"Code": {"ZipFile": CODE},
                                                             "X": Var("v"), "B": b"12"}),))
    text = json.dumps(Plan((step,)).describe())
    assert "<package" in text and "${v}" in text and "<2 bytes>" in text


@pytest.mark.parametrize("local, yes, interactive, expected", [
    (True, False, False, PROCEED),
    (False, True, False, PROCEED),
    (False, False, True, ASK),
    (False, False, False, REFUSE),
])
def test_confirmation_rules(local: bool, yes: bool, interactive: bool, expected: str) -> None:
    assert confirmation(local=local, yes=yes, interactive=interactive) == expected


def test_create_function_retries_only_while_the_role_is_not_assumable() -> None:
    lam = Recorder({"create_function": [ROLE_ERROR, ROLE_ERROR, {"FunctionName": "f"}]})
    clock = FakeClock(0.0)
    notes: list[str] = []
    out = waits.create_function(lam, {"FunctionName": "f"}, sleep=clock.sleep, clock=clock,
                                notify=notes.append)
    assert out == {"FunctionName": "f"}
    assert clock.sleeps == [1.0, 2.0]
    assert len(notes) == 2


def test_create_function_gives_up_after_the_timeout() -> None:
    lam = Recorder({"create_function": [ROLE_ERROR] * 100})
    clock = FakeClock(0.0)
    with pytest.raises(OperationError, match="cannot assume role"):
        waits.create_function(lam, {"FunctionName": "f", "Role": "arn:r"}, sleep=clock.sleep,
                              clock=clock, timeout=30)
    assert sum(clock.sleeps) <= 30
    assert max(clock.sleeps) == waits.MAX_DELAY_S


def test_create_function_does_not_retry_other_errors() -> None:
    other = ClientError({"Error": {"Code": "InvalidParameterValueException",
                                   "Message": "Unzipped size must be smaller"}}, "CreateFunction")
    lam = Recorder({"create_function": [other]})
    with pytest.raises(ClientError):
        waits.create_function(lam, {}, sleep=FakeClock(0.0).sleep)


def test_wait_function_polls_until_active_and_reports_failure() -> None:
    clock = FakeClock(0.0)
    lam = Recorder({"get_function_configuration": [{"State": "Pending"}, {"State": "Pending"},
                                                   {"State": "Active"}]})
    assert waits.wait_function(lam, "f", sleep=clock.sleep, clock=clock)["State"] == "Active"
    assert clock.sleeps == [0.5, 0.75]  # 0.5 s, then 1.5x longer
    failed = Recorder({"get_function_configuration": {"State": "Failed",
                                                      "StateReason": "bad role"}})
    with pytest.raises(OperationError, match="bad role"):
        waits.wait_function(failed, "f", sleep=clock.sleep, clock=clock)
    updating = Recorder({"get_function_configuration": [
        {"State": "Active", "LastUpdateStatus": "InProgress"},
        {"State": "Active", "LastUpdateStatus": "Successful"}]})
    waits.wait_function(updating, "f", updated=True, sleep=clock.sleep, clock=clock)
    assert len(updating.calls) == 2


def test_wait_function_times_out() -> None:
    clock = FakeClock(0.0)
    lam = Recorder({"get_function_configuration": {"State": "Pending"}})
    with pytest.raises(OperationError, match="still Pending"):
        waits.wait_function(lam, "f", sleep=clock.sleep, clock=clock, timeout=5)


def test_config_update_publishes_the_live_code_and_moves_the_alias() -> None:
    wanted = FunctionConfig("python3.12", "h.handler", 512, 30, {"A": "1"})
    live = {"Runtime": "python3.12", "Handler": "h.handler", "MemorySize": 256, "Timeout": 30,
            "Environment": {"Variables": {"A": "1"}}, "Role": "arn:old"}
    assert config_drift(live, wanted, "arn:new") == {"MemorySize": (256, 512),
                                                     "Role": ("arn:old", "arn:new")}
    calls = config_update_calls("f", wanted, role_arn="arn:new", alias="live",
                                alias_code_sha256="abc=")
    assert [c.method for c in calls] == ["update_function_configuration", "function_updated",
                                         "publish_version", "update_alias"]
    assert calls[0].params["MemorySize"] == 512
    assert "Code" not in calls[0].params and "ZipFile" not in str(calls[0].params)
    assert calls[2].params["CodeSha256"] == "abc="
    assert calls[3].params["FunctionVersion"] == Var(calls[2].output or "")
    no_alias = config_update_calls("f", wanted)
    assert [c.method for c in no_alias] == ["update_function_configuration", "function_updated"]


def test_planner_clients_refuse_writes() -> None:
    ro = ReadOnly(Recorder())
    ro.describe_table(TableName="t")
    ro.get_role(RoleName="r")
    for name in ("create_topic", "delete_table", "put_role_policy", "subscribe", "tag_resource"):
        with pytest.raises(PermissionError):
            getattr(ro, name)
