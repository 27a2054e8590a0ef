"""CodeDeploy for Lambda: a deployment that runs hooks, shifts an alias and rolls back.

moto stores applications, deployment groups and deployments, and a deployment stays
`Created` forever. This engine runs each Lambda deployment in its own thread, on the
emulator's clock (clock.scale: a 5-minute canary lasts 3 s at the default 0.01):

    Created -> InProgress
      (alias and versions)  the alias must point at CurrentVersion and TargetVersion
                            must exist, else Failed (INVALID_LAMBDA_CONFIGURATION)
      BeforeAllowTraffic    the hook function is invoked asynchronously with
                            {"DeploymentId", "LifecycleEventHookExecutionId"}; it must
                            report with PutLifecycleEventHookExecutionStatus within
                            1 hour (scaled); Failed or silent -> Failed
                            (HOOK_EXECUTION_FAILURE). No hook -> Skipped
      AllowTraffic          the alias's RoutingConfig.AdditionalVersionWeights moves
                            step by step (the deployment config), then the alias points
                            at TargetVersion with no routing
      AfterAllowTraffic     as BeforeAllowTraffic
                            -> Succeeded
    all along: an alarm of the group's AlarmConfiguration in ALARM -> Stopped
               (ALARM_ACTIVE); StopDeployment -> Stopped (MANUAL_STOP)

    Deployment configs (AWS's predefined ones; custom ones with CreateDeploymentConfig):
      AllAtOnce                       100% at once
      TimeBasedCanary  P% / I min     P%, wait I minutes, then 100%
      TimeBasedLinear  P% every I min P%, 2P%, ... one step every I minutes, then 100%

Rollback (AutoRollbackConfiguration with the event that ended the deployment:
DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, or DEPLOYMENT_STOP_ON_REQUEST / the
StopDeployment flag): the alias goes back to CurrentVersion with no routing, and a
rollback deployment (creator codeDeployRollback) is recorded as AWS does, linked both
ways by rollbackInfo. Only one deployment per group runs at a time: a second one is
refused with DeploymentLimitExceededException ("... already has an active Deployment").

No moto here: the server passes the ports below (patches/codedeploy.py).
"""

from __future__ import annotations

import json
import random
import string
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifyctl.emulator.clock import Clock

HOOK_TIMEOUT_S = 3600  # AWS: a hook must report within one hour
ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")
# A Lambda target's lifecycle events as GetDeploymentTarget lists them (Start and End
# are steps of the deployment, not events of the target, as in AWS's ECS example).
EVENTS = ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
HOOK_EVENTS = ("BeforeAllowTraffic", "AfterAllowTraffic")
ALARM_MESSAGE = ("One or more alarms have been activated according to the Amazon CloudWatch "
                 "metrics you selected, and the affected deployments have been stopped. "
                 "Activated alarms: {names}")


class AppSpecError(ValueError):
    """The AppSpec content is not a valid Lambda AppSpec."""


@dataclass(frozen=True)
class DeploymentConfig:
    name: str
    kind: str  # AllAtOnce | TimeBasedCanary | TimeBasedLinear | (Server configs: "Server")
    percentage: int = 100
    interval_minutes: int = 0
    compute_platform: str = "Lambda"
    config_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    create_time: float = field(default_factory=time.time)
    minimum_healthy_hosts: dict[str, Any] | None = None
    predefined: bool = False

    def steps(self) -> list[tuple[float, float]]:
        """[(weight of the target version, AWS seconds to wait after this step)]."""
        if self.kind == "TimeBasedCanary":
            return [(self.percentage / 100.0, self.interval_minutes * 60.0), (1.0, 0.0)]
        if self.kind == "TimeBasedLinear":
            steps: list[tuple[float, float]] = []
            percent = self.percentage
            while percent < 100:
                steps.append((percent / 100.0, self.interval_minutes * 60.0))
                percent += self.percentage
            return [*steps, (1.0, 0.0)]
        return [(1.0, 0.0)]

    def info(self) -> dict[str, Any]:
        """GetDeploymentConfig's deploymentConfigInfo."""
        data: dict[str, Any] = {"deploymentConfigId": self.config_id,
                                "deploymentConfigName": self.name,
                                "createTime": self.create_time,
                                "computePlatform": self.compute_platform}
        if self.minimum_healthy_hosts:
            data["minimumHealthyHosts"] = self.minimum_healthy_hosts
        if self.compute_platform == "Lambda":
            routing: dict[str, Any] = {"type": self.kind}
            if self.kind == "TimeBasedCanary":
                routing["timeBasedCanary"] = {"canaryPercentage": self.percentage,
                                              "canaryInterval": self.interval_minutes}
            elif self.kind == "TimeBasedLinear":
                routing["timeBasedLinear"] = {"linearPercentage": self.percentage,
                                              "linearInterval": self.interval_minutes}
            data["trafficRoutingConfig"] = routing
        return data


