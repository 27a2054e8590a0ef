"""Lambda function states (emulator/function_states.py) on an injected clock."""

from __future__ import annotations

import pytest

from notifyctl.emulator.function_states import FunctionBusy, FunctionStates

pytestmark = pytest.mark.unit

KEY = ("123456789012", "us-east-1", "fn")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def states(clock: Clock) -> FunctionStates:
    return FunctionStates(delay_s=2.0, clock=clock)


def test_a_created_function_is_pending_then_active(states: FunctionStates, clock: Clock) -> None:
    states.created(KEY)

    assert states.view(KEY).fields() == {"State": "Pending",
                                         "StateReason": "The function is being created.",
                                         "StateReasonCode": "Creating"}
    with pytest.raises(FunctionBusy, match="state: Pending"):
        states.check_invokable(KEY)
    with pytest.raises(FunctionBusy, match="state: Pending"):
        states.check_idle(KEY, ARN)
    clock.now += 2.0
    assert states.view(KEY).fields() == {"State": "Active", "LastUpdateStatus": "Successful"}
    states.check_invokable(KEY)


def test_an_update_serves_the_previous_snapshot_until_it_completes(
        states: FunctionStates, clock: Clock) -> None:
    states.created(KEY)
    clock.now += 2.0

    states.begin_update(KEY, ARN, previous="old code")

    assert states.view(KEY).last_update_status == "InProgress"
    assert states.view(KEY).state == "Active"
    assert states.serving(KEY) == "old code"
    with pytest.raises(FunctionBusy, match=f"update is in progress for resource: {ARN}"):
        states.begin_update(KEY, ARN, previous="newer")
    with pytest.raises(FunctionBusy):
        states.check_idle(KEY, ARN)
    states.check_invokable(KEY)  # invocations continue on the previous code
    clock.now += 1.999
    assert states.serving(KEY) == "old code"
    clock.now += 0.001
    assert states.serving(KEY) is None
    assert states.view(KEY).last_update_status == "Successful"
    states.begin_update(KEY, ARN, previous="again")


def test_an_unknown_function_is_active_and_forget_clears_a_record(
        states: FunctionStates) -> None:
    assert states.view(("1", "r", "other")).state == "Active"
    states.created(KEY)
    states.forget(KEY)
    assert states.view(KEY).state == "Active"
