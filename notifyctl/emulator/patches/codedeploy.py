"""CodeDeploy: Lambda deployments run (emulator/codedeploy.py); deployment configs,
StopDeployment, PutLifecycleEventHookExecutionStatus and deployment targets answer.

Also the engine's ports over moto: the alias it shifts (Lambda backend), the alarms
it watches (CloudWatch backend), the hooks it invokes (the async dispatcher), and
moto's deployment records it keeps in step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from notifyctl.emulator.codedeploy import (
    PREDEFINED,
    AppSpec,
    AppSpecError,
    Deployment,
    DeploymentConfig,
    config_from_request,
    deployment_id,
    parse_appspec,
)
from notifyctl.emulator.patches import hub

LAMBDA_STYLE = {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
DEFAULT_LAMBDA_CONFIG = "CodeDeployDefault.LambdaAllAtOnce"


def targets() -> list[tuple[Any, str]]:
    from moto.codedeploy import responses
    from moto.codedeploy.models import CodeDeployBackend

    return [(CodeDeployBackend, "create_deployment"),
            (CodeDeployBackend, "create_deployment_group"),
            (responses, "_deployment_info"), (responses, "_deployment_group_info"),
            (CodeDeployBackend, "_deployment_group_arn"),
            (CodeDeployBackend, "_application_arn"),
            (responses.CodeDeployResponse, "get_deployment")]


def _error(name: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(name, message)


def _dt(epoch: float | None) -> datetime | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)


def _engine() -> Any:
    engine = hub().deployments
    if engine is None:
        raise _error("InternalFailure", "the CodeDeploy engine is not running")
    return engine


def _configs(backend: Any) -> dict[str, DeploymentConfig]:
    """Custom deployment configs, kept on moto's backend (reset with it)."""
    if not hasattr(backend, "notifyctl_configs"):
        backend.notifyctl_configs = {}
    configs: dict[str, DeploymentConfig] = backend.notifyctl_configs
    return configs


def find_config(backend: Any, name: str) -> DeploymentConfig | None:
    return PREDEFINED.get(name) or _configs(backend).get(name)


def _appspec(revision: dict[str, Any]) -> tuple[AppSpec | None, str | None]:
    kind = revision.get("revisionType")
    if kind == "AppSpecContent":
        content = (revision.get("appSpecContent") or {}).get("content")
    elif kind == "String":
        content = (revision.get("string") or {}).get("content")
    else:
        raise _error("InvalidRevisionException",
                     f"revisionType {kind!r}: the emulator runs Lambda deployments from "
                     f"AppSpecContent (or String) revisions only")
    if not content:
        raise _error("InvalidRevisionException", "the revision has no AppSpec content")
    try:
        return parse_appspec(str(content)), None
    except AppSpecError as exc:
        return None, str(exc)


def _check_alarms(config: Any) -> None:
    """AWS's checks of an AlarmConfiguration (InvalidAlarmConfigException's causes)."""
    if not isinstance(config, dict):
        return
    names = [str((a or {}).get("name") or "") for a in config.get("alarms") or []]
    if config.get("enabled") and not names:
        raise _error("InvalidAlarmConfigException",
                     "The alarm configuration is enabled, but the alarm list is empty.")
    if any(not n or len(n) > 255 for n in names) or len(set(names)) != len(names):
        raise _error("InvalidAlarmConfigException",
                     "An alarm name is empty, longer than 255 characters, or given twice.")
    if len(names) > 10:
        raise _error("AlarmsLimitExceededException",
                     "The maximum number of alarms for a deployment group (10) was exceeded.")


# -- the engine's ports over moto -----------------------------------------------------


class MotoAliases:
    def alias_version(self, account_id: str, region: str, function: str,
                      alias: str) -> str | None:
        from moto.awslambda.models import lambda_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK:
            try:
                return str(lambda_backends[account_id][region].get_alias(alias, function)
                           .function_version)
            except Exception:  # noqa: BLE001 - no function or no alias
                return None

    def version_exists(self, account_id: str, region: str, function: str, version: str) -> bool:
        from moto.awslambda.models import lambda_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK:
            storage = lambda_backends[account_id][region]._lambdas
            return storage._get_version(function, version) is not None

    def route(self, account_id: str, region: str, function: str, alias: str, version: str,
              weights: dict[str, float]) -> None:
        from moto.awslambda.models import lambda_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        routing = {"AdditionalVersionWeights": dict(weights)} if weights else {}
        with MOTO_LOCK:
            updated = lambda_backends[account_id][region].update_alias(
                alias, function, version, None, routing)  # type: ignore[arg-type]
            updated.revision_id = str(uuid.uuid4())  # AWS: every update gets a new RevisionId


