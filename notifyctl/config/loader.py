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
    path: str  # a filesystem path (the packaged copy's real path too)
    text: str
    packaged: bool = False


def packaged_source() -> ConfigSource:
    """The copy shipped in this package: the base every config file is merged over."""
    shipped = resources.files("notifyctl.config").joinpath("default.yaml")
    return ConfigSource(str(shipped), shipped.read_text(encoding="utf-8"), packaged=True)


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
    return packaged_source()


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
    errors = [f"{key}: unknown key; expected project, defaults, environments"
              for key in sorted(set(data) - {"project", "defaults", "environments"}, key=str)]
    if not isinstance(data.get("environments"), dict) or not data["environments"]:
        errors.append("environments: expected a mapping of named environments")
    if errors:
        raise config_errors(errors, source.path)
    return data


def config_errors(errors: list[str], source_path: str) -> ConfigError:
    """One ConfigError listing every problem, one per line (exit 2)."""
    if len(errors) == 1:
        return ConfigError(errors[0], hint=f"in {source_path}")
    return ConfigError("\n".join(errors),
                       hint=f"{len(errors)} problems in {source_path}")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key in NESTED and isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        else:
            out[key] = value
    return out


def _without(block: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """`block` minus the keys set in `keys` (nested blocks key by key)."""
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key in NESTED and isinstance(value, dict) and isinstance(keys.get(key), dict):
            out[key] = {k: v for k, v in value.items() if k not in keys[key]}
        elif key not in keys:
            out[key] = value
    return out


def over_packaged(data: dict[str, Any], packaged: dict[str, Any]) -> dict[str, Any]:
    """A config file merged over the packaged one, so a file names only what it changes.

    For each key of an environment the file names, the first of: the file's
    environment block, the file's `defaults`, the packaged environment of the same
    name, the packaged `defaults`. Everything written wins; what is not written is
    as shipped. Packaged environments the file does not name are not inherited:
    `--env prod` means the prod the user wrote."""
    defaults = data.get("defaults")
    if defaults is not None and not isinstance(defaults, dict):
        return data  # resolve() reports the shape error
    mine = defaults or {}
    out: dict[str, Any] = {"project": data.get("project", packaged.get("project")),
                           "defaults": _merge(packaged.get("defaults") or {}, mine)}
    shipped_envs = packaged.get("environments") or {}
    envs: dict[str, Any] = {}
    for name, block in data["environments"].items():
        base = shipped_envs.get(name)
        if isinstance(base, dict) and (block is None or isinstance(block, dict)):
            envs[name] = _merge(_without(base, mine), block or {})
        else:
            envs[name] = block
    out["environments"] = envs
    return out


def resolve(data: dict[str, Any], env_name: str, source_path: str = "config") -> Environment:
    """The named environment; every problem of the file is reported at once (ConfigError)."""
    errors: list[str] = []
    project = data.get("project", "notifyctl")
    if not isinstance(project, str) or not project:
        errors.append("project: expected a non-empty string")
    envs: dict[str, Any] = data["environments"]
    if env_name not in envs:
        known = ", ".join(sorted(map(str, envs)))
        raise ConfigError(f"unknown environment {env_name!r}; known environments: {known}",
                          hint=f"in {source_path}")
    defaults = validate_block("defaults", data.get("defaults"), errors)
    # Validate every environment, not only the chosen one: a typo in prod should
    # not wait for the day someone deploys to prod.
    blocks = {name: validate_block(f"environments.{name}", block, errors)
              for name, block in envs.items()}
    merged = _merge(defaults, blocks[env_name])
    env = build_environment(env_name, project, merged, f"environments.{env_name}", errors)
    if env is None:
        raise config_errors(errors, source_path)
    return env


def load(config_path: str | None, env_name: str | None,
         environ: dict[str, str] | None = None) -> tuple[Environment, str]:
    """Return the resolved environment and the path it came from."""
    environ = dict(os.environ) if environ is None else environ
    source = locate(config_path, environ)
    data = parse(source)
    if not source.packaged:
        data = over_packaged(data, parse(packaged_source()))
    name = env_name or environ.get("NOTIFYCTL_ENV") or DEFAULT_ENV
    return resolve(data, name, source.path), source.path
