"""The configuration's shape, as frozen dataclasses, and its validation.

Validation is hand-rolled (no pydantic): the schema is small, and `notifyctl --help`
must stay fast. Every error names the key path, e.g. `environments.prod.sender`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from notifyctl.errors import ConfigError

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _LABEL + r"(?:\." + _LABEL + r")+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)" + _LABEL + r"(?:\." + _LABEL + r")+$")
_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_RUNTIME_RE = re.compile(r"^python3\.\d{1,2}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The retention values CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)
MIN_DEDUP_RETENTION_HOURS = 6


@dataclass(frozen=True)
class FunctionSettings:
    runtime: str
    memory_mb: int
    timeout_s: int
    log_retention_days: int
    log_level: str


@dataclass(frozen=True)
class DedupSettings:
    retention_hours: int
    point_in_time_recovery: bool
    deletion_protection: bool


@dataclass(frozen=True)
class ReleaseSettings:
    """How `deploy-lambda` shifts traffic, and the alarms that stop a release."""

    strategy: str                 # all-at-once, canary10-5m, linear10-1m, or a CodeDeploy config
    errors_threshold: int         # Errors of the alias per period at or above which: ALARM
    throttles_threshold: int      # Throttles likewise
    alarm_period_s: int           # the alarms' period (CloudWatch: 10, 30 or a multiple of 60)


@dataclass(frozen=True)
class Environment:
    """One resolved environment: `defaults` merged with its own block."""

    name: str
    project: str
    profile: str | None
    region: str
    endpoint_url: str | None
    prefix: str
    sender: str
    sending_domain: str | None
    link_base_url: str
    link_allowed_hosts: tuple[str, ...]
    allow_http_links: bool
    function: FunctionSettings
    dedup: DedupSettings
    release: ReleaseSettings
    # The emulator's SES account in the sandbox (`local start` default); AWS accounts
    # are sandboxed until production access is granted, whatever this says.
    ses_sandbox: bool = False

    # Resource names: one place, so every command agrees on them.
    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-book-events"

    @property
    def table_name(self) -> str:
        return f"{self.prefix}-dedup"

    @property
    def function_name(self) -> str:
        return f"{self.prefix}-notifier"

    @property
    def role_name(self) -> str:
        return f"{self.prefix}-notifier-role"

    @property
    def publisher_policy_name(self) -> str:
        return f"{self.prefix}-book-publisher"

    @property
    def dlq_name(self) -> str:
        return f"{self.prefix}-notifier-failures"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def alias_name(self) -> str:
        return "live"

    # CodeDeploy and the release alarms (issue 16).
    @property
    def codedeploy_application_name(self) -> str:
        return f"{self.prefix}-notifier"

    @property
    def deployment_group_name(self) -> str:
        return f"{self.prefix}-notifier-live"

    @property
    def codedeploy_role_name(self) -> str:
        return f"{self.prefix}-codedeploy-role"

    @property
    def hook_function_names(self) -> tuple[str, str]:
        """The CodeDeploy lifecycle hooks: BeforeAllowTraffic, AfterAllowTraffic."""
        return (f"{self.prefix}-notifier-hook-before", f"{self.prefix}-notifier-hook-after")

    @property
    def hook_role_name(self) -> str:
        return f"{self.prefix}-notifier-hook-role"

    @property
    def alarm_names(self) -> tuple[str, str, str]:
        """The release alarms: Errors and Throttles of the alias, the failure queue's depth."""
        return (f"{self.prefix}-notifier-errors", f"{self.prefix}-notifier-throttles",
                f"{self.prefix}-notifier-failures-visible")

    # The SES feedback loop (issue 17).
    @property
    def configuration_set_name(self) -> str:
        return f"{self.prefix}-notifications"

    @property
    def ses_events_topic_name(self) -> str:
        return f"{self.prefix}-ses-events"

    @property
    def event_destination_name(self) -> str:
        return f"{self.prefix}-ses-events"

    @property
    def feedback_function_name(self) -> str:
        return f"{self.prefix}-feedback"

    @property
    def feedback_role_name(self) -> str:
        return f"{self.prefix}-feedback-role"

    @property
    def feedback_log_group_name(self) -> str:
        return f"/aws/lambda/{self.feedback_function_name}"

    @property
    def is_local(self) -> bool:
        return is_loopback_url(self.endpoint_url)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["link_allowed_hosts"] = list(self.link_allowed_hosts)
        data["resources"] = {
            "topic": self.topic_name,
            "table": self.table_name,
            "function": self.function_name,
            "alias": self.alias_name,
            "role": self.role_name,
            "publisher_policy": self.publisher_policy_name,
            "failure_queue": self.dlq_name,
            "log_group": self.log_group_name,
            "codedeploy_application": self.codedeploy_application_name,
            "deployment_group": self.deployment_group_name,
            "codedeploy_role": self.codedeploy_role_name,
            "alarms": list(self.alarm_names),
            "hook_functions": list(self.hook_function_names),
            "hook_role": self.hook_role_name,
            "configuration_set": self.configuration_set_name,
            "ses_events_topic": self.ses_events_topic_name,
            "feedback_function": self.feedback_function_name,
            "feedback_role": self.feedback_role_name,
        }
        return data


