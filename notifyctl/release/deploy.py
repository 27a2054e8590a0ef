"""Deploying the notifier function: compare, plan, execute.

1. Build (no AWS calls): the reproducible package (`release.package`).
2. Compare and plan (read calls only): what the `live` alias points at now —
   get_alias, then get_function_configuration(Qualifier=<that version>) — is
   compared with the package's CodeSha256 and the managed configuration. Never a
   local cache: a deploy that failed half-way is seen as not deployed. The plan
   is a short list of frozen steps.
3. Execute: each step is one or two Lambda calls. `--plan` shows the same list
   through a display-only path and calls nothing.

Lambda rules the steps follow:
- UpdateFunctionCode and UpdateFunctionConfiguration each need the previous
  update to be finished (ResourceConflictException otherwise), so a wait for
  LastUpdateStatus=Successful sits after each (Failed is an error with the reason).
- PublishVersion returns the existing version when $LATEST's code and
  configuration have not changed since the last published version; Description
  alone does not count. So `--force` changes the function's own Description
  (part of its configuration) to a deploy stamp first, which makes Lambda cut a
  new version of the same code and configuration.
- PublishVersion carries the expected CodeSha256, so a concurrent change of
  $LATEST is refused instead of being published under our name; UpdateAlias
  carries the alias's RevisionId for the same reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from notifyctl.errors import OperationError, UsageError
from notifyctl.infra.function_spec import FunctionConfig
from notifyctl.release import versions as history
from notifyctl.release.package import MAX_DIRECT_UPLOAD_BYTES, Package

BOOTSTRAP_HINT = "Run `notifyctl bootstrap` first (same --env), then deploy again."
WAIT_TIMEOUT_S = 300.0


# ------------------------------------------------------------------ state
@dataclass(frozen=True)
class LiveState:
    """What is deployed: the alias and the version it points at."""

    function_name: str
    alias: str
    alias_exists: bool
    version: str | None = None
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    alias_revision: str | None = None
    alias_description: str = ""

    @property
    def code_sha256(self) -> str | None:
        return self.config.get("CodeSha256")

    @property
    def recorded_previous(self) -> str | None:
        return history.parse_previous(self.alias_description)


def _not_found(exc: BaseException) -> bool:
    from notifyctl.aws.errors import error_code

    return error_code(exc) == "ResourceNotFoundException"


def missing_function_error(function_name: str) -> OperationError:
    return OperationError(f"The function {function_name} does not exist.", hint=BOOTSTRAP_HINT)


def read_live(lam: Any, function_name: str, alias: str) -> LiveState:
    """Two read calls: the alias, then the configuration of its version."""
    try:
        got = lam.get_alias(FunctionName=function_name, Name=alias)
    except Exception as exc:
        if not _not_found(exc):
            raise
        try:
            lam.get_function_configuration(FunctionName=function_name)
        except Exception as inner:
            if _not_found(inner):
                raise missing_function_error(function_name) from None
            raise
        return LiveState(function_name, alias, alias_exists=False)
    version = str(got["FunctionVersion"])
    try:
        config = lam.get_function_configuration(FunctionName=function_name, Qualifier=version)
    except Exception as exc:
        if _not_found(exc):
            raise OperationError(
                f"The alias {alias} points at version {version} of {function_name}, "
                "which does not exist.",
                hint="Point it at an existing version with `notifyctl rollback --to-version N`.",
            ) from None
        raise
    return LiveState(function_name, alias, True, version, config, got.get("RevisionId"),
                     got.get("Description") or "")


# ------------------------------------------------------------------ plan
@dataclass(frozen=True)
class WaitForUpdate:
    """Poll until $LATEST is no longer Pending / InProgress."""

    reason: str
    # The first wait only lets a running update finish; an earlier *failed*
    # update is what we are about to replace, not an error.
    fail_on_failed: bool = True

    def describe(self) -> str:
        return f"wait for {self.reason}"


@dataclass(frozen=True)
class UpdateCode:
    code_sha256: str
    size: int
    zip_file: bytes = field(repr=False)

    def describe(self) -> str:
        return f"upload code ({self.size:,} bytes, CodeSha256 {self.code_sha256})"


@dataclass(frozen=True)
class UpdateConfig:
    params: dict[str, Any] = field(hash=False)
    changes: tuple[str, ...]

    def describe(self) -> str:
        return "update configuration (" + ", ".join(self.changes) + ")"


@dataclass(frozen=True)
class PublishVersion:
    code_sha256: str
    description: str

    def describe(self) -> str:
        return f"publish a version (expecting CodeSha256 {self.code_sha256})"


@dataclass(frozen=True)
class MoveAlias:
    """Point the alias at the version published by PublishVersion."""

    alias: str
    previous: str | None
    exists: bool
    revision_id: str | None

    def describe(self) -> str:
        if not self.exists:
            return f"create alias {self.alias} -> the new version"
        return f"move alias {self.alias}: {self.previous} -> the new version"


@dataclass(frozen=True)
class Prune:
    keep: int

    def describe(self) -> str:
        return f"delete versions beyond the newest {self.keep} (never an aliased one)"


Step = WaitForUpdate | UpdateCode | UpdateConfig | PublishVersion | MoveAlias | Prune


@dataclass(frozen=True)
class DeployPlan:
    function_name: str
    alias: str
    package: Package = field(repr=False)
    live: LiveState
    changes: tuple[str, ...]  # what differs from the live version
    steps: tuple[Step, ...]

    @property
    def unchanged(self) -> bool:
        return not any(isinstance(s, PublishVersion) for s in self.steps)


def live_changes(live: LiveState, package: Package, desired: FunctionConfig) -> tuple[str, ...]:
    """Names of what differs between the live version and what we would deploy."""
    if not live.alias_exists:
        return ("alias",)
    changes = []
    if live.code_sha256 != package.sha256_b64:
        changes.append("code")
    changes.extend(desired.differences(live.config))
    return tuple(changes)


def plan_deploy(lam: Any, live: LiveState, package: Package, desired: FunctionConfig, *,
                force: bool = False, move_alias: bool = True, prune_keep: int | None = None,
                clock: Callable[[], float] = time.time) -> DeployPlan:
    """The steps that bring `live` to this package and configuration.

    Reads $LATEST (one more call) only when something changed.
    """
    changes = live_changes(live, package, desired)
    steps: list[Step] = []
    if changes or force:
        if package.size > MAX_DIRECT_UPLOAD_BYTES:
            raise UsageError(f"the package is {package.size:,} bytes; Lambda takes at most "
                             f"{MAX_DIRECT_UPLOAD_BYTES:,} in a direct upload")
        latest = lam.get_function_configuration(FunctionName=live.function_name)
        if latest.get("State") == "Pending" or latest.get("LastUpdateStatus") == "InProgress":
            steps.append(WaitForUpdate("an update already in progress", fail_on_failed=False))
        # $LATEST may already hold this code (e.g. after a rollback): no upload then.
        if latest.get("CodeSha256") != package.sha256_b64:
            steps.append(UpdateCode(package.sha256_b64, package.size, package.data))
            steps.append(WaitForUpdate("the code update"))
        config_changes = desired.differences(latest)
        params = dict(desired.as_api()) if config_changes else {}
        if force:
            stamp = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            params = {**params, "Description": f"notifyctl deploy --force {stamp}"}
        if params:
            steps.append(UpdateConfig(params, tuple(config_changes) + (
                ("Description",) if force else ())))
            steps.append(WaitForUpdate("the configuration update"))
        steps.append(PublishVersion(
            package.sha256_b64,
            history.version_description(live.version, package.sha256_b64, force=force)))
        if move_alias:
            steps.append(MoveAlias(live.alias, live.version, live.alias_exists,
                                   live.alias_revision))
    if prune_keep is not None:
        steps.append(Prune(prune_keep))
    return DeployPlan(live.function_name, live.alias, package, live, changes, tuple(steps))


# ------------------------------------------------------------------ execute
class Reporter(Protocol):
    def step(self, description: str) -> AbstractContextManager[Any]: ...


class QuietReporter:
    def step(self, description: str) -> AbstractContextManager[Any]:
        return nullcontext()


@dataclass
class DeployResult:
    function: str
    alias: str
    version: str | None
    previous_version: str | None
    code_sha256: str
    package_bytes: int
    unchanged: bool
    changes: tuple[str, ...] = ()
    alias_moved: bool = False
    pruned: history.PruneResult | None = None
    appspec: str | None = None
    planned: tuple[str, ...] = ()  # step descriptions, for --plan
    # PublishVersion handed back a version that existed before this deploy (e.g. one
    # made by an earlier --publish-only): nothing new was published.
    reused_version: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "function": self.function, "version": self.version,
            "previous_version": self.previous_version, "code_sha256": self.code_sha256,
            "package_bytes": self.package_bytes, "alias": self.alias,
            "unchanged": self.unchanged, "changes": list(self.changes),
            "published": self.version is not None and not self.unchanged
                         and not self.reused_version and not self.planned,
        }
        if self.pruned is not None:
            data["pruned"] = self.pruned.to_dict()
        if self.appspec:
            data["appspec"] = self.appspec
        if self.planned:
            data["plan"] = list(self.planned)
        return data


def wait_until_updated(lam: Any, function_name: str, *, fail_on_failed: bool = True,
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic,
                       timeout: float = WAIT_TIMEOUT_S) -> dict[str, Any]:
    """Poll $LATEST until State is not Pending and LastUpdateStatus not InProgress."""
    deadline = clock() + timeout
    delay = 0.5
    while True:
        cfg = lam.get_function_configuration(FunctionName=function_name)
        state, status = cfg.get("State"), cfg.get("LastUpdateStatus")
        if state == "Failed":
            raise OperationError(f"{function_name} is in state Failed: "
                                 f"{cfg.get('StateReason') or 'no reason given'}")
        if status == "Failed" and fail_on_failed:
            reason = cfg.get("LastUpdateStatusReason") or "no reason given"
            code = cfg.get("LastUpdateStatusReasonCode")
            raise OperationError(f"The update of {function_name} failed: {reason}"
                                 + (f" ({code})" if code else ""),
                                 hint="The live alias was not moved. Fix the cause and deploy "
                                      "again.")
        if state != "Pending" and status != "InProgress":
            return dict(cfg)
        remaining = deadline - clock()
        if remaining <= 0:
            raise OperationError(f"{function_name}: the update did not finish within "
                                 f"{timeout:.0f} s (State {state}, LastUpdateStatus {status}).",
                                 hint="The live alias was not moved; deploy again later.")
        sleep(min(delay, remaining))
        delay = min(delay * 1.5, 3.0)


class Executor:
    """Runs a plan's steps against Lambda, one method per step type."""

    def __init__(self, lam: Any, *, reporter: Reporter | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 wait_timeout: float = WAIT_TIMEOUT_S) -> None:
        self.lam = lam
        self.reporter = reporter or QuietReporter()
        self.sleep = sleep
        self.clock = clock
        self.wait_timeout = wait_timeout

    def execute(self, plan: DeployPlan, desired: FunctionConfig) -> DeployResult:
        live = plan.live
        result = DeployResult(plan.function_name, plan.alias, live.version,
                              live.recorded_previous, plan.package.sha256_b64,
                              plan.package.size, plan.unchanged, plan.changes)
        for step in plan.steps:
            with self.reporter.step(step.describe()):
                self._run(step, plan, desired, result)
        return result

    def _run(self, step: Step, plan: DeployPlan, desired: FunctionConfig,
             result: DeployResult) -> None:
        from notifyctl.aws.errors import error_code

        fn = plan.function_name
        if isinstance(step, WaitForUpdate):
            wait_until_updated(self.lam, fn, fail_on_failed=step.fail_on_failed,
                               sleep=self.sleep, clock=self.clock, timeout=self.wait_timeout)
        elif isinstance(step, UpdateCode):
            got = self._conflict_guarded(lambda: self.lam.update_function_code(
                FunctionName=fn, ZipFile=step.zip_file))
            if got.get("CodeSha256") != step.code_sha256:
                raise OperationError(f"Lambda stored CodeSha256 {got.get('CodeSha256')}, "
                                     f"expected {step.code_sha256}.")
        elif isinstance(step, UpdateConfig):
            self._conflict_guarded(lambda: self.lam.update_function_configuration(
                FunctionName=fn, **step.params))
        elif isinstance(step, PublishVersion):
            before = _published_versions(self.lam, fn)
            try:
                got = self._conflict_guarded(lambda: self.lam.publish_version(
                    FunctionName=fn, CodeSha256=step.code_sha256,
                    Description=step.description))
            except OperationError:
                raise
            except Exception as exc:
                if error_code(exc) == "PreconditionFailedException":
                    raise OperationError(
                        f"$LATEST of {fn} changed while deploying (someone else deployed?); "
                        "nothing was published.", hint="Deploy again.") from None
                raise
            self._check_published(got, step, desired, fn)
            result.version = str(got["Version"])
            result.reused_version = result.version in before
            result.previous_version = plan.live.version
        elif isinstance(step, MoveAlias):
            assert result.version is not None, "MoveAlias follows PublishVersion"
            description = history.alias_description("deploy", step.previous)
            if step.exists:
                kwargs: dict[str, Any] = {}
                if step.revision_id:
                    kwargs["RevisionId"] = step.revision_id
                try:
                    # RoutingConfig={} clears a weighted alias: live is all-at-once.
                    self.lam.update_alias(FunctionName=fn, Name=step.alias,
                                          FunctionVersion=result.version,
                                          Description=description, RoutingConfig={}, **kwargs)
                except Exception as exc:
                    if error_code(exc) == "PreconditionFailedException":
                        raise OperationError(
                            f"The alias {step.alias} moved while deploying; version "
                            f"{result.version} is published but not live.",
                            hint="Check `notifyctl versions`, then deploy again.") from None
                    raise
            else:
                self.lam.create_alias(FunctionName=fn, Name=step.alias,
                                      FunctionVersion=result.version, Description=description)
            result.alias_moved = True
        elif isinstance(step, Prune):
            result.pruned = history.prune(self.lam, fn, step.keep)
        else:  # pragma: no cover - exhaustive
            raise AssertionError(f"unknown step {step!r}")

    def _conflict_guarded(self, call: Callable[[], Any]) -> Any:
        from notifyctl.aws.errors import error_code

        try:
            return call()
        except Exception as exc:
            if error_code(exc) == "ResourceConflictException":
                raise OperationError(f"Lambda refused the change: {exc}",
                                     hint="Another update of the function is in progress; "
                                          "deploy again when it has finished.") from None
            raise

    @staticmethod
    def _check_published(got: dict[str, Any], step: PublishVersion, desired: FunctionConfig,
                         fn: str) -> None:
        # Lambda may hand back an existing version (nothing changed since it was
        # published); it is still the right one if its code and config match.
        if got.get("CodeSha256") != step.code_sha256:
            raise OperationError(f"{fn}: version {got.get('Version')} has CodeSha256 "
                                 f"{got.get('CodeSha256')}, expected {step.code_sha256}.")
        drift = desired.differences(got)
        if drift:
            raise OperationError(f"{fn}: version {got.get('Version')} does not have the wanted "
                                 "configuration (" + ", ".join(drift) + ").")


