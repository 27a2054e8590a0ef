"""Issue 14: deploy-lambda refuses what would break or mislead: a package that does
not import, output paths in missing directories; it says when nothing new was
published and why a pruned-around version was kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from release_helpers import change_one_line, seed_function, source_tree
from test_deploy import deploy_json, live_version, write_config

from notifyctl.config.loader import load
from notifyctl.release.function_spec import desired_function_config
from notifyctl.release.package import PACKAGE_NAME, build

pytestmark = pytest.mark.functional


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return source_tree(tmp_path / "checkout")


@pytest.fixture
def lam(aws_clients: Any) -> Any:
    return aws_clients.client("lambda")


@pytest.fixture
def deployed(aws_clients: Any, src: Path, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Any:
    """The function as bootstrap leaves it: version 1, live -> 1 (environment `test`)."""
    path = write_config(tmp_path / "notifyctl.yaml")
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(path))
    monkeypatch.setenv("NOTIFYCTL_ENV", "test")
    env = load(str(path), "test")[0]
    seed_function(aws_clients.client("lambda"), aws_clients.client("iam"), env.function_name,
                  env.alias_name, build(src), desired_function_config(env), owner=env)
    return env


def test_a_package_with_a_syntax_error_is_refused_before_upload(cli: Any, deployed: Any,
                                                                src: Path, lam: Any) -> None:
    handler = src / PACKAGE_NAME / "handler.py"
    handler.write_text(handler.read_text() + "\ndef broken(:\n")
    before = lam.get_function_configuration(FunctionName=deployed.function_name)["CodeSha256"]
    result = cli("deploy-lambda", "--source", str(src))
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: the package is broken, nothing was uploaded: cannot import "
                            "book_notifier.handler: SyntaxError")
    assert "book_notifier/handler.py:" in first
    assert lam.get_function_configuration(
        FunctionName=deployed.function_name)["CodeSha256"] == before
    assert live_version(lam, deployed) == "1"


def test_a_handler_that_does_not_resolve_is_refused(cli: Any, deployed: Any, src: Path) -> None:
    handler = src / PACKAGE_NAME / "handler.py"
    handler.write_text(handler.read_text().replace("def handler(", "def handle_it("))
    result = cli("deploy-lambda", "--source", str(src))
    assert result.exit_code == 2
    assert "has no function 'handler'" in result.stderr


def test_no_verify_skips_the_check(cli: Any, deployed: Any, src: Path, lam: Any) -> None:
    handler = src / PACKAGE_NAME / "handler.py"
    handler.write_text(handler.read_text() + "\nraise RuntimeError('at import')\n")
    out = deploy_json(cli, "--source", str(src), "--no-verify")
    assert out["published"] is True and live_version(lam, deployed) == "2"


@pytest.mark.parametrize("option", ["--out", "--appspec"])
def test_an_output_file_in_a_missing_directory_is_refused(cli: Any, deployed: Any, src: Path,
                                                          tmp_path: Path, option: str) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.zip"
    args = ["--package-only"] if option == "--out" else []
    result = cli("deploy-lambda", "--source", str(src), *args, option, str(target))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == (
        f"error: {option}: the directory {target.parent} does not exist; expected a file in "
        "an existing directory")
    assert not (tmp_path / "nonexistent").exists()  # nothing created on our behalf


def test_deploy_after_publish_only_does_not_claim_a_new_version(cli: Any, deployed: Any,
                                                                src: Path, lam: Any) -> None:
    change_one_line(src, "canary")
    assert deploy_json(cli, "--source", str(src), "--publish-only")["version"] == "2"
    result = cli("deploy-lambda", "--source", str(src))
    assert result.exit_code == 0, result.output
    assert "published version" not in result.stdout
    assert "nothing new to publish: version 2 already has this code" in result.stdout
    assert live_version(lam, deployed) == "2"
    again = cli("-o", "json", "deploy-lambda", "--source", str(src), "--force")
    assert json.loads(again.stdout)["published"] is True


def test_prune_says_why_each_kept_version_was_kept(cli: Any, deployed: Any, src: Path) -> None:
    for marker in ("a", "b"):
        change_one_line(src, marker)
        deploy_json(cli, "--source", str(src))
    result = cli("versions", "--prune", "1")
    assert result.exit_code == 0, result.output
    assert "kept version 2: live's previous version, kept for rollback" in result.stdout
    assert "an alias points at" not in result.stdout


def test_bootstrap_refuses_a_broken_source_before_creating_anything(
        cli: Any, aws_clients: Any, src: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path / "notifyctl.yaml")
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(path))
    monkeypatch.setenv("NOTIFYCTL_ENV", "test")
    handler = src / PACKAGE_NAME / "handler.py"
    handler.write_text(handler.read_text() + "\ndef broken(:\n")

    result = cli("bootstrap", "--yes", "--source", str(src))

    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0].startswith(
        "error: the package is broken, nothing was uploaded: cannot import "
        "book_notifier.handler: SyntaxError")
    assert aws_clients.client("sns").list_topics()["Topics"] == []  # nothing was applied