def endpoint_problem(url: str) -> str | None:
    """What is wrong with an endpoint URL, or None: a scheme, a host, a port in range.

    botocore's own message for these ("Invalid endpoint") names neither the value nor
    what was expected."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "expected a port from 1 to 65535"
    if parts.scheme not in ("http", "https"):
        return "expected a URL starting with http:// or https://"
    if not parts.hostname:
        return "expected a host name after the scheme"
    if port == 0:
        return "expected a port from 1 to 65535"
    return None


def is_loopback_url(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


# ---------------------------------------------------------------- validators
Validator = Callable[[str, Any], Any]


def _fail(path: str, expected: str, value: Any) -> ConfigError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ConfigError(f"{path}: expected {expected}, got {shown}")


def _str(path: str, v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise _fail(path, "a non-empty string", v)
    return v


def _opt(inner: Validator) -> Validator:
    def check(path: str, v: Any) -> Any:
        return None if v is None else inner(path, v)
    return check


def _bool(path: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _fail(path, "true or false", v)
    return v


def _int_range(lo: int, hi: int) -> Validator:
    def check(path: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise _fail(path, f"an integer from {lo} to {hi}", v)
        return v
    return check


def _pattern(rx: re.Pattern[str], expected: str) -> Validator:
    def check(path: str, v: Any) -> str:
        if not isinstance(v, str) or not rx.match(v):
            raise _fail(path, expected, v)
        return v
    return check


def _email(path: str, v: Any) -> str:
    if not isinstance(v, str) or len(v) > 254 or not _EMAIL_RE.match(v):
        raise _fail(path, "an email address like notifications@example.com", v)
    return v


def _endpoint(path: str, v: Any) -> str:
    problem = endpoint_problem(v) if isinstance(v, str) else "expected a URL"
    if problem:
        raise _fail(path, problem.removeprefix("expected ") + " (like http://127.0.0.1:4566)", v)
    return str(v)


def _url(path: str, v: Any) -> str:
    parts = urlsplit(v) if isinstance(v, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(path, "an http(s) URL like https://books.example.com/books/", v)
    return str(v)


def _retention(path: str, v: Any) -> int:
    if v not in LOG_RETENTION_DAYS or isinstance(v, bool):
        raise _fail(path, f"one of CloudWatch's retention values {LOG_RETENTION_DAYS}", v)
    return int(v)


def _hosts(path: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise _fail(path, "a list of host names", v)
    return tuple(_pattern(_DOMAIN_RE, "a host name")(f"{path}[{i}]", h) for i, h in enumerate(v))


FUNCTION_FIELDS: dict[str, Validator] = {
    "runtime": _pattern(_RUNTIME_RE, "a Python Lambda runtime like python3.12"),
    "memory_mb": _int_range(128, 10240),
    "timeout_s": _int_range(1, 900),
    "log_retention_days": _retention,
    "log_level": _pattern(re.compile("^(" + "|".join(_LOG_LEVELS) + ")$"),
                          "one of " + ", ".join(_LOG_LEVELS)),
}
DEDUP_FIELDS: dict[str, Validator] = {
    "retention_hours": _int_range(MIN_DEDUP_RETENTION_HOURS, 24 * 365),
    "point_in_time_recovery": _bool,
    "deletion_protection": _bool,
}
ENV_FIELDS: dict[str, Validator] = {
    "profile": _opt(_str),
    "region": _pattern(_REGION_RE, "an AWS Region like eu-west-1"),
    "endpoint_url": _opt(_endpoint),
    "prefix": _pattern(_PREFIX_RE, "letters, digits and '-', starting with a letter, at most 40"),
    "sender": _email,
    "sending_domain": _opt(_pattern(_DOMAIN_RE, "a domain name like example.com")),
    "link_base_url": _url,
    "link_allowed_hosts": _hosts,
    "allow_http_links": _bool,
    "ses_sandbox": _bool,
}
_STRATEGY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _period(path: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not (
            v in (10, 30) or (v >= 60 and v % 60 == 0 and v <= 86400)):
        raise _fail(path, "10, 30 or a multiple of 60 seconds up to 86400", v)
    return v


RELEASE_FIELDS: dict[str, Validator] = {
    "strategy": _pattern(_STRATEGY_RE, "all-at-once, canary10-5m, linear10-1m, ... or a "
                                       "CodeDeploy deployment config name"),
    "errors_threshold": _int_range(1, 1_000_000),
    "throttles_threshold": _int_range(1, 1_000_000),
    "alarm_period_s": _period,
}
NESTED = {"function": FUNCTION_FIELDS, "dedup": DEDUP_FIELDS, "release": RELEASE_FIELDS}


def release_defaults() -> dict[str, Any]:
    """`release` for a config that predates it: deploy-lambda keeps moving `live` at
    once, as it did (the shipped config chooses canary10-5m outside `local`)."""
    return {"strategy": "all-at-once", "errors_threshold": 1, "throttles_threshold": 1,
            "alarm_period_s": 60}
# Keys an older config may lack, with the value they take then.
OPTIONAL: dict[str, Any] = {"ses_sandbox": False}


def _check_keys(path: str, block: Any, allowed: Mapping[str, Any],
                errors: list[str]) -> dict[str, Any]:
    """The block's known keys; each unknown key or a non-mapping is appended to errors."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        errors.append(str(_fail(path, "a mapping", block)))
        return {}
    known: dict[str, Any] = {}
    for key, value in block.items():
        if key in allowed:
            known[key] = value
        else:
            errors.append(f"{path}.{key}: unknown key; expected one of: "
                          f"{', '.join(sorted(allowed))}")
    return known


