"""Configuration: resolution order, merging, and errors that name the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifyctl.config.loader import load, locate, parse, resolve
from notifyctl.errors import ConfigError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
GOOD = (REPO / "config" / "notifyctl.yaml").read_text()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "notifyctl.yaml"
    path.write_text(text)
    return str(path)


def test_repo_config_resolves_every_environment() -> None:
    data = parse(locate(str(REPO / "config" / "notifyctl.yaml"), {}))
    for name in ("local", "dev", "prod"):
        env = resolve(data, name)
        assert env.name == name
        assert env.function_name.startswith(env.prefix)


def test_packaged_default_matches_repo_config() -> None:
    shipped = (REPO / "notifyctl" / "config" / "default.yaml").read_text()
    assert shipped == GOOD


def test_environment_overrides_defaults_and_nested_blocks_merge(tmp_path: Path) -> None:
    env, _ = load(str(REPO / "config" / "notifyctl.yaml"), "prod", {})
    assert env.function.memory_mb == 512          # overridden
    assert env.function.timeout_s == 30           # inherited from defaults
    assert env.region == "eu-west-1"
    assert env.sending_domain == "books.example.com"


def test_env_choice_flag_beats_variable_beats_local() -> None:
    cfg = str(REPO / "config" / "notifyctl.yaml")
    assert load(cfg, None, {})[0].name == "local"
    assert load(cfg, None, {"NOTIFYCTL_ENV": "dev"})[0].name == "dev"
    assert load(cfg, "prod", {"NOTIFYCTL_ENV": "dev"})[0].name == "prod"


def test_config_variable_is_used_when_no_flag(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("prefix: books-local", "prefix: from-var"))
    env, source = load(None, "local", {"NOTIFYCTL_CONFIG": path})
    assert env.prefix == "from-var" and source == path


def test_packaged_default_is_used_outside_the_repo(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env, source = load(None, None, {})
    assert env.name == "local" and Path(source).is_file()  # a real path, not a placeholder


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "project: books\nenvironments:\n  local: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load(path, "local", {})
    assert str(err.value).startswith(path + ":")
    assert any(f":{line}:" in str(err.value) for line in (3, 4))


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("sender: notifications@books.example.com", "sender: not-an-email",
         "environments.prod.sender"),
        ("link_base_url: https://dev.books.example.com/books/", "link_base_url: ftp://x",
         "environments.dev.link_base_url"),
        ("      memory_mb: 512", "      memory_mb: lots", "environments.prod.function.memory_mb"),
        ("      memory_mb: 512", "      memory_mb: 512\n      memroy: 1",
         "environments.prod.function.memroy"),
        ("  log_retention_days: 30", "  log_retention_days: 31",
         "defaults.function.log_retention_days"),
        ("    retention_hours: 168", "    retention_hours: 2", "defaults.dedup.retention_hours"),
        ("  region: us-east-1", "  region: mars", "defaults.region"),
        ("  allow_http_links: false", "  allow_http_links: maybe", "defaults.allow_http_links"),
    ],
)
def test_invalid_value_names_the_key_path(tmp_path: Path, old: str, new: str, path: str) -> None:
    assert old in GOOD, old
    cfg = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load(cfg, "local", {})
    assert str(err.value).startswith(path + ":"), str(err.value)
    assert "expected" in str(err.value)


def test_unknown_environment_lists_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        load(str(REPO / "config" / "notifyctl.yaml"), "staging", {})
    assert "staging" in str(err.value) and "dev, local, prod" in str(err.value)


def test_sender_outside_sending_domain_is_refused(tmp_path: Path) -> None:
    cfg = _write(tmp_path, GOOD.replace("sender: notifications@books.example.com",
                                        "sender: someone@elsewhere.org"))
    with pytest.raises(ConfigError, match="environments.prod.sender"):
        load(cfg, "prod", {})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(str(tmp_path / "nope.yaml"), None, {})


def test_resource_names_derive_from_prefix() -> None:
    env, _ = load(str(REPO / "config" / "notifyctl.yaml"), "dev", {})
    assert env.topic_name == "books-dev-book-events"
    assert env.log_group_name == "/aws/lambda/books-dev-notifier"
    assert env.to_dict()["resources"]["alias"] == "live"


# ------------------------------------------------------- issue 14: minimal files, all errors
def test_a_minimal_file_names_only_what_it_changes(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "environments:\n  local:\n    endpoint_url: http://127.0.0.1:4570\n")
    env, _ = load(cfg, "local", {})
    assert env.endpoint_url == "http://127.0.0.1:4570"
    assert env.prefix == "books-local"              # the packaged local environment
    assert env.function.memory_mb == 256            # the packaged defaults


def test_a_new_environment_inherits_the_packaged_defaults(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "defaults:\n  function:\n    memory_mb: 1024\n"
                           "environments:\n  staging:\n    region: eu-central-1\n"
                           "    prefix: books-staging\n")
    env, _ = load(cfg, "staging", {})
    assert (env.region, env.prefix, env.function.memory_mb) == ("eu-central-1", "books-staging", 1024)
    assert env.function.timeout_s == 30
    with pytest.raises(ConfigError, match="known environments: staging"):
        load(cfg, "prod", {})  # packaged environments the file does not name are not inherited


def test_every_config_error_is_reported_at_once(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "colour: blue\n"
                           "environments:\n  local:\n    region: mars\n    memroy: 1\n"
                           "    function:\n      timeout_s: 0\n  dev:\n    sender: nobody\n")
    with pytest.raises(ConfigError) as err:
        load(cfg, "local", {})
    # the top-level key first (found while parsing)
    assert str(err.value) == "colour: unknown key; expected project, defaults, environments"
    cfg = _write(tmp_path, "environments:\n  local:\n    region: mars\n    memroy: 1\n"
                           "    function:\n      timeout_s: 0\n  dev:\n    sender: nobody\n")
    with pytest.raises(ConfigError) as err:
        load(cfg, "local", {})
    lines = str(err.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "environments.dev.sender", "environments.local.function.timeout_s",
        "environments.local.memroy", "environments.local.region"]
    assert err.value.hint == f"4 problems in {cfg}"


def test_the_files_defaults_beat_the_packaged_environment(tmp_path: Path) -> None:
    # packaged dev says region eu-west-1; the user's defaults say us-east-2
    cfg = _write(tmp_path, "defaults:\n  region: us-east-2\n  function:\n    timeout_s: 60\n"
                           "environments:\n  dev:\n    prefix: my-dev\n")
    env, _ = load(cfg, "dev", {})
    assert (env.region, env.prefix, env.function.timeout_s) == ("us-east-2", "my-dev", 60)
    assert env.profile == "dev" and env.function.memory_mb == 256  # as shipped
