"""Global options are accepted before or after the command, as the AWS CLI does."""

from __future__ import annotations

import pytest

from notifyctl.cli.main import hoist_global_options


@pytest.mark.parametrize(("argv", "expected"), [
    (["config", "show", "--output", "json"], ["--output", "json", "config", "show"]),
    (["--env", "dev", "status", "-o", "json"], ["--env", "dev", "-o", "json", "status"]),
    (["logs", "--since", "5m", "--region=eu-west-1", "-v"],
     ["--region=eu-west-1", "-v", "logs", "--since", "5m"]),
    (["publish-book", "--email", "a@example.com"], ["publish-book", "--email", "a@example.com"]),
    (["logs", "--", "--output", "json"], ["logs", "--", "--output", "json"]),
    # A dangling value-taking option is left for the parser to report.
    (["status", "--output"], ["status", "--output"]),
])
def test_global_options_move_to_the_front_in_order(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected
