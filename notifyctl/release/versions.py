"""Published versions of the notifier function, the aliases on them, and pruning.

Release history lives in AWS, not in a local file: each version notifyctl
publishes carries `previous=N` in its Description (this module owns that format:
one function per use, none elsewhere parses or rewrites it), and the `live` alias's
Description records the version it pointed at before its last move. `rollback`
reads them back, so it works from any machine and after a failed deploy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from notifyctl.errors import OperationError, UsageError

BOOTSTRAP_HINT = "Run `notifyctl bootstrap` first (same --env), then deploy again."


def missing_function_error(function_name: str) -> OperationError:
    """What every release command says when the function does not exist."""
    return OperationError(f"The function {function_name} does not exist.", hint=BOOTSTRAP_HINT)

_PREVIOUS_RE = re.compile(r"\bprevious=(\d+)\b")
_SHA_KEY = "sha"
_SHA_RE = re.compile(r";\s*sha=\S+")
# Descriptions are limited to 256 characters by Lambda.
MAX_DESCRIPTION = 256


def _version_description(command: str, previous: str | None, code_sha256: str) -> str:
    parts = [command, f"previous={previous or 'none'}", f"{_SHA_KEY}={code_sha256}"]
    return "; ".join(parts)[:MAX_DESCRIPTION]


def deploy_version_description(previous: str | None, code_sha256: str, *,
                               force: bool = False) -> str:
    """What a version `deploy-lambda` publishes says about where it came from."""
    return _version_description("notifyctl deploy" + (" --force" if force else ""),
                                previous, code_sha256)


def bootstrap_version_description(previous: str | None, code_sha256: str) -> str:
    """What a version `bootstrap` publishes (a configuration fix) says about where it
    came from; same form as a deploy's, so `rollback` reads both."""
    return _version_description("notifyctl bootstrap", previous, code_sha256)


def alias_description(action: str, previous: str | None) -> str:
    """The alias remembers the version it pointed at before this move."""
    return f"notifyctl {action}; previous={previous or 'none'}"[:MAX_DESCRIPTION]


def parse_previous(description: str | None) -> str | None:
    match = _PREVIOUS_RE.search(description or "")
    return match.group(1) if match else None


def short_description(description: str) -> str:
    """A version's description without its `sha=` part (for a table that shows the
    CodeSha256 in its own column)."""
    return _SHA_RE.sub("", description)


@dataclass(frozen=True)
class AliasInfo:
    name: str
    version: str
    description: str
    # Extra versions that receive a share of traffic (weighted alias).
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def versions(self) -> set[str]:
        return {self.version, *self.weights}

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AliasInfo:
        weights = (data.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return cls(data["Name"], str(data["FunctionVersion"]), data.get("Description") or "",
                   {str(k): float(v) for k, v in weights.items()})


@dataclass(frozen=True)
class VersionInfo:
    version: str
    code_sha256: str
    code_size: int
    last_modified: str
    description: str
    aliases: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        return int(self.version)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "code_sha256": self.code_sha256,
                "code_size": self.code_size, "last_modified": self.last_modified,
                "description": self.description, "aliases": list(self.aliases)}


def list_aliases(lam: Any, function_name: str) -> list[AliasInfo]:
    out: list[AliasInfo] = []
    for page in lam.get_paginator("list_aliases").paginate(FunctionName=function_name):
        out.extend(AliasInfo.from_api(a) for a in page.get("Aliases", []))
    return sorted(out, key=lambda a: a.name)


def _alias_labels(aliases: Iterable[AliasInfo]) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for alias in aliases:
        labels.setdefault(alias.version, []).append(alias.name)
        for version, weight in alias.weights.items():
            labels.setdefault(version, []).append(f"{alias.name} ({weight:.0%})")
    return labels


