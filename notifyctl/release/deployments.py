"""CodeDeploy deployments of the notifier: start one, list, stop, find the active one.

`start` is the handler of deploy-lambda's last plan step when the strategy is not
all-at-once (`plans.executor` calls it as "release.start_deployment" with the
published version resolved): it records the version `live` serves now in the
alias's description (for `rollback`, as the direct path does), then creates the
deployment with the AppSpec as content. CodeDeploy then shifts the alias; the
watch (`release.watch`) follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.errors import OperationError, UsageError
from notifyctl.release import appspec
from notifyctl.release import versions as history

ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
DEPLOYMENT = "deployment_id"


@dataclass(frozen=True)
class Target:
    """Where deploy-lambda's deployment goes and how it shifts traffic."""

    application: str
    group: str
    config: str
    # BeforeAllowTraffic/AfterAllowTraffic -> hook function name (none: no hooks)
    hooks: tuple[tuple[str, str], ...] = ()


HOOK_EVENTS = ("BeforeAllowTraffic", "AfterAllowTraffic")


def target_for(env: Environment, config: str, lam: Any = None) -> Target:
    """The deployment of `env` with `config`; with a Lambda client, the hook functions
    bootstrap created are added (an environment bootstrapped before they existed
    releases without hooks)."""
    hooks: tuple[tuple[str, str], ...] = ()
    if lam is not None:
        from notifyctl.aws.calls import LAMBDA_NOT_FOUND, get_or_none

        hooks = tuple((event, name) for event, name in zip(
            HOOK_EVENTS, env.hook_function_names, strict=True)
            if get_or_none(lam.get_function_configuration, *LAMBDA_NOT_FOUND,
                           FunctionName=name) is not None)
    return Target(env.codedeploy_application_name, env.deployment_group_name, config, hooks)


def start(lam: Any, cd: Any, params: dict[str, Any]) -> str:
    """Create the deployment that moves the alias from CurrentVersion to TargetVersion."""
    fn, alias = params["FunctionName"], params["Alias"]
    current, target = str(params["CurrentVersion"]), str(params["TargetVersion"])
    if current == target:
        raise OperationError(f"version {target} is already live; nothing to shift.")
    kwargs: dict[str, Any] = {}
    if params.get("RevisionId"):
        kwargs["RevisionId"] = params["RevisionId"]
    lam.update_alias(FunctionName=fn, Name=alias,
                     Description=history.alias_description("deploy", current), **kwargs)
    content = appspec.render(fn, alias, current, target, hooks=params.get("Hooks") or {})
    try:
        got = cd.create_deployment(
            applicationName=params["Application"], deploymentGroupName=params["Group"],
            deploymentConfigName=params["Config"],
            description=f"notifyctl deploy-lambda: {fn}:{alias} {current} -> {target}",
            revision={"revisionType": "AppSpecContent",
                      "appSpecContent": {"content": content}})
    except Exception as exc:
        from notifyctl.aws.errors import error_code

        code = error_code(exc)
        if code in ("DeploymentConfigDoesNotExistException",
                    "InvalidDeploymentConfigNameException"):
            raise UsageError(f"--strategy {params['Config']}: CodeDeploy has no such Lambda "
                             f"deployment config (version {target} is published, live "
                             f"unchanged)", hint="See `aws deploy list-deployment-configs`.")\
                from None
        if code in ("ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"):
            raise OperationError(f"the CodeDeploy application or deployment group of this "
                                 f"environment is missing (version {target} is published, "
                                 "live unchanged)",
                                 hint="Run `notifyctl bootstrap`, then deploy again.") from None
        if code == "DeploymentLimitExceededException":
            raise OperationError(f"another deployment is running in {params['Group']} "
                                 f"(version {target} is published, live unchanged)",
                                 hint="Watch it with `notifyctl deployments list`, or stop it "
                                      "with `notifyctl deployments stop ID`.") from None
        raise
    return str(got["deploymentId"])


@dataclass(frozen=True)
class DeploymentSummary:
    deployment_id: str
    status: str
    config: str
    created: str
    completed: str
    description: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"deployment_id": self.deployment_id, "status": self.status,
                "config": self.config, "created": self.created, "completed": self.completed,
                "description": self.description, "error": self.error}


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else ""


def list_deployments(cd: Any, env: Environment, *, statuses: list[str] | None = None,
                     limit: int = 20) -> list[DeploymentSummary]:
    """The group's deployments, newest first."""
    kwargs: dict[str, Any] = {"applicationName": env.codedeploy_application_name,
                              "deploymentGroupName": env.deployment_group_name}
    if statuses:
        kwargs["includeOnlyStatuses"] = statuses
    ids: list[str] = []
    for page in cd.get_paginator("list_deployments").paginate(**kwargs):
        ids += page.get("deployments", [])
    infos: list[dict[str, Any]] = []
    for i in range(0, len(ids), 25):
        infos += cd.batch_get_deployments(deploymentIds=ids[i:i + 25]).get(
            "deploymentsInfo", [])
    infos.sort(key=lambda d: d.get("createTime") or 0, reverse=True)
    return [DeploymentSummary(
        d["deploymentId"], d.get("status", ""), d.get("deploymentConfigName", ""),
        _iso(d.get("createTime")), _iso(d.get("completeTime")), d.get("description") or "",
        (d.get("errorInformation") or {}).get("message", "")) for d in infos[:limit]]


def active(cd: Any, env: Environment) -> str | None:
    """The id of the group's running deployment, if any."""
    running = list_deployments(cd, env, statuses=ACTIVE, limit=1)
    return running[0].deployment_id if running else None


def running_release(cd: Any, env: Environment) -> str | None:
    """The running deployment, or None, also when the environment has no CodeDeploy
    application yet (bootstrapped before issue 16): `rollback` must still work."""
    from notifyctl.aws.calls import CODEDEPLOY_GROUP_NOT_FOUND, is_error

    try:
        return active(cd, env)
    except Exception as exc:
        if is_error(exc, *CODEDEPLOY_GROUP_NOT_FOUND):
            return None
        raise


def stop(cd: Any, deployment_id: str) -> str:
    """Stop a deployment with rollback; answers CodeDeploy's status message."""
    got = cd.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    return str(got.get("statusMessage") or got.get("status") or "")