def _checked(validator: Validator, path: str, value: Any, errors: list[str]) -> tuple[bool, Any]:
    try:
        return True, validator(path, value)
    except ConfigError as exc:
        errors.append(exc.message)
        return False, None


def validate_block(path: str, block: Any, errors: list[str]) -> dict[str, Any]:
    """Check the keys and types of a `defaults` or environment block (partial).

    Every problem is appended to `errors` (a user fixing a config file wants them all
    at once, not one per run); the valid part of the block is returned."""
    block = _check_keys(path, block, {**ENV_FIELDS, **NESTED}, errors)
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key in NESTED:
            sub = _check_keys(f"{path}.{key}", value, NESTED[key], errors)
            nested: dict[str, Any] = {}
            for k, v in sub.items():
                ok, checked = _checked(NESTED[key][k], f"{path}.{key}.{k}", v, errors)
                if ok:
                    nested[k] = checked
            out[key] = nested
        else:
            ok, checked = _checked(ENV_FIELDS[key], f"{path}.{key}", value, errors)
            if ok:
                out[key] = checked
    return out


def build_environment(name: str, project: str, merged: dict[str, Any], path: str,
                      errors: list[str]) -> Environment | None:
    """Turn a merged, validated mapping into an Environment; missing keys are errors.

    Returns None when anything was appended to `errors` (by this call or before)."""
    for key in ENV_FIELDS:
        if key not in merged and key not in OPTIONAL:
            errors.append(f"{path}.{key}: missing (set it in defaults or in the environment)")
    merged = {**merged, "release": {**release_defaults(),
                                    **merged.get("release", {})}}
    for group, fields in NESTED.items():
        for key in fields:
            if key not in merged.get(group, {}):
                errors.append(f"{path}.{group}.{key}: missing")
    if (merged.get("sending_domain") and merged.get("sender")
            and not merged["sender"].lower().endswith("@" + merged["sending_domain"].lower())):
        errors.append(
            f"{path}.sender: expected an address in sending_domain "
            f"{merged['sending_domain']!r}, got {merged['sender']!r}"
        )
    if errors:
        return None
    return Environment(
        name=name,
        project=project,
        profile=merged["profile"],
        region=merged["region"],
        endpoint_url=merged["endpoint_url"],
        prefix=merged["prefix"],
        sender=merged["sender"],
        sending_domain=merged["sending_domain"],
        link_base_url=merged["link_base_url"],
        link_allowed_hosts=tuple(merged["link_allowed_hosts"]),
        allow_http_links=merged["allow_http_links"],
        function=FunctionSettings(**merged["function"]),
        dedup=DedupSettings(**merged["dedup"]),
        release=ReleaseSettings(**merged["release"]),
        ses_sandbox=merged.get("ses_sandbox", OPTIONAL["ses_sandbox"]),
    )
