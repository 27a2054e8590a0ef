"""Watching a CodeDeploy Lambda deployment: one snapshot per poll, a callback per change.

A `Snapshot` is what the operator sees (the CLI renders it; `--output json` prints
its `to_dict()`): the deployment's status, the traffic split read from the alias
itself, the lifecycle hooks' states, the group's alarms' states, errors and
invocations per version since the deployment was created, and the time left.
Read calls only (GetDeployment, GetAlias, ListDeploymentTargets/BatchGetDeploymentTargets,
DescribeAlarms, GetMetricStatistics, GetDeploymentConfig), so watching never changes
anything and several people may watch one deployment.

Time left is the config's planned shift (canary interval, or every linear step)
minus the time since the deployment started, in AWS time: `time_scale` is the
emulator's (real seconds per AWS second, 1.0 on AWS).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifyctl.aws.calls import get_or_none
from notifyctl.errors import EXIT_INTERRUPTED, NotifyctlError, OperationError

TERMINAL = ("Succeeded", "Failed", "Stopped")
POLL_S = 0.5
HOOKS = ("BeforeAllowTraffic", "AfterAllowTraffic")
NOT_STARTED = ("DeploymentNotStartedException",)


@dataclass(frozen=True)
class Hook:
    name: str
    status: str  # Pending, InProgress, Succeeded, Failed, Skipped, Unknown

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status}


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA, missing
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class VersionTraffic:
    version: str
    weight: float          # share of the alias's traffic, 0..1
    invocations: int       # since the deployment was created, through the alias
    errors: int

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "weight": round(self.weight, 4),
                "invocations": self.invocations, "errors": self.errors}


@dataclass(frozen=True)
class Snapshot:
    deployment_id: str
    status: str
    config: str
    application: str
    group: str
    function: str
    alias: str
    current_version: str
    target_version: str
    traffic: tuple[VersionTraffic, ...] = ()
    hooks: tuple[Hook, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    time_left_s: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    rollback_deployment_id: str | None = None
    created: datetime | None = field(default=None, compare=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def weight(self, version: str) -> float:
        return next((t.weight for t in self.traffic if t.version == version), 0.0)

    @property
    def alarms_firing(self) -> tuple[Alarm, ...]:
        return tuple(a for a in self.alarms if a.state == "ALARM")

    @property
    def hooks_failed(self) -> tuple[Hook, ...]:
        return tuple(h for h in self.hooks if h.status == "Failed")

    def change_key(self) -> tuple[Any, ...]:
        """What counts as a change worth a new line (not the time left ticking)."""
        return (self.status, self.traffic, self.hooks, self.alarms, self.error_code)

    def reason(self) -> str:
        """Why a deployment did not succeed, in one line."""
        parts = [f"{self.status}"]
        if self.error_code:
            parts.append(f"{self.error_code}: {self.error_message or ''}".rstrip(": "))
        if self.alarms_firing:
            parts.append("alarm(s) " + ", ".join(a.name for a in self.alarms_firing))
        if self.hooks_failed:
            parts.append("hook(s) " + ", ".join(h.name for h in self.hooks_failed) + " failed")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id, "status": self.status,
            "config": self.config, "application": self.application, "group": self.group,
            "function": self.function, "alias": self.alias,
            "current_version": self.current_version, "target_version": self.target_version,
            "traffic": [t.to_dict() for t in self.traffic],
            "hooks": [h.to_dict() for h in self.hooks],
            "alarms": [a.to_dict() for a in self.alarms],
            "time_left_s": None if self.time_left_s is None else round(self.time_left_s, 1),
            "error": ({"code": self.error_code, "message": self.error_message}
                      if self.error_code else None),
            "rollback_deployment_id": self.rollback_deployment_id,
        }


@dataclass(frozen=True)
class AppSpecTarget:
    function: str
    alias: str
    current_version: str
    target_version: str


def appspec_target(content: str) -> AppSpecTarget:
    """The Lambda resource of an AppSpec (YAML or JSON: YAML reads both)."""
    import yaml

    doc = yaml.safe_load(content) or {}
    for resource in doc.get("Resources") or doc.get("resources") or []:
        for body in resource.values():
            props = body.get("Properties") or body.get("properties") or {}
            return AppSpecTarget(str(props.get("Name", "")), str(props.get("Alias", "")),
                                 str(props.get("CurrentVersion", "")),
                                 str(props.get("TargetVersion", "")))
    return AppSpecTarget("", "", "", "")


def _planned_shift_s(cd: Any, config_name: str) -> float | None:
    """How long the config's traffic shift lasts, in AWS seconds (0 for all-at-once)."""
    got = get_or_none(cd.get_deployment_config, "DeploymentConfigDoesNotExistException",
                      deploymentConfigName=config_name)
    if got is None:
        return None
    routing = got["deploymentConfigInfo"].get("trafficRoutingConfig") or {}
    if routing.get("type") == "TimeBasedCanary":
        return float(routing["timeBasedCanary"]["canaryInterval"]) * 60
    if routing.get("type") == "TimeBasedLinear":
        linear = routing["timeBasedLinear"]
        steps = max(1, -(-100 // int(linear["linearPercentage"])) - 1)
        return float(linear["linearInterval"]) * 60 * steps
    return 0.0


class Watcher:
    """Reads snapshots of one deployment. Clients are passed in; `now` is wall time."""

    def __init__(self, client: Callable[[str], Any], deployment_id: str, *,
                 time_scale: float = 1.0, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self.deployment_id = deployment_id
        self.time_scale = time_scale
        self.now = now
        self._alarm_names: tuple[str, ...] | None = None
        self._shift_s: float | None = None
        self._shift_read = False

    def snapshot(self) -> Snapshot:
        cd = self._client("codedeploy")
        info = cd.get_deployment(deploymentId=self.deployment_id)["deploymentInfo"]
        revision = info.get("revision") or {}
        content = ((revision.get("appSpecContent") or revision.get("string") or {})
                   .get("content") or "")
        target = appspec_target(content)
        if self._alarm_names is None:
            group = cd.get_deployment_group(applicationName=info["applicationName"],
                                            deploymentGroupName=info["deploymentGroupName"])
            alarm_cfg = group["deploymentGroupInfo"].get("alarmConfiguration") or {}
            self._alarm_names = tuple(a["name"] for a in alarm_cfg.get("alarms") or []
                                      if alarm_cfg.get("enabled"))
        error = info.get("errorInformation") or {}
        created = info.get("createTime")
        return Snapshot(
            deployment_id=self.deployment_id, status=info.get("status", "Unknown"),
            config=info.get("deploymentConfigName", ""),
            application=info.get("applicationName", ""),
            group=info.get("deploymentGroupName", ""),
            function=target.function, alias=target.alias,
            current_version=target.current_version, target_version=target.target_version,
            traffic=self._traffic(target, created),
            hooks=self._hooks(cd),
            alarms=self._alarms(self._alarm_names),
            time_left_s=self._time_left(cd, info),
            error_code=error.get("code"), error_message=error.get("message"),
            rollback_deployment_id=(info.get("rollbackInfo") or {}).get(
                "rollbackDeploymentId"),
            created=created)

    # ------------------------------------------------------------ parts
    def _traffic(self, target: AppSpecTarget, created: datetime | None
                 ) -> tuple[VersionTraffic, ...]:
        if not target.function:
            return ()
        alias = self._client("lambda").get_alias(FunctionName=target.function,
                                                 Name=target.alias)
        extra = {str(v): float(w) for v, w in
                 ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
                  ).items()}
        weights = {str(alias["FunctionVersion"]): 1.0 - sum(extra.values()), **extra}
        versions = [v for v in (target.current_version, target.target_version) if v]
        versions += [v for v in weights if v not in versions]
        since = (created or datetime.now(UTC)) - timedelta(minutes=1)
        return tuple(VersionTraffic(v, weights.get(v, 0.0),
                                    *self._counts(target, v, since)) for v in versions)

    def _counts(self, target: AppSpecTarget, version: str, since: datetime) -> tuple[int, int]:
        cw = self._client("cloudwatch")
        dims = [{"Name": "FunctionName", "Value": target.function},
                {"Name": "Resource", "Value": f"{target.function}:{target.alias}"},
                {"Name": "ExecutedVersion", "Value": version}]
        end = datetime.now(UTC) + timedelta(minutes=1)
        out = []
        for metric in ("Invocations", "Errors"):
            got = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric,
                                           Dimensions=dims, StartTime=since, EndTime=end,
                                           Period=60, Statistics=["Sum"])
            out.append(int(sum(p.get("Sum", 0) for p in got.get("Datapoints", []))))
        return out[0], out[1]

    def _hooks(self, cd: Any) -> tuple[Hook, ...]:
        got = get_or_none(cd.list_deployment_targets, *NOT_STARTED,
                          deploymentId=self.deployment_id)
        ids = (got or {}).get("targetIds") or []
        if not ids:
            return tuple(Hook(h, "Pending") for h in HOOKS)
        targets = cd.batch_get_deployment_targets(deploymentId=self.deployment_id,
                                                  targetIds=ids[:1]).get("deploymentTargets")
        events = ((targets or [{}])[0].get("lambdaTarget") or {}).get("lifecycleEvents") or []
        states = {e["lifecycleEventName"]: e.get("status", "Unknown") for e in events}
        return tuple(Hook(h, states.get(h, "Pending")) for h in HOOKS)

    def _alarms(self, names: tuple[str, ...]) -> tuple[Alarm, ...]:
        if not names:
            return ()
        got = self._client("cloudwatch").describe_alarms(AlarmNames=list(names))
        found = {a["AlarmName"]: a for a in got.get("MetricAlarms", [])}
        return tuple(Alarm(n, found[n].get("StateValue", "?"), found[n].get("StateReason", ""))
                     if n in found else Alarm(n, "missing") for n in names)

    def _time_left(self, cd: Any, info: dict[str, Any]) -> float | None:
        if info.get("status") in TERMINAL:
            return 0.0
        if not self._shift_read:
            self._shift_s = _planned_shift_s(cd, info.get("deploymentConfigName", ""))
            self._shift_read = True
        start = info.get("startTime")
        if self._shift_s is None or start is None:
            return self._shift_s
        elapsed_real = self.now() - start.timestamp()
        return max(0.0, self._shift_s - elapsed_real / self.time_scale)


class Detached(NotifyctlError):
    """The operator stopped watching (Ctrl-C); the deployment goes on. Exit 130."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, deployment_id: str, snapshot: Snapshot | None) -> None:
        status = snapshot.status if snapshot else "unknown"
        super().__init__(
            f"detached from deployment {deployment_id} ({status}); it goes on without you",
            hint=f"Resume watching: notifyctl deployments watch {deployment_id}   "
                 f"Stop it with rollback: notifyctl deployments stop {deployment_id}")
        self.deployment_id = deployment_id
        self.snapshot = snapshot


def outcome(snapshot: Snapshot, details: list[str] | None = None) -> None:
    """Raise the release's failure (exit 1) unless it succeeded; `details` (a failed
    hook's log lines) follow the reason, one per line."""
    if snapshot.succeeded:
        return
    where = f"{snapshot.function}:{snapshot.alias}"
    lines = "".join(f"\n  {line}" for line in details or [])
    raise OperationError(
        f"deployment {snapshot.deployment_id} {snapshot.reason()}; {where} stays at "
        f"version {snapshot.current_version} (version {snapshot.target_version} received no "
        f"more traffic){lines}",
        hint=f"Details: notifyctl deployments show {snapshot.deployment_id}")


def hook_log_lines(logs: Any, snapshot: Snapshot, hook_functions: dict[str, str], *,
                   limit: int = 5) -> list[str]:
    """What each failed hook logged at ERROR level during this deployment (the reason
    book_notifier.hooks writes), as `<hook>: <line>`."""
    import json

    since = int(((snapshot.created or datetime.now(UTC)) - timedelta(minutes=1)).timestamp()
                * 1000)
    out: list[str] = []
    for hook in snapshot.hooks_failed:
        function = hook_functions.get(hook.name)
        if not function:
            continue
        got = get_or_none(logs.filter_log_events, "ResourceNotFoundException",
                          logGroupName=f"/aws/lambda/{function}", startTime=since)
        for event in (got or {}).get("events", []):
            text = event.get("message", "").strip()
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("level") == "ERROR" and (
                    snapshot.deployment_id in str(line.get("deployment_id", ""))):
                out.append(f"{hook.name}: {line.get('reason') or line.get('message')}")
    return out[-limit:]


def follow(watcher: Watcher, on_change: Callable[[Snapshot], None], *,
           sleep: Callable[[float], None] = time.sleep, poll_s: float = POLL_S,
           on_tick: Callable[[Snapshot], None] | None = None) -> Snapshot:
    """Poll until the deployment ends; `on_change` gets every snapshot that differs
    from the last (the first one included), `on_tick` every snapshot (the live
    display's countdown). Returns the final snapshot. A KeyboardInterrupt while
    watching becomes `Detached` (carrying the last snapshot)."""
    last: Snapshot | None = None
    try:
        while True:
            snap = watcher.snapshot()
            if last is None or snap.change_key() != last.change_key():
                on_change(snap)
            if on_tick is not None:
                on_tick(snap)
            last = snap
            if snap.terminal:
                return snap
            sleep(poll_s)
    except KeyboardInterrupt:
        raise Detached(watcher.deployment_id, last) from None
