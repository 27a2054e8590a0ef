"""`notifyctl rollback`: live goes back using what AWS itself records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from release_helpers import deploy_series

from notifyctl.config.loader import load

pytestmark = pytest.mark.functional
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_versions(aws_clients: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Version 1 from the fixture, version 2 deployed: live -> 2."""
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(REPO / "config" / "notifyctl.yaml"))
    monkeypatch.setenv("NOTIFYCTL_ENV", "dev")
    env = load(None, "dev")[0]
    lam, src = deploy_series(aws_clients, env, tmp_path, ("v2",))
    return env, lam, src


def live(lam: Any, env: Any) -> str:
    return lam.get_alias(FunctionName=env.function_name, Name="live")["FunctionVersion"]


def rollback_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("--output", "json", "rollback", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rollback_moves_live_back_to_the_previous_version(cli: Any, two_versions: Any) -> None:
    env, lam, _ = two_versions
    out = rollback_json(cli)
    assert out == {"function": env.function_name, "alias": "live", "from_version": "2",
                   "to_version": "1", "changed": True}
    assert live(lam, env) == "1"


def test_a_second_rollback_goes_further_back_never_forward(cli: Any, aws_clients: Any,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(REPO / "config" / "notifyctl.yaml"))
    monkeypatch.setenv("NOTIFYCTL_ENV", "dev")
    env = load(None, "dev")[0]
    lam, _ = deploy_series(aws_clients, env, tmp_path, ("v2", "v3"))
    assert (rollback_json(cli)["from_version"], live(lam, env)) == ("3", "2")
    assert (rollback_json(cli)["from_version"], live(lam, env)) == ("2", "1")


def test_a_rollback_at_the_oldest_release_is_refused_with_the_undo_command(
        cli: Any, two_versions: Any) -> None:
    env, lam, _ = two_versions
    first = cli("rollback")
    assert "undo: notifyctl rollback --to-version 2" in first.stdout
    again = cli("rollback")
    assert again.exit_code == 1
    assert "No version before 1 is recorded" in again.stderr
    assert "notifyctl rollback --to-version 2" in again.stderr
    assert live(lam, env) == "1"


def test_rollback_to_a_missing_version_is_refused(cli: Any, two_versions: Any) -> None:
    env, lam, _ = two_versions
    result = cli("rollback", "--to-version", "7")
    assert result.exit_code == 1
    assert "Version 7" in result.stderr and "does not exist" in result.stderr
    assert "live stays at version 2" in result.stderr
    assert live(lam, env) == "2"


def test_rollback_to_a_chosen_version(cli: Any, two_versions: Any) -> None:
    env, lam, _ = two_versions
    assert rollback_json(cli, "--to-version", "1")["to_version"] == "1"
    assert rollback_json(cli, "--to-version", "1")["changed"] is False
    assert live(lam, env) == "1"


def test_rollback_falls_back_to_the_live_versions_own_record(cli: Any,
                                                             two_versions: Any) -> None:
    env, lam, _ = two_versions
    # Someone moved the alias by hand and wiped its description.
    lam.update_alias(FunctionName=env.function_name, Name="live", FunctionVersion="2",
                     Description="")
    assert rollback_json(cli)["to_version"] == "1"  # version 2 says previous=1


def test_rollback_without_any_record_asks_for_a_version(cli: Any, two_versions: Any) -> None:
    env, lam, _ = two_versions
    lam.update_alias(FunctionName=env.function_name, Name="live", FunctionVersion="1",
                     Description="")
    result = cli("rollback")
    assert result.exit_code == 1 and "--to-version" in result.stderr


def test_redeploy_after_rollback_reuses_the_published_version(cli: Any,
                                                              two_versions: Any) -> None:
    env, lam, src = two_versions
    rollback_json(cli)
    result = cli("--output", "json", "deploy-lambda", "--source", str(src),
                 "--strategy", "all-at-once")
    out = json.loads(result.stdout)
    # $LATEST already holds version 2's code: Lambda hands back version 2.
    assert (out["version"], out["previous_version"]) == ("2", "1")
    assert live(lam, env) == "2"
