"""Deploying the notifier function: compare, plan, execute.

1. Build (no AWS calls): the reproducible package (`release.package`).
2. Compare and plan (read calls only): what the `live` alias points at now —
   get_alias, then get_function_configuration(Qualifier=<that version>) — is
   compared with the package's CodeSha256 and the managed configuration. Never a
   local cache: a deploy that failed half-way is seen as not deployed. The plan
   is a short list of frozen steps.
3. Execute: the steps are `plans.model` Steps of ApiCalls, carried out by the
   same `plans.executor.Executor` as bootstrap's (one waiter, one reporter
   protocol). `--plan` lists the same steps and calls nothing.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifyctl.aws.calls import LAMBDA_NOT_FOUND, get_or_none
from notifyctl.errors import OperationError, UsageError
from notifyctl.plans.executor import Executor, Reporter
from notifyctl.plans.model import CODE, CREATE, UPDATE, ApiCall, OnError, Plan, Step, Var
from notifyctl.plans.waits import FUNCTION_STATE_TIMEOUT_S
from notifyctl.release import versions as history
from notifyctl.release.deployments import DEPLOYMENT, Target
from notifyctl.release.function_spec import FunctionConfig
from notifyctl.release.package import MAX_DIRECT_UPLOAD_BYTES, Package
from notifyctl.release.versions import missing_function_error

WAIT_TIMEOUT_S = FUNCTION_STATE_TIMEOUT_S
# Step resources (the same kinds as bootstrap's plan where they are the same thing).
FUNCTION = "lambda-function"
ALIAS = "lambda-alias"
VERSIONS = "lambda-versions"
NEW_VERSION = "version"
VERSIONS_BEFORE = "versions_before"
PRUNED = "pruned"


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


def read_live(lam: Any, function_name: str, alias: str) -> LiveState:
    """Two read calls: the alias, then the configuration of its version."""
    got = get_or_none(lam.get_alias, *LAMBDA_NOT_FOUND, FunctionName=function_name, Name=alias)
    if got is None:
        if get_or_none(lam.get_function_configuration, *LAMBDA_NOT_FOUND,
                       FunctionName=function_name) is None:
            raise missing_function_error(function_name)
        return LiveState(function_name, alias, alias_exists=False)
    version = str(got["FunctionVersion"])
    config = get_or_none(lam.get_function_configuration, *LAMBDA_NOT_FOUND,
                         FunctionName=function_name, Qualifier=version)
    if config is None:
        raise OperationError(
            f"The alias {alias} points at version {version} of {function_name}, "
            "which does not exist.",
            hint="Point it at an existing version with `notifyctl rollback --to-version N`.")
    return LiveState(function_name, alias, True, version, dict(config), got.get("RevisionId"),
                     got.get("Description") or "")


# ------------------------------------------------------------------ plan
CONFLICT_HINT = ("Another update of the function is in progress; deploy again when it has "
                 "finished.")


def _refused(code: str = "ResourceConflictException") -> OnError:
    return OnError(code, "Lambda refused the change: {error}", hint=CONFLICT_HINT)


def _step(fn: str, summary: str, *calls: ApiCall, resource: str = FUNCTION,
          action: str = UPDATE) -> Step:
    return Step(action, resource, fn, calls=calls, summary=summary)


def _wait(fn: str, reason: str, *, settled: bool = False) -> Step:
    return _step(fn, f"wait for {reason}",
                 ApiCall("wait", "function_settled" if settled else "function_updated",
                         {"FunctionName": fn}))


@dataclass(frozen=True)
class DeployPlan:
    function_name: str
    alias: str
    package: Package = field(repr=False)
    live: LiveState
    changes: tuple[str, ...]  # what differs from the live version
    plan: Plan

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.plan.steps

    @property
    def unchanged(self) -> bool:
        return not any(c.method == "publish_version" for s in self.steps for c in s.calls)


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
                clock: Callable[[], float] = time.time,
                deployment: Target | None = None,
                companions: tuple[str, ...] = ()) -> DeployPlan:
    """The steps that bring `live` to this package and configuration.

    Reads $LATEST (one more call) only when something changed. With a CodeDeploy
    `deployment` target (a strategy other than all-at-once), the last step starts a
    deployment that shifts the alias instead of moving it (not for a first deploy:
    there is no current version to shift from).
    """
    fn = live.function_name
    sha = package.sha256_b64
    changes = live_changes(live, package, desired)
    steps: list[Step] = []
    if changes or force:
        if package.size > MAX_DIRECT_UPLOAD_BYTES:
            raise UsageError(f"the package is {package.size:,} bytes; Lambda takes at most "
                             f"{MAX_DIRECT_UPLOAD_BYTES:,} in a direct upload")
        latest = lam.get_function_configuration(FunctionName=fn)
        if latest.get("State") == "Pending" or latest.get("LastUpdateStatus") == "InProgress":
            steps.append(_wait(fn, "an update already in progress", settled=True))
        # $LATEST may already hold this code (e.g. after a rollback): no upload then.
        if latest.get("CodeSha256") != sha:
            steps.append(_step(fn, f"upload code ({package.size:,} bytes, CodeSha256 {sha})",
                               ApiCall("lambda", "update_function_code",
                                       {"FunctionName": fn, "ZipFile": CODE},
                                       errors=(_refused(),), expect={"CodeSha256": sha})))
            steps.append(_wait(fn, "the code update"))
        config_changes = tuple(desired.differences(latest))
        params = dict(desired.as_api()) if config_changes else {}
        if force:
            stamp = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            params = {**params, "Description": f"notifyctl deploy --force {stamp}"}
        if params:
            names = config_changes + (("Description",) if force else ())
            steps.append(_step(fn, "update configuration (" + ", ".join(names) + ")",
                               ApiCall("lambda", "update_function_configuration",
                                       {"FunctionName": fn, **params},
                                       errors=(_refused(),))))
            steps.append(_wait(fn, "the configuration update"))
        # Lambda may hand back an existing version (nothing changed since it was
        # published); it is still the right one if its code and configuration match.
        wanted = {k: v for k, v in desired.as_api().items()}
        steps.append(_step(fn, f"publish a version (expecting CodeSha256 {sha})", ApiCall(
            # PublishVersion may hand back a version that existed (e.g. one an earlier
            # --publish-only made): what exists now tells whether it published.
            "release", "published_versions", {"FunctionName": fn}, output=VERSIONS_BEFORE,
        ), ApiCall(
            "lambda", "publish_version",
            {"FunctionName": fn, "CodeSha256": sha,
             "Description": history.deploy_version_description(live.version, sha,
                                                               force=force)},
            output=NEW_VERSION, output_key="Version",
            errors=(_refused(), OnError(
                "PreconditionFailedException",
                f"$LATEST of {fn} changed while deploying (someone else deployed?); "
                "nothing was published.", hint="Deploy again.")),
            expect={"CodeSha256": sha, **wanted})))
        if move_alias and deployment is not None and live.alias_exists and live.version:
            # The hooks are released with the function: they test it with this code.
            for _event, hook in deployment.hooks:
                steps.append(_step(hook, f"upload code to the hook {hook}", ApiCall(
                    "lambda", "update_function_code", {"FunctionName": hook, "ZipFile": CODE},
                    errors=(_refused(),), expect={"CodeSha256": sha})))
                steps.append(_wait(hook, f"the hook {hook}'s code update"))
            steps.append(_start_deployment(live, deployment))
        elif move_alias:
            steps.append(_move_alias(live))
    if move_alias:
        steps += _companion_steps(lam, companions, package)
    if prune_keep is not None:
        steps.append(_step(fn, f"delete versions beyond the newest {prune_keep} (never an "
                               "aliased one)",
                           ApiCall("release", "prune", {"FunctionName": fn, "keep": prune_keep},
                                   output=PRUNED), resource=VERSIONS))
    return DeployPlan(fn, live.alias, package, live, changes, Plan(tuple(steps)))


def _companion_steps(lam: Any, companions: tuple[str, ...], package: Package) -> list[Step]:
    """Functions built from the same package with another handler (the SES feedback
    function) run $LATEST: one release ships them the code `live` now serves, after
    the alias moved. One missing (not bootstrapped yet) is skipped; one already on
    this code needs nothing."""
    from notifyctl.aws.calls import LAMBDA_NOT_FOUND, get_or_none

    sha = package.sha256_b64
    steps: list[Step] = []
    for name in companions:
        conf = get_or_none(lam.get_function_configuration, *LAMBDA_NOT_FOUND, FunctionName=name)
        if conf is None or conf.get("CodeSha256") == sha:
            continue
        steps.append(_step(name, f"upload code to {name} (same package)", ApiCall(
            "lambda", "update_function_code", {"FunctionName": name, "ZipFile": CODE},
            errors=(_refused(),), expect={"CodeSha256": sha})))
        steps.append(_wait(name, f"{name}'s code update"))
    return steps


def _move_alias(live: LiveState) -> Step:
    """Point the alias at the version the publish step answered; the alias's
    description records where it pointed before (for `rollback`)."""
    fn, alias = live.function_name, live.alias
    description = history.alias_description("deploy", live.version)
    if not live.alias_exists:
        return _step(fn, f"create alias {alias} -> the new version", ApiCall(
            "lambda", "create_alias", {"FunctionName": fn, "Name": alias,
                                       "FunctionVersion": Var(NEW_VERSION),
                                       "Description": description}),
            resource=ALIAS, action=CREATE)
    params: dict[str, Any] = {"FunctionName": fn, "Name": alias,
                              "FunctionVersion": Var(NEW_VERSION), "Description": description,
                              # RoutingConfig={} clears a weighted alias: live is all-at-once.
                              "RoutingConfig": {}}
    if live.alias_revision:
        params["RevisionId"] = live.alias_revision
    return _step(fn, f"move alias {alias}: {live.version} -> the new version", ApiCall(
        "lambda", "update_alias", params, errors=(OnError(
            "PreconditionFailedException",
            f"The alias {alias} moved while deploying; version {{{NEW_VERSION}}} is published "
            "but not live.", hint="Check `notifyctl versions`, then deploy again."),)),
        resource=ALIAS)


def _start_deployment(live: LiveState, target: Target) -> Step:
    fn, alias = live.function_name, live.alias
    return _step(fn, f"start a CodeDeploy deployment ({target.config}): {alias} "
                     f"{live.version} -> the new version", ApiCall(
        "release", "start_deployment", {
            "FunctionName": fn, "Alias": alias, "CurrentVersion": live.version,
            "TargetVersion": Var(NEW_VERSION), "RevisionId": live.alias_revision,
            "Application": target.application, "Group": target.group,
            "Config": target.config, "Hooks": dict(target.hooks)},
        output=DEPLOYMENT), resource=ALIAS)


# ------------------------------------------------------------------ execute
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
    deployment_id: str | None = None  # the CodeDeploy deployment shifting the alias
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
        if self.deployment_id:
            data["deployment_id"] = self.deployment_id
        return data


def execute(lam: Any, plan: DeployPlan, *, reporter: Reporter | None = None,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic,
            wait_timeout: float = WAIT_TIMEOUT_S, codedeploy: Any = None) -> DeployResult:
    """Carry a deploy plan out with the shared executor; errors rise unchanged (each
    says whether anything was published or moved)."""
    from notifyctl.release import deployments

    live = plan.live
    executor = Executor(lambda _service: lam, code=lambda: plan.package.data, sleep=sleep,
                        clock=clock, reporter=reporter, resume_hint=None,
                        wait_timeout=wait_timeout,
                        handlers={"release.prune": lambda p: history.prune(
                                      lam, p["FunctionName"], p["keep"]),
                                  "release.published_versions": lambda p: _published_versions(
                                      lam, p["FunctionName"]),
                                  "release.start_deployment": lambda p: deployments.start(
                                      lam, codedeploy, p)})
    done = executor.execute(plan.plan)
    result = DeployResult(plan.function_name, plan.alias, live.version, live.recorded_previous,
                          plan.package.sha256_b64, plan.package.size, plan.unchanged,
                          plan.changes)
    if NEW_VERSION in done.outputs:
        result.version = str(done.outputs[NEW_VERSION])
        result.reused_version = result.version in done.outputs.get(VERSIONS_BEFORE, set())
        result.previous_version = live.version
    result.deployment_id = done.outputs.get(DEPLOYMENT)
    result.alias_moved = result.deployment_id is None and any(
        s.resource == ALIAS for s in done.applied)
    result.pruned = done.outputs.get(PRUNED)
    return result


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
           wall_clock: Callable[[], float] = time.time,
           deployment: Target | None = None, codedeploy: Any = None,
           wait_timeout: float = WAIT_TIMEOUT_S,
           companions: tuple[str, ...] = ()) -> DeployResult:
    """Compare, plan and (unless plan_only) execute one deploy. With a `deployment`
    target, CodeDeploy shifts the alias: the result carries the deployment's id
    (follow it with `release.watch`). `companions` (the SES feedback function) get
    this package's code in the same release (plan_deploy)."""
    from notifyctl.release import appspec

    if reporter is not None:
        reporter.waiting(f"reading {function_name}:{alias}")
    live = read_live(lam, function_name, alias)
    plan = plan_deploy(lam, live, package, desired, force=force, move_alias=move_alias,
                       prune_keep=prune_keep, clock=wall_clock, deployment=deployment,
                       companions=companions)
    if plan_only:
        return DeployResult(function_name, alias, live.version, live.recorded_previous,
                            package.sha256_b64, package.size, plan.unchanged, plan.changes,
                            planned=tuple(s.title for s in plan.steps))
    result = execute(lam, plan, reporter=reporter, sleep=sleep, clock=clock,
                     codedeploy=codedeploy, wait_timeout=wait_timeout)
    if appspec_path is not None and result.version is not None:
        current = (live.version if not plan.unchanged else result.version) or result.version
        written = appspec.write(appspec_path, function_name, alias, current, result.version)
        result.appspec = str(written)
    return result