def _predefined() -> dict[str, DeploymentConfig]:
    configs = [DeploymentConfig("CodeDeployDefault.LambdaAllAtOnce", "AllAtOnce", predefined=True)]
    configs += [DeploymentConfig(f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes",
                                 "TimeBasedCanary", 10, m, predefined=True)
                for m in (5, 10, 15, 30)]
    configs += [DeploymentConfig(f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute"
                                 f"{'s' if m > 1 else ''}", "TimeBasedLinear", 10, m,
                                 predefined=True) for m in (1, 2, 3, 10)]
    for name, kind, value in (("OneAtATime", "HOST_COUNT", 1), ("HalfAtATime", "FLEET_PERCENT", 50),
                              ("AllAtOnce", "HOST_COUNT", 0)):
        configs.append(DeploymentConfig(f"CodeDeployDefault.{name}", "Server",
                                        compute_platform="Server", predefined=True,
                                        minimum_healthy_hosts={"type": kind, "value": value}))
    return {c.name: c for c in configs}


PREDEFINED = _predefined()


def config_from_request(name: str, compute_platform: str | None,
                        routing: dict[str, Any] | None, wall: float) -> DeploymentConfig:
    """A custom config from CreateDeploymentConfig's parameters (raises ValueError)."""
    if (compute_platform or "Server") != "Lambda":
        raise ValueError("only Lambda deployment configs (computePlatform Lambda) are emulated")
    routing = routing or {"type": "AllAtOnce"}
    kind = routing.get("type") or "AllAtOnce"
    if kind == "AllAtOnce":
        return DeploymentConfig(name, kind, create_time=wall)
    key = {"TimeBasedCanary": ("timeBasedCanary", "canaryPercentage", "canaryInterval"),
           "TimeBasedLinear": ("timeBasedLinear", "linearPercentage", "linearInterval")}.get(kind)
    if key is None:
        raise ValueError(f"trafficRoutingConfig.type {kind!r}: expected AllAtOnce, "
                         f"TimeBasedCanary or TimeBasedLinear")
    body = routing.get(key[0]) or {}
    try:
        percent, interval = int(body[key[1]]), int(body[key[2]])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"trafficRoutingConfig.{key[0]} needs {key[1]} and {key[2]}") from None
    if not 0 < percent < 100 or interval < 1:
        raise ValueError(f"{key[1]} must be 1-99 and {key[2]} at least 1 (minutes)")
    return DeploymentConfig(name, kind, percent, interval, create_time=wall)


@dataclass(frozen=True)
class AppSpec:
    function: str
    alias: str
    current_version: str
    target_version: str
    hooks: dict[str, str]


def parse_appspec(text: str) -> AppSpec:
    """A Lambda AppSpec (YAML or JSON, JSON being YAML) -> AppSpec; AppSpecError if not."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AppSpecError(f"the AppSpec is neither YAML nor JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise AppSpecError("the AppSpec must be a mapping with version, Resources and Hooks")
    resources = doc.get("Resources") or doc.get("resources")
    if not isinstance(resources, list) or len(resources) != 1:
        raise AppSpecError("a Lambda AppSpec's Resources names exactly one function")
    (entry,) = resources
    if not isinstance(entry, dict) or len(entry) != 1:
        raise AppSpecError("each Resources entry is {logicalName: {Type, Properties}}")
    resource = next(iter(entry.values())) or {}
    if resource.get("Type") != "AWS::Lambda::Function":
        raise AppSpecError("Resources[0].Type must be AWS::Lambda::Function")
    props = resource.get("Properties") or {}
    missing = [k for k in ("Name", "Alias", "CurrentVersion", "TargetVersion") if not props.get(k)]
    if missing:
        raise AppSpecError(f"Resources[0].Properties is missing {', '.join(missing)}")
    hooks: dict[str, str] = {}
    for item in doc.get("Hooks") or doc.get("hooks") or []:
        for event, function in (item or {}).items():
            if event not in HOOK_EVENTS:
                raise AppSpecError(f"hook {event!r}: a Lambda AppSpec has only "
                                   f"BeforeAllowTraffic and AfterAllowTraffic")
            hooks[event] = str(function)
    return AppSpec(str(props["Name"]), str(props["Alias"]), str(props["CurrentVersion"]),
                   str(props["TargetVersion"]), hooks)


def deployment_id(rng: random.Random | None = None) -> str:
    """AWS's form: d- and nine upper-case letters and digits."""
    pick = rng or random.SystemRandom()
    return "d-" + "".join(pick.choice(string.ascii_uppercase + string.digits) for _ in range(9))


