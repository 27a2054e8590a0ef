"""deploy-lambda against moto in-process: compare with live, publish, move the alias."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from release_helpers import change_one_line, seed_function, source_tree

from notifyctl.config.loader import load
from notifyctl.release.function_spec import desired_function_config
from notifyctl.release.package import build

pytestmark = pytest.mark.functional
REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, memory_mb: int = 256) -> Path:
    data = yaml.safe_load((REPO / "config" / "notifyctl.yaml").read_text())
    # all-at-once: these tests deploy a bare function (no CodeDeploy application);
    # the canary path is tests/functional/test_release.py's and the emulator's.
    data["environments"] = {"test": {"prefix": "books-test", "endpoint_url": None,
                                     "function": {"memory_mb": memory_mb},
                                     "release": {"strategy": "all-at-once"}}}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_config(tmp_path / "notifyctl.yaml")
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(path))
    monkeypatch.setenv("NOTIFYCTL_ENV", "test")
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return source_tree(tmp_path / "checkout")


@pytest.fixture
def env(config_file: Path) -> Any:
    return load(str(config_file), "test")[0]


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients.client("lambda")


@pytest.fixture
def deployed(aws_clients: Any, env: Any, src: Path) -> Any:
    """The function as bootstrap leaves it: version 1, live -> 1."""
    seed_function(aws_clients.client("lambda"), aws_clients.client("iam"), env.function_name,
                  env.alias_name, build(src), desired_function_config(env), owner=env)
    return env


def deploy_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("--output", "json", "deploy-lambda", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def live_version(lam: Any, env: Any) -> str:
    return lam.get_alias(FunctionName=env.function_name, Name="live")["FunctionVersion"]


def published(lam: Any, env: Any) -> list[str]:
    versions = lam.list_versions_by_function(FunctionName=env.function_name)["Versions"]
    return [v["Version"] for v in versions if v["Version"] != "$LATEST"]


def test_first_deploy_publishes_version_1_and_creates_live(
        cli: Any, aws_clients: Any, env: Any, src: Path, lam: Any) -> None:
    seed_function(lam, aws_clients.client("iam"), env.function_name, "live", build(src),
                  desired_function_config(env), publish=False, owner=env)
    out = deploy_json(cli, "--source", str(src))
    assert out["version"] == "1" and out["previous_version"] is None
    assert out["unchanged"] is False
    assert live_version(lam, env) == "1"


def test_redeploy_unchanged_publishes_nothing(cli: Any, deployed: Any, src: Path,
                                              lam: Any) -> None:
    out = deploy_json(cli, "--source", str(src))
    package = build(src)
    assert out == {"function": deployed.function_name, "version": "1",
                   "previous_version": None, "code_sha256": package.sha256_b64,
                   "package_bytes": package.size, "alias": "live", "unchanged": True,
                   "changes": [], "published": False}
    assert published(lam, deployed) == ["1"]
    text = cli("deploy-lambda", "--source", str(src))
    assert "unchanged, version 1 is live" in text.stdout


def test_one_changed_line_publishes_version_2_and_moves_live(cli: Any, deployed: Any,
                                                             src: Path, lam: Any) -> None:
    change_one_line(src, "v2")
    out = deploy_json(cli, "--source", str(src))
    assert (out["version"], out["previous_version"], out["unchanged"]) == ("2", "1", False)
    assert out["changes"] == ["code"]
    assert out["code_sha256"] == build(src).sha256_b64
    assert live_version(lam, deployed) == "2"
    v2 = lam.get_function_configuration(FunctionName=deployed.function_name, Qualifier="2")
    assert v2["CodeSha256"] == out["code_sha256"]
    assert "previous=1" in v2["Description"] and out["code_sha256"] in v2["Description"]
    alias = lam.get_alias(FunctionName=deployed.function_name, Name="live")
    assert "previous=1" in alias["Description"]
    # and the version that was live is kept for rollback
    assert published(lam, deployed) == ["1", "2"]


def test_changing_only_memory_publishes_a_new_version(cli: Any, deployed: Any, src: Path,
                                                      lam: Any, config_file: Path) -> None:
    write_config(config_file, memory_mb=1024)
    out = deploy_json(cli, "--source", str(src))
    assert out["version"] == "2" and out["changes"] == ["MemorySize"]
    v2 = lam.get_function_configuration(FunctionName=deployed.function_name, Qualifier="2")
    assert v2["MemorySize"] == 1024
    assert live_version(lam, deployed) == "2"


def test_force_publishes_a_new_version_of_unchanged_code(cli: Any, deployed: Any, src: Path,
                                                         lam: Any) -> None:
    out = deploy_json(cli, "--source", str(src), "--force")
    assert out["version"] == "2" and out["unchanged"] is False
    assert live_version(lam, deployed) == "2"
    latest = lam.get_function_configuration(FunctionName=deployed.function_name)
    assert latest["Description"].startswith("notifyctl deploy --force")


def test_deploy_compares_with_live_not_with_latest(cli: Any, deployed: Any, src: Path,
                                                   lam: Any) -> None:
    # An earlier deploy uploaded the code, then died before publishing: $LATEST
    # holds the new code but live still serves version 1. That is not "deployed".
    change_one_line(src, "half-done")
    lam.update_function_code(FunctionName=deployed.function_name, ZipFile=build(src).data)
    out = deploy_json(cli, "--source", str(src), "--plan")
    assert not any(step.startswith("upload") for step in out["plan"])  # already there
    out = deploy_json(cli, "--source", str(src))
    assert out["version"] == "2" and live_version(lam, deployed) == "2"


def test_plan_shows_steps_and_changes_nothing(cli: Any, deployed: Any, src: Path,
                                              lam: Any) -> None:
    change_one_line(src, "planned")
    result = cli("deploy-lambda", "--source", str(src), "--plan")
    assert result.exit_code == 0, result.output
    assert "upload code" in result.stdout and "publish a version" in result.stdout
    assert "move alias live" in result.stdout
    assert published(lam, deployed) == ["1"] and live_version(lam, deployed) == "1"


def test_missing_function_says_run_bootstrap(cli: Any, config_file: Path, src: Path,
                                             moto_aws: None) -> None:
    result = cli("deploy-lambda", "--source", str(src))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "notifyctl bootstrap" in result.stderr


def test_appspec_names_function_alias_and_versions(cli: Any, deployed: Any, src: Path,
                                                   tmp_path: Path) -> None:
    change_one_line(src, "appspec")
    path = tmp_path / "out" / "appspec.yaml"
    path.parent.mkdir()  # never created on the user's behalf (issue 14)
    out = deploy_json(cli, "--source", str(src), "--appspec", str(path))
    assert out["appspec"] == str(path)
    text = path.read_text()
    assert text.startswith("version: 0.0\n")
    spec = yaml.safe_load(text)
    [resource] = spec["Resources"]
    [(_, body)] = resource.items()
    assert body["Type"] == "AWS::Lambda::Function"
    assert body["Properties"] == {"Name": deployed.function_name, "Alias": "live",
                                  "CurrentVersion": "1", "TargetVersion": "2"}


def test_publish_only_leaves_live_for_codedeploy(cli: Any, deployed: Any, src: Path,
                                                 lam: Any, tmp_path: Path) -> None:
    change_one_line(src, "codedeploy")
    out = deploy_json(cli, "--source", str(src), "--publish-only",
                      "--appspec", str(tmp_path / "a.yaml"))
    assert out["version"] == "2" and live_version(lam, deployed) == "1"
    assert 'CurrentVersion: "1"' in (tmp_path / "a.yaml").read_text()


def test_deploy_with_prune_keeps_the_aliased_versions(cli: Any, deployed: Any, src: Path,
                                                      lam: Any) -> None:
    for marker in ("a", "b", "c"):
        change_one_line(src, marker)
        deploy_json(cli, "--source", str(src))
    assert published(lam, deployed) == ["1", "2", "3", "4"]
    change_one_line(src, "d")
    out = deploy_json(cli, "--source", str(src), "--prune", "1")
    # 5 is live, 4 is live's recorded previous (rollback target): both stay.
    assert out["version"] == "5"
    assert out["pruned"]["deleted"] == ["3", "2", "1"]
    assert out["pruned"]["protected"] == ["4"]
    assert published(lam, deployed) == ["4", "5"]


def test_package_only_writes_the_zip_and_prints_its_hash(cli: Any, config_file: Path,
                                                         src: Path, tmp_path: Path) -> None:
    target = tmp_path / "pkg.zip"
    out = deploy_json(cli, "--source", str(src), "--package-only", "--out", str(target))
    package = build(src)
    assert target.read_bytes() == package.data
    assert out["code_sha256"] == package.sha256_b64 and out["package_bytes"] == package.size
    assert "book_notifier/handler.py" in out["files"]


def test_source_without_handler_is_a_usage_error(cli: Any, config_file: Path,
                                                 tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("deploy-lambda", "--package-only", "--source", str(tmp_path / "empty"))
    assert result.exit_code == 2 and "--source" in result.stderr


def test_progress_shows_on_a_terminal_and_verbose_lists_the_steps(
        cli: Any, deployed: Any, src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from notifyctl.cli.output import Output

    monkeypatch.setattr(Output, "interactive", property(lambda self: True))
    change_one_line(src, "terminal")
    result = cli("-v", "deploy-lambda", "--source", str(src))
    assert result.exit_code == 0, result.output
    assert "published version 2" in result.stdout
    for step in ("upload code", "wait for the code update", "publish a version",
                 "move alias live"):
        assert f"done: {step}" in result.stderr
