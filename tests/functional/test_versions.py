"""`notifyctl versions`: newest first, with alias pointers; pruning never touches aliased ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from release_helpers import deploy_series

from notifyctl.config.loader import load
from notifyctl.release import versions as lib

pytestmark = pytest.mark.functional
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def four_versions(aws_clients: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Versions 1..4 deployed in turn; live -> 4 (previous 3)."""
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(REPO / "config" / "notifyctl.yaml"))
    monkeypatch.setenv("NOTIFYCTL_ENV", "dev")
    env = load(None, "dev")[0]
    lam, _ = deploy_series(aws_clients, env, tmp_path, ("2", "3", "4"))
    return env, lam


def test_versions_lists_newest_first_with_aliases(cli: Any, four_versions: Any) -> None:
    env, lam = four_versions
    lam.create_alias(FunctionName=env.function_name, Name="canary", FunctionVersion="2",
                     RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    result = cli("--output", "json", "versions")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = data["versions"]
    assert [r["version"] for r in rows] == ["4", "3", "2", "1"]
    assert rows[0]["aliases"] == ["live"]
    assert rows[2]["aliases"] == ["canary"] and rows[3]["aliases"] == ["canary (10%)"]
    assert "previous=3" in rows[0]["description"]
    assert all(r["code_sha256"] and r["code_size"] > 0 and r["last_modified"] for r in rows)
    assert len({r["code_sha256"] for r in rows}) == 4


def test_versions_text_is_a_table(cli: Any, four_versions: Any) -> None:
    result = cli("versions")
    assert result.exit_code == 0, result.output
    assert "live" in result.stdout and "CodeSha256" in result.stdout


def test_prune_never_deletes_a_version_an_alias_points_at(cli: Any, four_versions: Any) -> None:
    env, lam = four_versions
    # 1 is only reachable through a weighted alias's extra version; 2 is canary's main one.
    lam.create_alias(FunctionName=env.function_name, Name="canary", FunctionVersion="2",
                     RoutingConfig={"AdditionalVersionWeights": {"1": 0.05}})
    result = cli("--output", "json", "versions", "--prune", "1")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pruned"]["deleted"] == []
    assert sorted(data["pruned"]["protected"]) == ["1", "2", "3"]
    assert [r["version"] for r in data["versions"]] == ["4", "3", "2", "1"]


def test_prune_deletes_unaliased_old_versions(four_versions: Any) -> None:
    env, lam = four_versions
    got = lib.prune(lam, env.function_name, keep=1)
    # 4 is live, 3 is live's recorded previous (the rollback target).
    assert got.deleted == ("2", "1") and got.protected == ("3",)
    assert [v.version for v in lib.list_versions(lam, env.function_name)] == ["4", "3"]


def test_prune_keep_must_be_positive(cli: Any, four_versions: Any) -> None:
    result = cli("versions", "--prune", "0")
    assert result.exit_code == 2


def test_versions_of_a_missing_function_says_run_bootstrap(cli: Any, moto_aws: None,
                                                          repo_config: Path) -> None:
    result = cli("--env", "dev", "versions")
    assert result.exit_code == 1 and "notifyctl bootstrap" in result.stderr