@dataclass
class LifecycleEvent:
    name: str
    status: str = "Pending"
    start: float | None = None
    end: float | None = None
    diagnostics: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"lifecycleEventName": self.name, "status": self.status}
        if self.start is not None:
            data["startTime"] = self.start
        if self.end is not None:
            data["endTime"] = self.end
        if self.diagnostics:
            data["diagnostics"] = self.diagnostics
        return data


@dataclass
class Deployment:
    """One Lambda deployment's state (the source of truth; moto's record is synced)."""

    deployment_id: str
    account_id: str
    region: str
    application: str
    group: str
    config: DeploymentConfig
    revision: dict[str, Any]
    appspec: AppSpec | None
    appspec_error: str | None
    alarms: list[str]  # names to watch (empty when the alarm configuration is disabled)
    ignore_poll_alarm_failure: bool
    rollback_events: frozenset[str]  # empty when auto-rollback is disabled
    creator: str = "user"
    status: str = "Created"
    create_time: float = field(default_factory=time.time)
    start_time: float | None = None
    complete_time: float | None = None
    error: dict[str, str] | None = None
    rollback_info: dict[str, str] | None = None
    target_status: str = "Pending"
    target_weight: float = 0.0
    last_updated: float = field(default_factory=time.time)
    events: list[LifecycleEvent] = field(default_factory=lambda: [LifecycleEvent(n)
                                                                 for n in EVENTS])
    hooks: dict[str, list[str]] = field(default_factory=dict)  # exec id -> [event, status]
    stop_request: bool | None = None  # None: none; else autoRollbackEnabled (or None->group)
    stop_rollback: bool | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def event(self, name: str) -> LifecycleEvent:
        return next(e for e in self.events if e.name == name)

    @property
    def target_id(self) -> str:
        # AWS's BatchGetDeploymentTargets: Lambda target IDs are the functions' names
        return self.appspec.function if self.appspec else "unknown"

    def overview(self) -> dict[str, int]:
        counts = dict.fromkeys(("Pending", "InProgress", "Succeeded", "Failed", "Skipped",
                                "Ready"), 0)
        counts[self.target_status] = counts.get(self.target_status, 0) + 1
        return counts

    def lambda_target(self) -> dict[str, Any]:
        spec = self.appspec
        arn = (f"arn:aws:lambda:{self.region}:{self.account_id}:function:{spec.function}:"
               f"{spec.alias}") if spec else ""
        info = {"functionName": spec.function, "functionAlias": spec.alias,
                "currentVersion": spec.current_version, "targetVersion": spec.target_version,
                "targetVersionWeight": self.target_weight} if spec else {}
        return {"deploymentId": self.deployment_id, "targetId": self.target_id,
                "targetArn": arn, "status": self.target_status,
                "lastUpdatedAt": self.last_updated,
                "lifecycleEvents": [e.to_json() for e in self.events],
                "lambdaFunctionInfo": info}


class AliasPort(Protocol):
    """The alias being shifted (moto's Lambda backend in the emulator)."""

    def alias_version(self, account_id: str, region: str, function: str,
                      alias: str) -> str | None: ...
    def version_exists(self, account_id: str, region: str, function: str,
                       version: str) -> bool: ...
    def route(self, account_id: str, region: str, function: str, alias: str, version: str,
              weights: dict[str, float]) -> None: ...


class AlarmPort(Protocol):
    def states(self, account_id: str, region: str, names: list[str]) -> dict[str, str | None]: ...


