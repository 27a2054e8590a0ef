"""Issue 14: what a newcomer sees: `logs -f` says it is following, every command's
help has an example."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main

from notifyctl.cli.app import app
from notifyctl.cli.output import Output

pytestmark = pytest.mark.functional

BASE = ("--env", "dev", "--region", "us-east-1")


def test_logs_follow_with_no_events_says_it_is_following(cli: Any, moto_aws: None,
                                                         repo_config: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from notifyctl.logs import follow

    boto3.client("logs", region_name="us-east-1").create_log_group(
        logGroupName="/aws/lambda/books-dev-notifier")
    monkeypatch.setattr(Output, "interactive", property(lambda self: True))

    def poll_once_then_ctrl_c(self: Any, max_polls: int | None = None) -> Any:
        yield from ()
        raise KeyboardInterrupt

    monkeypatch.setattr(follow.Follower, "run", poll_once_then_ctrl_c)
    result = cli(*BASE, "logs", "--follow")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert ("following /aws/lambda/books-dev-notifier (events since 1m); new events appear "
            "as they arrive, Ctrl-C to stop") in " ".join(result.stderr.split())


def test_logs_follow_piped_prints_no_notice(cli: Any, moto_aws: None, repo_config: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.logs import follow

    def ctrl_c(self: Any, max_polls: int | None = None) -> Any:
        yield from ()
        raise KeyboardInterrupt

    monkeypatch.setattr(follow.Follower, "run", ctrl_c)
    result = cli(*BASE, "logs", "--follow")
    assert "following" not in result.stderr


def _leaf_commands() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(cmd: Any, prefix: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*prefix, name])
        elif prefix:
            paths.append(prefix)

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _leaf_commands(), ids=lambda p: " ".join(p))
def test_every_command_help_has_an_example(cli: Any, path: list[str]) -> None:
    text = cli(*path, "--help").stdout
    assert "Example" in text, f"`{' '.join(path)} --help` has no example"
    example_lines = [line.strip() for line in text.split("Example", 1)[1].splitlines()
                     if line.strip().startswith("notifyctl ")]
    assert any(line.split()[1:1 + len(path)] == path or " ".join(path) in line
               for line in example_lines), text


def test_at_80_columns_plan_shows_what_changes_and_status_whole_states(
        cli: Any, moto_aws: None, pipeline_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    small, big = pipeline_config("t-books"), pipeline_config("t-books", memory=512)
    assert cli("--config", small, "--env", "dev", "bootstrap", "--yes").exit_code == 0
    plan = cli("--config", big, "--env", "dev", "bootstrap", "--plan").stdout
    assert max(len(line) for line in plan.splitlines()) <= 80
    assert "MemorySize: 256 -> 512" in plan
    status = cli("--config", big, "--env", "dev", "status").stdout
    table = status.split("function versions")[0].splitlines()[2:]  # the resource table
    assert max(len(line) for line in table) <= 80
    states = [line.split()[0] for line in table if line[:1].isalpha()]
    assert states and set(states) <= {"present", "drifted", "missing", "not-ours"}, states
    assert "drifted" in states


@pytest.mark.parametrize("command", ["teardown", "bootstrap"])
def test_answering_no_says_nothing_changed_and_exits_1(
        cli: Any, moto_aws: None, pipeline_config: Any, monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    from notifyctl.cli import bootstrap_cmd

    config = pipeline_config("t-books")
    if command == "teardown":
        assert cli("--config", config, "--env", "dev", "bootstrap", "--yes").exit_code == 0
    monkeypatch.setattr(bootstrap_cmd, "_stdin_interactive", lambda: True)
    monkeypatch.setattr("typer.confirm", lambda *a, **k: False)
    result = cli("--config", config, "--env", "dev", command)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1] == "aborted, nothing changed"
