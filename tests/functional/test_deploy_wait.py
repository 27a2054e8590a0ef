"""The waits and the Lambda update rules of a deploy, with an injected sleep/clock.

moto finishes every update at once; a proxy in front of it reports
LastUpdateStatus=InProgress for a few polls after each update, the way Lambda does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fakes import FakeClock
from release_helpers import change_one_line, seed_function, source_tree

from notifyctl.config.loader import load
from notifyctl.errors import OperationError
from notifyctl.plans.waits import wait_function
from notifyctl.release.deploy import deploy
from notifyctl.release.function_spec import desired_function_config
from notifyctl.release.package import build

pytestmark = pytest.mark.functional
REPO = Path(__file__).resolve().parents[2]


class Statuses:
    """A stand-in client whose get_function_configuration walks a script."""

    def __init__(self, *script: dict[str, str]) -> None:
        self.script = list(script)
        self.calls = 0

    def get_function_configuration(self, FunctionName: str) -> dict[str, str]:  # noqa: N803
        self.calls += 1
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def conflict(op: str, code: str = "ResourceConflictException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "The operation cannot be performed "
                                  "at this time."}}, op)


def test_wait_polls_until_successful_without_real_sleep() -> None:
    clock = FakeClock()
    lam = Statuses({"State": "Active", "LastUpdateStatus": "InProgress"},
                   {"State": "Active", "LastUpdateStatus": "InProgress"},
                   {"State": "Active", "LastUpdateStatus": "Successful"})
    got = wait_function(lam, "fn", updated=True, sleep=clock.sleep, clock=clock)
    assert got["LastUpdateStatus"] == "Successful"
    assert lam.calls == 3 and clock.sleeps == [0.5, 0.75]


def test_wait_waits_while_the_function_is_pending() -> None:
    clock = FakeClock()
    lam = Statuses({"State": "Pending"}, {"State": "Active", "LastUpdateStatus": "Successful"})
    wait_function(lam, "fn", updated=True, sleep=clock.sleep, clock=clock)
    assert lam.calls == 2


def test_a_failed_update_is_an_error_with_the_reason() -> None:
    clock = FakeClock()
    lam = Statuses({"State": "Active", "LastUpdateStatus": "InProgress"},
                   {"State": "Active", "LastUpdateStatus": "Failed",
                    "LastUpdateStatusReason": "Unzipped size must be smaller than 262144000",
                    "LastUpdateStatusReasonCode": "InvalidCodeSize"})
    with pytest.raises(OperationError) as err:
        wait_function(lam, "fn", updated=True, sleep=clock.sleep, clock=clock)
    assert "Unzipped size" in err.value.message and "InvalidCodeSize" in err.value.message
    assert err.value.exit_code == 1 and "not moved" in (err.value.hint or "")


def test_an_earlier_failed_update_does_not_stop_the_first_wait() -> None:
    lam = Statuses({"State": "Active", "LastUpdateStatus": "Failed"})
    got = wait_function(lam, "fn", updated=True, fail_on_failed=False, sleep=lambda s: None)
    assert got["LastUpdateStatus"] == "Failed"


def test_wait_gives_up_after_the_timeout() -> None:
    clock = FakeClock()
    lam = Statuses({"State": "Active", "LastUpdateStatus": "InProgress"})
    with pytest.raises(OperationError, match="did not finish within 10 s"):
        wait_function(lam, "fn", updated=True, sleep=clock.sleep, clock=clock, timeout=10)
    assert sum(clock.sleeps) == pytest.approx(10)


class SlowLambda:
    """moto's Lambda, but each update stays InProgress for two polls, and a
    second update (or a publish) while one is in progress is refused the way
    Lambda refuses it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pending = 0
        self.log: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _guarded(self, name: str, **kwargs: Any) -> Any:
        self.log.append(name)
        if self.pending:
            raise conflict(name)
        got = getattr(self.inner, name)(**kwargs)
        if name != "publish_version":
            self.pending = 2
        return got

    def update_function_code(self, **kwargs: Any) -> Any:
        return self._guarded("update_function_code", **kwargs)

    def update_function_configuration(self, **kwargs: Any) -> Any:
        return self._guarded("update_function_configuration", **kwargs)

    def publish_version(self, **kwargs: Any) -> Any:
        return self._guarded("publish_version", **kwargs)

    def get_function_configuration(self, **kwargs: Any) -> Any:
        got = dict(self.inner.get_function_configuration(**kwargs))
        if "Qualifier" not in kwargs:
            self.log.append("poll")
            if self.pending:
                self.pending -= 1
                got["LastUpdateStatus"] = "InProgress"
        return got