def list_versions(lam: Any, function_name: str,
                  aliases: list[AliasInfo] | None = None) -> list[VersionInfo]:
    """Published versions, newest first ($LATEST left out), with alias pointers."""
    if aliases is None:
        aliases = list_aliases(lam, function_name)
    labels = _alias_labels(aliases)
    found: list[VersionInfo] = []
    paginator = lam.get_paginator("list_versions_by_function")
    for page in paginator.paginate(FunctionName=function_name):
        for v in page.get("Versions", []):
            number = str(v["Version"])
            if not number.isdigit():
                continue
            found.append(VersionInfo(number, v.get("CodeSha256", ""), int(v.get("CodeSize", 0)),
                                     v.get("LastModified", ""), v.get("Description") or "",
                                     tuple(labels.get(number, []))))
    return sorted(found, key=lambda v: v.number, reverse=True)


@dataclass(frozen=True)
class PruneResult:
    deleted: tuple[str, ...]
    protected: tuple[str, ...]  # beyond KEEP, but kept because something points at them
    failed: tuple[tuple[str, str], ...] = ()  # (version, reason)
    # version -> why it was kept ("live points at it", "live's previous version ...")
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"deleted": list(self.deleted), "protected": list(self.protected),
                "protected_reasons": {v: self.reasons.get(v, "") for v in self.protected},
                "failed": [{"version": v, "reason": r} for v, r in self.failed]}


def protection_reasons(aliases: Iterable[AliasInfo]) -> dict[str, str]:
    """Every version an alias routes traffic to, plus each alias's recorded previous
    version (so `rollback` still has somewhere to go), each with why."""
    reasons: dict[str, str] = {}
    for alias in aliases:
        previous = parse_previous(alias.description)
        if previous:
            reasons.setdefault(previous, f"{alias.name}'s previous version, kept for rollback")
    for alias in aliases:  # pointing at it is the stronger reason
        for version in alias.versions:
            reasons[version] = f"{alias.name} points at it"
    return reasons


def prune(lam: Any, function_name: str, keep: int) -> PruneResult:
    """Delete published versions beyond the newest `keep`, never an aliased one.

    Aliases are read just before deleting; a version that something else still
    uses (Lambda answers ResourceConflictException) is reported, not fatal.
    """
    from notifyctl.aws.errors import error_code

    if keep < 1:
        raise UsageError(f"--prune: expected a number of versions to keep of at least 1, "
                             f"got {keep}")
    aliases = list_aliases(lam, function_name)
    guard = protection_reasons(aliases)
    versions = list_versions(lam, function_name, aliases)
    deleted: list[str] = []
    protected: list[str] = []
    failed: list[tuple[str, str]] = []
    for info in versions[keep:]:
        if info.version in guard:
            protected.append(info.version)
            continue
        try:
            lam.delete_function(FunctionName=function_name, Qualifier=info.version)
        except Exception as exc:
            code = error_code(exc)
            if code not in ("ResourceConflictException", "ResourceNotFoundException"):
                raise
            failed.append((info.version, code))
            continue
        deleted.append(info.version)
    return PruneResult(tuple(deleted), tuple(protected), tuple(failed),
                       {v: guard[v] for v in protected})


@dataclass(frozen=True)
class VersionsReport:
    """What `notifyctl versions` shows: the versions (after pruning, if asked)."""

    function: str
    versions: list[VersionInfo]
    pruned: PruneResult | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"function": self.function,
                                "versions": [v.to_dict() for v in self.versions]}
        if self.pruned is not None:
            data["pruned"] = self.pruned.to_dict()
        return data


def versions_report(lam: Any, function_name: str, prune_keep: int | None = None
                    ) -> VersionsReport:
    """Prune (when `prune_keep` is given), then list; a missing function is the
    operator's to fix with `bootstrap`."""
    from notifyctl.aws.calls import LAMBDA_NOT_FOUND, is_error

    try:
        pruned = prune(lam, function_name, prune_keep) if prune_keep is not None else None
        found = list_versions(lam, function_name)
    except Exception as exc:
        if is_error(exc, *LAMBDA_NOT_FOUND):
            raise missing_function_error(function_name) from None
        raise
    return VersionsReport(function_name, found, pruned)
