"""Finding, parsing and resolving the configuration file.

File: --config PATH > $NOTIFYCTL_CONFIG > ./config/notifyctl.yaml > the copy shipped
in this package. Environment: --env > $NOTIFYCTL_ENV > "local".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from notifyctl.config.schema import NESTED, Environment, build_environment, validate_block
from notifyctl.errors import ConfigError

DEFAULT_ENV = "local"
REPO_CONFIG = Path("config") / "notifyctl.yaml"


@dataclass(frozen=True)
class ConfigSource:
    path: str  # a filesystem path, or "<package>/default.yaml"
    text: str


def locate(config_path: str | None, environ: dict[str, str] | None = None) -> ConfigSource:
    environ = dict(os.environ) if environ is None else environ
    explicit = config_path or environ.get("NOTIFYCTL_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        try:
            return ConfigSource(str(path), path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    if REPO_CONFIG.is_file():
        return ConfigSource(str(REPO_CONFIG), REPO_CONFIG.read_text(encoding="utf-8"))
    shipped = resources.files("notifyctl.config").joinpath("default.yaml")
    return ConfigSource("<notifyctl>/config/default.yaml", shipped.read_text(encoding="utf-8"))


def parse(source: ConfigSource) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(source.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source.path}{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source.path}: expected a mapping with `environments`, got {type(data).__name__}")
    unknown = set(data) - {"project", "defaults", "environments"}
    if unknown:
        raise ConfigError(
            f"{source.path}: {sorted(unknown)[0]}: unknown key; expected project, defaults, environments"
        )
    if not isinstance(data.get("environments"), dict) or not data["environments"]:
        raise ConfigError(f"{source.path}: environments: expected a mapping of named environments")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key in NESTED:
            out[key] = {**base.get(key, {}), **value}
        else:
            out[key] = value
    return out


def resolve(data: dict[str, Any], env_name: str, source_path: str = "config") -> Environment:
    project = data.get("project", "notifyctl")
    if not isinstance(project, str) or not project:
        raise ConfigError(f"{source_path}: project: expected a non-empty string")
    envs: dict[str, Any] = data["environments"]
    if env_name not in envs:
        known = ", ".join(sorted(envs))
        raise ConfigError(f"unknown environment {env_name!r}; known environments: {known}")
    defaults = validate_block("defaults", data.get("defaults"))
    # Validate every environment, not only the chosen one: a typo in prod should
    # not wait for the day someone deploys to prod.
    blocks = {name: validate_block(f"environments.{name}", block) for name, block in envs.items()}
    merged = _merge(defaults, blocks[env_name])
    return build_environment(env_name, project, merged, f"environments.{env_name}")


def load(config_path: str | None, env_name: str | None,
         environ: dict[str, str] | None = None) -> tuple[Environment, str]:
    """Return the resolved environment and the path it came from."""
    environ = dict(os.environ) if environ is None else environ
    source = locate(config_path, environ)
    data = parse(source)
    name = env_name or environ.get("NOTIFYCTL_ENV") or DEFAULT_ENV
    return resolve(data, name, source.path), source.path