class MotoAlarmStates:
    def states(self, account_id: str, region: str, names: list[str]) -> dict[str, str | None]:
        from moto.cloudwatch.models import cloudwatch_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK:
            alarms = cloudwatch_backends[account_id][region].alarms
            return {n: (alarms[n].state_value if n in alarms else None) for n in names}


class DispatcherHooks:
    """Hooks are invoked asynchronously (InvocationType Event), as CodeDeploy does."""

    def invoke(self, account_id: str, region: str, function: str, payload: str) -> None:
        from notifyctl.emulator.delivery import AsyncEvent

        h = hub()
        h.backend.resolve(account_id, region, function)  # FunctionNotFound -> hook fails
        h.dispatcher.submit(AsyncEvent(account_id, region, function, payload))


class MotoDeploymentSink:
    def register(self, d: Deployment) -> None:
        from moto.codedeploy.models import DeploymentInfo, codedeploy_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK:
            backend = codedeploy_backends[d.account_id][d.region]
            group = backend.deployment_groups[d.application][d.group]
            info = DeploymentInfo(backend.applications[d.application], group, d.revision,
                                  d.config.name, None, None, None, None, None, None, None,
                                  d.creator)
            info.deployment_id = d.deployment_id
            backend.deployments[d.deployment_id] = info
        self.sync(d)

    def sync(self, d: Deployment) -> None:
        from moto.codedeploy.models import codedeploy_backends

        from notifyctl.emulator.backends import MOTO_LOCK

        with MOTO_LOCK:
            info = codedeploy_backends[d.account_id][d.region].deployments.get(d.deployment_id)
            if info is not None:
                info.status = d.status
                info.start_time, info.complete_time = _dt(d.start_time), _dt(d.complete_time)
                info.deployment_overview = d.overview()


# -- rendering ------------------------------------------------------------------------


def _target_json(d: Deployment) -> dict[str, Any]:
    target = d.lambda_target()
    target["lastUpdatedAt"] = _dt(target["lastUpdatedAt"])
    for event in target["lifecycleEvents"]:
        for key in ("startTime", "endTime"):
            if key in event:
                event[key] = _dt(event[key])
    return {"deploymentTargetType": "LambdaTarget", "lambdaTarget": target}


_resources_installed = False