def _published_versions(lam: Any, function_name: str) -> set[str]:
    """The version numbers that exist now (PublishVersion may return one of them)."""
    found: set[str] = set()
    for page in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=function_name):
        found.update(str(v["Version"]) for v in page.get("Versions", ()))
    return found


# ------------------------------------------------------------------ one call
def deploy(lam: Any, function_name: str, alias: str, package: Package,
           desired: FunctionConfig, *, force: bool = False, move_alias: bool = True,
           prune_keep: int | None = None, appspec_path: Path | None = None,
           plan_only: bool = False, reporter: Reporter | None = None,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic,
           wall_clock: Callable[[], float] = time.time) -> DeployResult:
    """Compare, plan and (unless plan_only) execute one deploy."""
    from notifyctl.release import appspec

    rep = reporter or QuietReporter()
    with rep.step(f"reading {function_name}:{alias}"):
        live = read_live(lam, function_name, alias)
        plan = plan_deploy(lam, live, package, desired, force=force, move_alias=move_alias,
                           prune_keep=prune_keep, clock=wall_clock)
    if plan_only:
        return DeployResult(function_name, alias, live.version, live.recorded_previous,
                            package.sha256_b64, package.size, plan.unchanged, plan.changes,
                            planned=tuple(s.describe() for s in plan.steps))
    result = Executor(lam, reporter=rep, sleep=sleep, clock=clock).execute(plan, desired)
    if appspec_path is not None and result.version is not None:
        current = (live.version if not plan.unchanged else result.version) or result.version
        written = appspec.write(appspec_path, function_name, alias, current, result.version)
        result.appspec = str(written)
    return result

