"""Issue 14: every wait has a timeout flag, validated like any other option."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl.cli.options import WAIT_TIMEOUT
from notifyctl.plans.waits import FUNCTION_STATE_TIMEOUT_S

pytestmark = pytest.mark.functional


@pytest.mark.parametrize(("command", "flag"), [(["bootstrap"], "--wait-timeout"),
                                               (["deploy-lambda"], "--wait-timeout"),
                                               (["demo"], "--timeout")])
def test_each_waiting_command_has_a_timeout_flag(cli: Any, command: list[str], flag: str) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert flag in result.output


@pytest.mark.parametrize("command", [["bootstrap", "--plan"], ["deploy-lambda", "--plan"]])
def test_a_wait_timeout_below_one_second_is_exit_2_naming_it(cli: Any, command: list[str]) -> None:
    result = cli(*command, "--wait-timeout", "0")
    assert result.exit_code == 2
    assert "--wait-timeout" in result.output
    assert "bug" not in result.output


def test_the_flag_defaults_to_the_waiters_own_bound() -> None:
    assert WAIT_TIMEOUT.default == FUNCTION_STATE_TIMEOUT_S
