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


@pytest.mark.parametrize(("argv", "expected"), [
    (["logs", "--since", "1h"], "logs"),
    (["--env", "dev", "-o", "json", "-v", "logs"], "logs"),
    (["--region=eu-west-1", "config", "show"], "config"),
    (["--endpoint-url", "logs", "status"], "status"),  # "logs" here is the option's value
    (["--help"], None),
    (["--version", "logs"], None),
    (["-v"], None),
    ([], None),
])
def test_command_word_is_the_first_word_after_the_global_options(
        argv: list[str], expected: str | None) -> None:
    from notifyctl.cli.main import command_word

    assert command_word(argv) == expected


@pytest.mark.parametrize("args", [
    ["logs", "--help"], ["logs", "--bogus"], ["logs", "--since"], ["--output", "yaml", "logs"],
    ["logs", "--interval", "0.1"],
])
def test_a_solo_command_parses_as_in_the_whole_cli(args: list[str]) -> None:
    """`logs` alone on the root (the fast start) has the same help, options and errors."""
    from typer.testing import CliRunner

    from notifyctl.cli.app import app
    from notifyctl.cli.main import app_for

    runner = CliRunner()
    whole = runner.invoke(app, args, prog_name="notifyctl")
    solo = runner.invoke(app_for("logs"), args, prog_name="notifyctl")
    assert (solo.exit_code, solo.output) == (whole.exit_code, whole.output)
    assert solo.output  # each of these prints help or an error