@pytest.fixture
def setup(aws_clients: Any, tmp_path: Path) -> tuple[Any, Any, Path]:
    env = load(str(REPO / "config" / "notifyctl.yaml"), "dev")[0]
    src = source_tree(tmp_path)
    seed_function(aws_clients.client("lambda"), aws_clients.client("iam"), env.function_name,
                  env.alias_name, build(src), desired_function_config(env), owner=env)
    return env, SlowLambda(aws_clients.client("lambda")), src


def test_code_and_config_updates_each_wait_before_the_next_call(setup: Any) -> None:
    env, lam, src = setup
    change_one_line(src, "slow")
    clock = FakeClock()
    wanted = desired_function_config(env)
    wanted = type(wanted)(**{**wanted.__dict__, "memory_mb": 2048})
    result = deploy(lam, env.function_name, "live", build(src), wanted, sleep=clock.sleep,
                    clock=clock)
    assert result.version == "2" and result.changes == ("code", "MemorySize")
    # update, then polls until Successful, then the next update, polls, publish.
    assert lam.log == ["poll", "update_function_code", "poll", "poll", "poll",
                     "update_function_configuration", "poll", "poll", "poll",
                     "publish_version"]
    assert len(clock.sleeps) == 4


def test_a_conflicting_update_is_an_operation_error(setup: Any) -> None:
    env, lam, src = setup
    change_one_line(src, "busy")
    lam.pending = 10_000  # someone else's update never finishes in time
    clock = FakeClock()
    with pytest.raises(OperationError, match="did not finish"):
        deploy(lam, env.function_name, "live", build(src), desired_function_config(env),
               sleep=clock.sleep, clock=clock)
    assert lam.inner.get_alias(FunctionName=env.function_name,
                               Name="live")["FunctionVersion"] == "1"


def test_a_resource_conflict_names_the_cause(setup: Any) -> None:
    env, lam, src = setup
    change_one_line(src, "conflict")

    def refuse(**kwargs: Any) -> Any:
        raise conflict("UpdateFunctionCode")

    lam.update_function_code = refuse
    with pytest.raises(OperationError) as err:
        deploy(lam, env.function_name, "live", build(src), desired_function_config(env),
               sleep=lambda s: None)
    assert "in progress" in (err.value.hint or "")


def test_a_precondition_failure_on_publish_publishes_nothing(setup: Any) -> None:
    env, lam, src = setup
    change_one_line(src, "race")

    def refuse(**kwargs: Any) -> Any:
        raise conflict("PublishVersion", "PreconditionFailedException")

    lam.publish_version = refuse
    with pytest.raises(OperationError, match="changed while deploying"):
        deploy(lam, env.function_name, "live", build(src), desired_function_config(env),
               sleep=lambda s: None)
    assert lam.inner.get_alias(FunctionName=env.function_name,
                               Name="live")["FunctionVersion"] == "1"


def test_wait_timeout_bounds_each_wait_and_names_its_flag(setup: Any) -> None:
    env, lam, src = setup
    change_one_line(src, "stuck")
    guarded = lam._guarded

    def never_finishes(name: str, **kwargs: Any) -> Any:
        got = guarded(name, **kwargs)
        lam.pending = 10_000
        return got

    lam._guarded = never_finishes
    clock = FakeClock()
    with pytest.raises(OperationError, match="did not finish within 5 s") as raised:
        deploy(lam, env.function_name, "live", build(src), desired_function_config(env),
               sleep=clock.sleep, clock=clock, wait_timeout=5)
    assert "--wait-timeout" in (raised.value.hint or "")
    assert sum(clock.sleeps) == pytest.approx(5)
    assert "publish_version" not in lam.log