class HookInvoker(Protocol):
    def invoke(self, account_id: str, region: str, function: str, payload: str) -> None: ...


class DeploymentSink(Protocol):
    """Keeps moto's deployment records in step (ListDeployments filters on them)."""

    def register(self, deployment: Deployment) -> None: ...
    def sync(self, deployment: Deployment) -> None: ...


class _Interrupted(Exception):
    """The deployment ended early (stopped, failed); already recorded."""


@dataclass
class CodeDeployEngine:
    aliases: AliasPort
    alarms: AlarmPort
    hooks: HookInvoker
    sink: DeploymentSink
    clock: Clock
    wall: Callable[[], float] = time.time
    poll_s: float = 0.02  # real seconds between alarm / stop checks (at least)
    _deployments: dict[str, Deployment] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False

    # -- API --------------------------------------------------------------------------
    def get(self, deployment_id: str) -> Deployment | None:
        with self._cond:
            return self._deployments.get(deployment_id)

    def active_in_group(self, account_id: str, region: str, application: str,
                        group: str) -> Deployment | None:
        with self._cond:
            return next((d for d in self._deployments.values()
                         if (d.account_id, d.region, d.application, d.group)
                         == (account_id, region, application, group) and d.active), None)

    def start(self, deployment: Deployment) -> None:
        """Run `deployment` in its own thread."""
        with self._cond:
            self._deployments[deployment.deployment_id] = deployment
        threading.Thread(target=self._run, args=(deployment,), daemon=True,
                         name=f"deploy-{deployment.deployment_id}").start()

    def run(self, deployment: Deployment) -> Deployment:
        """Run `deployment` to its end in the calling thread (tests, tools)."""
        with self._cond:
            self._deployments[deployment.deployment_id] = deployment
        self._run(deployment)
        return deployment

    def report_hook(self, deployment_id: str, execution_id: str, status: str) -> str:
        """PutLifecycleEventHookExecutionStatus. Returns '' or an error name."""
        with self._cond:
            d = self._deployments.get(deployment_id)
            if d is None:
                return "DeploymentDoesNotExistException"
            if status not in ("Succeeded", "Failed"):
                return "InvalidLifecycleEventHookExecutionStatusException"
            hook = d.hooks.get(execution_id)
            if hook is None:
                return "InvalidLifecycleEventHookExecutionIdException"
            if hook[1] != "Pending":
                return "LifecycleEventAlreadyCompletedException"
            hook[1] = status
            self._cond.notify_all()
            return ""

    def stop(self, deployment_id: str, auto_rollback: bool | None) -> str:
        """StopDeployment. Returns '' or an error name."""
        with self._cond:
            d = self._deployments.get(deployment_id)
            if d is None:
                return "DeploymentDoesNotExistException"
            if not d.active:
                return "DeploymentAlreadyCompletedException"
            d.stop_request, d.stop_rollback = True, auto_rollback
            self._cond.notify_all()
            return ""

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- persistence (emulator/state.py) ------------------------------------------------
    def saved(self) -> list[Deployment]:
        with self._cond:
            return list(self._deployments.values())

    def restore(self, deployments: list[Deployment]) -> None:
        """Deployments from a snapshot. One that was running when the emulator stopped
        cannot go on (its thread is gone): it ends Failed (INTERNAL_ERROR, the code this
        engine gives its own failures) and rolls back when the group says so."""
        with self._cond:
            self._deployments.update({d.deployment_id: d for d in deployments})
        for d in deployments:
            if d.active:
                self._end(d, "Failed", "INTERNAL_ERROR",
                          "The emulator stopped during this deployment.", "DEPLOYMENT_FAILURE")

    def clear(self) -> None:
        with self._cond:
            self._deployments.clear()

    # -- the run ----------------------------------------------------------------------
    def _run(self, d: Deployment) -> None:
        try:
            self._begin(d)
            self._check_target(d)
            self._hook(d, "BeforeAllowTraffic")
            self._allow_traffic(d)
            self._hook(d, "AfterAllowTraffic")
            with self._cond:
                d.status, d.target_status, d.complete_time = "Succeeded", "Succeeded", self.wall()
                d.last_updated = d.complete_time
            self.sink.sync(d)
        except _Interrupted:
            pass
        except Exception as exc:  # noqa: BLE001 - an engine bug fails the deployment
            print(f"emulator: deployment {d.deployment_id} crashed: {exc!r}", file=sys.stderr,
                  flush=True)
            self._end(d, "Failed", "INTERNAL_ERROR", str(exc), "DEPLOYMENT_FAILURE")

    def _begin(self, d: Deployment) -> None:
        with self._cond:
            d.status, d.start_time, d.target_status = "InProgress", self.wall(), "InProgress"
            d.last_updated = d.start_time
        self.sink.sync(d)

    def _mark(self, d: Deployment, event: str, status: str, *, start: bool = False,
              diagnostics: dict[str, str] | None = None) -> None:
        now = self.wall()
        e = d.event(event)
        if start and e.start is None:
            e.start = now
        e.status = status
        if status in ("Succeeded", "Failed", "Skipped"):
            e.end = now
        if diagnostics:
            e.diagnostics = diagnostics
        d.last_updated = now

    def _check_target(self, d: Deployment) -> None:
        if d.appspec is None:
            self._end(d, "Failed", "INVALID_REVISION", d.appspec_error or "invalid AppSpec",
                      "DEPLOYMENT_FAILURE")
            raise _Interrupted
        spec = d.appspec
        current = self.aliases.alias_version(d.account_id, d.region, spec.function, spec.alias)
        if current is None:
            self._end(d, "Failed", "INVALID_LAMBDA_FUNCTION",
                      f"The alias {spec.alias} of function {spec.function} does not exist.",
                      "DEPLOYMENT_FAILURE")
            raise _Interrupted
        if current != spec.current_version:
            self._end(d, "Failed", "INVALID_LAMBDA_CONFIGURATION",
                      f"The current version of alias {spec.alias} is {current}, but the version "
                      f"specified in the AppSpec file is {spec.current_version}.",
                      "DEPLOYMENT_FAILURE")
            raise _Interrupted
        if not self.aliases.version_exists(d.account_id, d.region, spec.function,
                                           spec.target_version):
            self._end(d, "Failed", "INVALID_LAMBDA_CONFIGURATION",
                      f"The target version {spec.target_version} of function {spec.function} "
                      f"does not exist.", "DEPLOYMENT_FAILURE")
            raise _Interrupted
        self._watch(d, 0.0)

    def _hook(self, d: Deployment, event: str) -> None:
        assert d.appspec is not None
        function = d.appspec.hooks.get(event)
        if function is None:
            with self._cond:
                self._mark(d, event, "Skipped", start=True)
            return
        execution_id = str(uuid.uuid4())
        with self._cond:
            d.hooks[execution_id] = [event, "Pending"]
            self._mark(d, event, "InProgress", start=True)
        self.sink.sync(d)
        payload = json.dumps({"DeploymentId": d.deployment_id,
                              "LifecycleEventHookExecutionId": execution_id})
        try:
            self.hooks.invoke(d.account_id, d.region, function, payload)
        except Exception as exc:  # noqa: BLE001 - the hook could not be invoked
            self._hook_failed(d, event, f"The {event} hook function {function} could not "
                                        f"be invoked: {exc}")
        deadline = time.monotonic() + self.clock.scale(HOOK_TIMEOUT_S)
        while True:
            with self._cond:
                status = d.hooks[execution_id][1]
            if status == "Succeeded":
                with self._cond:
                    self._mark(d, event, "Succeeded")
                self.sink.sync(d)
                return
            if status == "Failed":
                self._hook_failed(d, event, f"The {event} hook {function} reported Failed.")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self._cond:
                    d.hooks[execution_id][1] = "Failed"
                self._hook_failed(d, event, f"The {event} hook {function} did not report a "
                                            f"status within {HOOK_TIMEOUT_S // 60} minutes.")
            self._watch(d, min(remaining, self.poll_s), wake_on_report=True)

    def _hook_failed(self, d: Deployment, event: str, message: str) -> None:
        with self._cond:
            self._mark(d, event, "Failed", diagnostics={"errorCode": "UnknownError",
                                                       "message": message})
        self._end(d, "Failed", "HOOK_EXECUTION_FAILURE", message, "DEPLOYMENT_FAILURE")
        raise _Interrupted

    def _allow_traffic(self, d: Deployment) -> None:
        assert d.appspec is not None
        spec = d.appspec
        with self._cond:
            self._mark(d, "AllowTraffic", "InProgress", start=True)
        for weight, wait_s in d.config.steps():
            if weight >= 1.0:
                self.aliases.route(d.account_id, d.region, spec.function, spec.alias,
                                   spec.target_version, {})
            else:
                self.aliases.route(d.account_id, d.region, spec.function, spec.alias,
                                   spec.current_version, {spec.target_version: weight})
            with self._cond:
                d.target_weight = weight
                d.last_updated = self.wall()
            self.sink.sync(d)
            self._watch(d, self.clock.scale(wait_s))
        with self._cond:
            self._mark(d, "AllowTraffic", "Succeeded")

    def _watch(self, d: Deployment, real_seconds: float, *, wake_on_report: bool = False) -> None:
        """Wait `real_seconds`, checking alarms and stop requests; _Interrupted if either."""
        deadline = time.monotonic() + real_seconds
        while True:
            with self._cond:
                if self._closed:
                    raise _Interrupted
                stop, rollback = d.stop_request, d.stop_rollback
            if stop:
                self._end(d, "Stopped", "MANUAL_STOP", "The deployment was stopped by the user.",
                          "DEPLOYMENT_STOP_ON_REQUEST", rollback)
                raise _Interrupted
            firing = self._firing(d)
            if firing:
                self._end(d, "Stopped", "ALARM_ACTIVE",
                          ALARM_MESSAGE.format(names=", ".join(firing)),
                          "DEPLOYMENT_STOP_ON_ALARM")
                raise _Interrupted
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self._cond:
                self._cond.wait(min(remaining, max(self.poll_s, self.clock.scale(1))))
            if wake_on_report:
                return

    def _firing(self, d: Deployment) -> list[str]:
        if not d.alarms:
            return []
        states = self.alarms.states(d.account_id, d.region, d.alarms)
        return [name for name in d.alarms if states.get(name) == "ALARM"]

    def _end(self, d: Deployment, status: str, code: str, message: str, event: str,
             rollback: bool | None = None) -> None:
        """Finish `d` as Failed/Stopped, then roll back if configured for `event`."""
        now = self.wall()
        with self._cond:
            if not d.active:
                return
            for e in d.events:
                if e.status == "InProgress":
                    e.status, e.end = "Failed", now
                elif e.status == "Pending":
                    e.status = "Skipped"
            d.status, d.error, d.complete_time = status, {"code": code, "message": message}, now
            d.target_status, d.last_updated = "Failed", now
        roll = (event in d.rollback_events) if rollback is None else rollback
        if roll and d.appspec is not None:
            self._rollback(d, message)
        self.sink.sync(d)

    def _rollback(self, d: Deployment, why: str) -> None:
        spec = d.appspec
        assert spec is not None
        try:
            self.aliases.route(d.account_id, d.region, spec.function, spec.alias,
                               spec.current_version, {})
        except Exception as exc:  # noqa: BLE001 - reported on the deployment, not raised
            with self._cond:
                d.rollback_info = {"rollbackMessage": f"Rollback failed: {exc}"}
            return
        now = self.wall()
        back = AppSpec(spec.function, spec.alias, spec.target_version, spec.current_version, {})
        rb = Deployment(
            deployment_id=deployment_id(), account_id=d.account_id, region=d.region,
            application=d.application, group=d.group, config=PREDEFINED[
                "CodeDeployDefault.LambdaAllAtOnce"], revision=d.revision, appspec=back,
            appspec_error=None, alarms=[], ignore_poll_alarm_failure=True,
            rollback_events=frozenset(), creator="codeDeployRollback", status="Succeeded",
            create_time=now, start_time=now, complete_time=now, target_status="Succeeded",
            target_weight=1.0,
            rollback_info={"rollbackTriggeringDeploymentId": d.deployment_id,
                           "rollbackMessage": f"Rollback of deployment {d.deployment_id}."})
        for e in rb.events:
            e.status, e.start, e.end = ("Skipped" if e.name in HOOK_EVENTS else "Succeeded",
                                        now, now)
        with self._cond:
            self._deployments[rb.deployment_id] = rb
            d.rollback_info = {"rollbackDeploymentId": rb.deployment_id,
                               "rollbackMessage": f"Deployment {d.deployment_id} was rolled "
                                                  f"back by deployment {rb.deployment_id}: {why}"}
        self.sink.register(rb)