def install_resources() -> None:
    """The patches that need no engine (idempotent): a group's alarmConfiguration
    rendered and an unset loadBalancerInfo left out; UpdateDeploymentGroup,
    DeleteDeploymentGroup and DeleteApplication, which moto lacks.
    `bootstrap`/`teardown` reconcile these resources, so the functional tests
    (moto in-process) install this part too (tests/conftest.py)."""
    global _resources_installed
    if _resources_installed:
        return
    from moto.codedeploy import responses as moto_responses
    from moto.core.responses import ActionResult, EmptyResult

    responses: Any = moto_responses
    Response: Any = responses.CodeDeployResponse
    original_group_info = responses._deployment_group_info

    def deployment_group_info(group: Any) -> dict[str, Any]:
        data: dict[str, Any] = original_group_info(group)
        alarm = group.alarm_configuration
        data["alarmConfiguration"] = alarm if isinstance(alarm, dict) else \
            {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
        # AWS leaves out a structure that was never set (a Lambda group has no load
        # balancer); moto's {} reads as an empty load_balancer_info block to Terraform.
        if not data.get("loadBalancerInfo"):
            data.pop("loadBalancerInfo", None)
        return data

    def update_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        app_name = self._get_param("applicationName")
        group = backend.get_deployment_group(app_name,
                                             self._get_param("currentDeploymentGroupName"))
        if self._get_param("alarmConfiguration") is not None:
            _check_alarms(self._get_param("alarmConfiguration"))
            group.alarm_configuration = self._get_param("alarmConfiguration")
        if self._get_param("autoRollbackConfiguration") is not None:
            group.auto_rollback_configuration = self._get_param("autoRollbackConfiguration")
        if self._get_param("serviceRoleArn"):
            group.service_role_arn = self._get_param("serviceRoleArn")
        if self._get_param("deploymentConfigName"):
            name = self._get_param("deploymentConfigName")
            if find_config(backend, name) is None:
                raise _error("DeploymentConfigDoesNotExistException",
                             f"The deployment config {name} does not exist.")
            group.deployment_config_name = name
        new_name = self._get_param("newDeploymentGroupName")
        if new_name and new_name != group.deployment_group_name:
            groups = backend.deployment_groups[app_name]
            groups[new_name] = groups.pop(group.deployment_group_name)
            group.deployment_group_name = new_name
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        app_name = self._get_param("applicationName")
        name = self._get_param("deploymentGroupName")
        group = backend.get_deployment_group(app_name, name)
        backend.deployment_groups[app_name].pop(name, None)
        backend.tagger.delete_all_tags_for_resource(
            backend._deployment_group_arn(app_name, group.deployment_group_name))
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_application(self: Any) -> Any:
        # AWS: deletes the application and its deployment groups; a missing one is no error.
        backend = self.codedeploy_backend
        name = self._get_param("applicationName")
        if name in backend.applications:
            for group in list(backend.deployment_groups.pop(name, {}).values()):
                backend.tagger.delete_all_tags_for_resource(
                    backend._deployment_group_arn(name, group.deployment_group_name))
            backend.applications.pop(name)
            backend.tagger.delete_all_tags_for_resource(backend._application_arn(name))
        return EmptyResult()

    responses._deployment_group_info = deployment_group_info
    for method in (update_deployment_group, delete_deployment_group, delete_application):
        setattr(Response, method.__name__, method)
    _resources_installed = True


def apply() -> None:
    install_resources()
    from moto.codedeploy import models
    from moto.codedeploy import responses as moto_responses
    from moto.core.responses import ActionResult, EmptyResult

    Backend: Any = models.CodeDeployBackend  # Any: we assign to its methods
    responses: Any = moto_responses  # Any: we assign to its module functions
    Response: Any = responses.CodeDeployResponse
    original_create = Backend.create_deployment
    original_group = Backend.create_deployment_group
    original_info = responses._deployment_info

    def create_deployment_group(self: Any, application_name: str, deployment_group_name: str,
                                deployment_config_name: str | None, *args: Any,
                                **kwargs: Any) -> str:
        app = self.applications.get(application_name)
        if app is not None and app.compute_platform == "Lambda":
            deployment_config_name = deployment_config_name or DEFAULT_LAMBDA_CONFIG
            config = find_config(self, deployment_config_name)
            if config is None:
                raise _error("DeploymentConfigDoesNotExistException",
                             f"The deployment config {deployment_config_name} does not exist.")
            if config.compute_platform != "Lambda":
                raise _error("InvalidDeploymentConfigNameException",
                             f"The deployment config {deployment_config_name} is not for the "
                             f"Lambda compute platform.")
            if not kwargs.get("deployment_style"):
                kwargs["deployment_style"] = dict(LAMBDA_STYLE)
            _check_alarms(kwargs.get("alarm_configuration"))
        return str(original_group(self, application_name, deployment_group_name,
                                  deployment_config_name, *args, **kwargs))

    def create_deployment(self: Any, application_name: str, deployment_group_name: str,
                          revision: dict[str, Any], deployment_config_name: str | None = None,
                          description: str | None = None, *args: Any, **kwargs: Any) -> str:
        app = self.applications.get(application_name)
        if app is None or app.compute_platform != "Lambda":
            return str(original_create(self, application_name, deployment_group_name, revision,
                                       deployment_config_name, description, *args, **kwargs))
        group = self.get_deployment_group(application_name, deployment_group_name)
        engine = _engine()
        running = engine.active_in_group(self.account_id, self.region_name, application_name,
                                         deployment_group_name)
        if running is not None:
            raise _error("DeploymentLimitExceededException",
                         f"The Deployment Group '{deployment_group_name}' already has an active "
                         f"Deployment '{running.deployment_id}'")
        name = deployment_config_name or str(group.deployment_config_name)
        config = find_config(self, name)
        if config is None:
            raise _error("DeploymentConfigDoesNotExistException",
                         f"The deployment config {name} does not exist.")
        if config.compute_platform != "Lambda":
            raise _error("InvalidDeploymentConfigNameException",
                         f"The deployment config {name} is not for the Lambda compute platform.")
        _check_alarms(kwargs.get("override_alarm_configuration"))
        appspec, problem = _appspec(revision or {})
        alarm_cfg = kwargs.get("override_alarm_configuration") or \
            group.alarm_configuration or {}
        if not isinstance(alarm_cfg, dict):
            alarm_cfg = {}
        rollback_cfg = kwargs.get("auto_rollback_configuration") or \
            group.auto_rollback_configuration or {}
        moto_id = original_create(self, application_name, deployment_group_name, revision,
                                  config.name, description, *args, **kwargs)
        info = self.deployments.pop(moto_id)
        info.deployment_id = deployment_id()
        self.deployments[info.deployment_id] = info
        engine.start(Deployment(
            deployment_id=info.deployment_id, account_id=self.account_id,
            region=self.region_name, application=application_name,
            group=deployment_group_name, config=config, revision=revision, appspec=appspec,
            appspec_error=problem,
            alarms=[str(a.get("name")) for a in alarm_cfg.get("alarms") or []
                    if alarm_cfg.get("enabled")],
            ignore_poll_alarm_failure=bool(alarm_cfg.get("ignorePollAlarmFailure")),
            rollback_events=frozenset(rollback_cfg.get("events") or [])
            if rollback_cfg.get("enabled") else frozenset()))
        return str(info.deployment_id)

    def deployment_info(deployment: Any) -> dict[str, Any]:
        data: dict[str, Any] = original_info(deployment)
        d = hub().deployments.get(deployment.deployment_id) if hub().deployments else None
        if d is None:
            return data
        data.update({
            "status": d.status, "deploymentConfigName": d.config.name, "creator": d.creator,
            "createTime": _dt(d.create_time), "startTime": _dt(d.start_time),
            "completeTime": _dt(d.complete_time), "deploymentOverview": d.overview(),
            "deploymentStyle": dict(LAMBDA_STYLE), "computePlatform": "Lambda",
            "autoRollbackConfiguration": {"enabled": bool(d.rollback_events),
                                          "events": sorted(d.rollback_events)},
        })
        for key in ("errorInformation", "rollbackInfo"):
            data.pop(key, None)
        if d.error:
            data["errorInformation"] = dict(d.error)
        if d.rollback_info:
            data["rollbackInfo"] = dict(d.rollback_info)
        return {k: v for k, v in data.items() if v is not None}

    def _lambda_deployment(self: Any) -> Deployment:
        wanted = self._get_param("deploymentId")
        if not wanted:
            raise _error("DeploymentIdRequiredException", "At least one deployment ID must "
                                                          "be specified.")
        self.codedeploy_backend.get_deployment(wanted)  # DeploymentDoesNotExistException
        d = _engine().get(wanted)
        if d is None:
            raise _error("UnsupportedActionForDeploymentTypeException",
                         "This action is only emulated for Lambda deployments.")
        return d  # type: ignore[no-any-return]

    def stop_deployment(self: Any) -> Any:
        d = _lambda_deployment(self)
        flag = self._get_param("autoRollbackEnabled")
        problem = _engine().stop(d.deployment_id, None if flag is None else bool(flag))
        if problem:
            raise _error(problem, f"The deployment {d.deployment_id} is already complete."
                         if problem == "DeploymentAlreadyCompletedException" else problem)
        return ActionResult({"status": "Pending",
                             "statusMessage": "Stopping Pending. Stopping to deploy."})

    def put_lifecycle_event_hook_execution_status(self: Any) -> Any:
        d = _lambda_deployment(self)
        execution_id = self._get_param("lifecycleEventHookExecutionId") or ""
        problem = _engine().report_hook(d.deployment_id, execution_id,
                                        self._get_param("status") or "")
        messages = {
            "InvalidLifecycleEventHookExecutionStatusException":
                "The status must be Succeeded or Failed.",
            "InvalidLifecycleEventHookExecutionIdException":
                f"The lifecycle event hook execution ID {execution_id} is not valid.",
            "LifecycleEventAlreadyCompletedException":
                f"The lifecycle event hook {execution_id} has already completed.",
        }
        if problem:
            raise _error(problem, messages.get(problem, problem))
        return ActionResult({"lifecycleEventHookExecutionId": execution_id})

    def list_deployment_targets(self: Any) -> Any:
        d = _lambda_deployment(self)
        if d.status == "Created":
            raise _error("DeploymentNotStartedException", "The deployment has not started.")
        statuses: list[str] = []
        for f in self._get_param("targetFilters") or {}:
            if f == "TargetStatus":
                statuses = list((self._get_param("targetFilters") or {})[f])
        ids = [d.target_id] if not statuses or d.target_status in statuses else []
        return ActionResult({"targetIds": ids})

    def _target(self: Any, d: Deployment, target_id: str) -> dict[str, Any]:
        if target_id != d.target_id:
            raise _error("DeploymentTargetDoesNotExistException",
                         f"The deployment target {target_id} does not exist.")
        return _target_json(d)

    def get_deployment_target(self: Any) -> Any:
        d = _lambda_deployment(self)
        return ActionResult({"deploymentTarget": _target(self, d,
                                                         self._get_param("targetId") or "")})

    def batch_get_deployment_targets(self: Any) -> Any:
        d = _lambda_deployment(self)
        return ActionResult({"deploymentTargets": [
            _target(self, d, t) for t in self._get_param("targetIds") or []]})

    def create_deployment_config(self: Any) -> Any:
        import time

        name = self._get_param("deploymentConfigName")
        if not name:
            raise _error("DeploymentConfigNameRequiredException",
                         "The deployment config name was not specified.")
        backend = self.codedeploy_backend
        if find_config(backend, name) is not None:
            raise _error("DeploymentConfigAlreadyExistsException",
                         f"The deployment config {name} already exists.")
        if name.startswith("CodeDeployDefault."):
            raise _error("InvalidDeploymentConfigNameException",
                         "The prefix CodeDeployDefault. is reserved.")
        try:
            config = config_from_request(name, self._get_param("computePlatform"),
                                         self._get_param("trafficRoutingConfig"), time.time())
        except ValueError as exc:
            raise _error("InvalidTrafficRoutingConfigurationException", str(exc)) from None
        _configs(backend)[name] = config
        return ActionResult({"deploymentConfigId": config.config_id})

    def get_deployment_config(self: Any) -> Any:
        name = self._get_param("deploymentConfigName") or ""
        config = find_config(self.codedeploy_backend, name)
        if config is None:
            raise _error("DeploymentConfigDoesNotExistException",
                         f"The deployment config {name} does not exist.")
        info = config.info()
        info["createTime"] = _dt(info["createTime"])
        return ActionResult({"deploymentConfigInfo": info})

    def list_deployment_configs(self: Any) -> Any:
        names = sorted([*PREDEFINED, *_configs(self.codedeploy_backend)])
        return ActionResult({"deploymentConfigsList": names})

    def delete_deployment_config(self: Any) -> Any:
        name = self._get_param("deploymentConfigName") or ""
        backend = self.codedeploy_backend
        if name in PREDEFINED:
            raise _error("InvalidOperationException",
                         "A predefined deployment configuration cannot be deleted.")
        if any(str(g.deployment_config_name) == name for groups in
               backend.deployment_groups.values() for g in groups.values()):
            raise _error("DeploymentConfigInUseException",
                         f"The deployment config {name} is in use.")
        _configs(backend).pop(name, None)
        return EmptyResult()

    Backend.create_deployment = create_deployment
    Backend.create_deployment_group = create_deployment_group
    responses._deployment_info = deployment_info
    for method in (stop_deployment, put_lifecycle_event_hook_execution_status,
                   list_deployment_targets, get_deployment_target, batch_get_deployment_targets,
                   create_deployment_config, get_deployment_config, list_deployment_configs,
                   delete_deployment_config):
        setattr(Response, method.__name__, method)
