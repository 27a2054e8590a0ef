"""The CLI's contract: every command documented, errors mapped to exit codes, JSON valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from notifyctl.cli.app import app

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]


def _all_commands() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(cmd: Any, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", [p for p in _all_commands() if p],
                         ids=lambda p: " ".join(p))
def test_every_command_is_in_the_readme(path: list[str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`{' '.join(path)}" in readme, f"README does not mention `{' '.join(path)}`"


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help_with_a_description(cli, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    if path:
        cmd: Any = typer.main.get_command(app)
        for name in path:
            cmd = cmd.commands[name]
        assert (cmd.help or "").strip(), f"`{' '.join(path)}` has no help text"


def test_version(cli) -> None:
    from notifyctl import __version__

    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_config_show_json_is_valid_and_complete(cli, repo_config) -> None:
    result = cli("--env", "dev", "--output", "json", "config", "show")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["environment"] == "dev"
    assert data["resources"]["function"] == "books-dev-notifier"
    assert data["function"]["memory_mb"] == 256


def test_global_options_work_after_the_command_too(cli, repo_config) -> None:
    result = cli("config", "show", "--env", "prod", "--output=json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["environment"] == "prod"


def test_no_command_reuses_a_global_option_name() -> None:
    from notifyctl.cli.main import GLOBAL_FLAGS, GLOBAL_WITH_VALUE

    globals_ = GLOBAL_FLAGS | GLOBAL_WITH_VALUE
    for path in _all_commands():
        if not path:
            continue
        cmd: Any = typer.main.get_command(app)
        for name in path:
            cmd = cmd.commands[name]
        for param in cmd.params:
            clash = set(param.opts) & globals_
            assert not clash, f"`{' '.join(path)}` reuses the global option {clash}"


def test_unknown_environment_is_exit_2_without_traceback(cli, repo_config) -> None:
    result = cli("--env", "staging", "config", "show")
    assert result.exit_code == 2
    assert "known environments: dev, local, prod" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("  sender: notifications@example.com", "  sender: nobody", "defaults.sender"),
        ("project: books", "project: books\n  bad: [", "invalid YAML"),
    ],
)
def test_broken_config_is_exit_2_naming_the_problem(cli, tmp_path: Path, old: str, new: str,
                                                    needle: str) -> None:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text((REPO / "config" / "notifyctl.yaml").read_text().replace(old, new, 1))
    result = cli("--config", str(cfg), "config", "show")
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_unknown_option_is_a_usage_error(cli) -> None:
    result = cli("config", "show", "--no-such-flag")
    assert result.exit_code == 2


def test_help_and_config_show_do_not_import_aws_sdks(tmp_path: Path) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from notifyctl.cli.main import run\n"
        "for argv in (['--help'], ['config', 'show'], ['-o', 'json', 'config', 'show']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert run(argv) == 0, argv\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'moto', 's3transfer', 'pydantic'))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "", f"imported at startup: {out.stdout.strip()}"


def test_clients_use_the_named_profile_and_region(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.aws.session import AwsClients, resolve_settings

    credentials = tmp_path / "credentials"
    credentials.write_text("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n",
                           encoding="utf-8")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    settings = resolve_settings(config_profile="dev", config_region="eu-west-1",
                                config_endpoint=None)
    client = AwsClients(settings).client("sns")

    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key == "AKIDDEV"
    assert "notifyctl/" in client.meta.config.user_agent_extra


def test_an_unknown_profile_is_one_actionable_line(cli, repo_config,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    result = cli("--profile", "nope", "status")
    assert result.exit_code == 1
    assert "nope" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2


def test_the_emulator_gets_dummy_credentials_not_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.aws.session import AwsClients, resolve_settings

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    settings = resolve_settings(config_profile="prod", config_region="us-east-1",
                                config_endpoint="http://127.0.0.1:4566")
    client = AwsClients(settings).client("sns")
    assert client._request_signer._credentials.access_key == "test"
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"


def test_emulator_clients_ignore_a_profile_in_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo builds its clients for its private emulator whatever $AWS_PROFILE says."""
    from notifyctl.aws.session import AwsClients, AwsSettings

    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    clients = AwsClients(AwsSettings(None, "us-east-1", "http://127.0.0.1:4566", True, True))
    client = clients.client("sns")
    assert client._request_signer._credentials.access_key == "test"

