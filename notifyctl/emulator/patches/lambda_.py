"""Lambda: Invoke through our runtime (payload limits, states), function states and
preconditions, LoggingConfig / DeadLetterConfig / RevisionId kept, event invoke
configs per qualifier, Code.Location."""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any
from urllib.parse import unquote

from notifyctl.emulator.patches import hub

SYNC_REQUEST_LIMIT = 6 * 1024 * 1024  # 6291456 bytes (API_Invoke)
ASYNC_REQUEST_LIMIT = 1024 * 1024  # 1 MB for InvocationType=Event


def targets() -> list[tuple[Any, str]]:
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    return [(LambdaResponse, "invoke"), (LambdaResponse, "invoke_async"),
            (LambdaResponse, "_enrich_response"),
            (LambdaResponse, "publish_version"),
            (LambdaResponse, "put_function_event_invoke_config"),
            (LambdaResponse, "update_function_event_invoke_config"),
            (LambdaResponse, "get_function_event_invoke_config"),
            (LambdaResponse, "delete_function_event_invoke_config"),
            (LambdaResponse, "list_function_event_invoke_configs"),
            (LambdaFunction, "_invoke_lambda"), (LambdaFunction, "get_code"),
            (LambdaFunction, "get_configuration"),
            (LambdaBackend, "create_function"), (LambdaBackend, "update_function_code"),
            (LambdaBackend, "update_function_configuration"),
            (LambdaBackend, "publish_version"),
            (LambdaBackend, "delete_function")] + permission_targets()


def event_config_modified_now() -> Any:
    """An event invoke config's LastModified: when it was put, in epoch seconds, the API's
    timestamp type. moto stores the function's ISO 8601 string there, which boto3 accepts
    but stricter SDKs refuse (Go's, so Terraform's AWS provider: "expected Date to be a JSON
    Number"). Wall-clock time, like every timestamp the emulator reports."""
    return round(time.time(), 3)


def _errors() -> Any:
    from moto.core.exceptions import JsonRESTError

    class _Error(JsonRESTError):
        def __init__(self, message: str) -> None:
            super().__init__(self.error_type, message)

    class TooManyRequests(_Error):
        code, error_type = 429, "TooManyRequestsException"

        def __init__(self, message: str, reason: str) -> None:
            super().__init__(message)
            body = json.loads(self.description)
            body["Reason"] = reason
            body["Type"] = "User"
            self.description = json.dumps(body)

    class InvalidRequestContent(_Error):
        code, error_type = 400, "InvalidRequestContentException"

    class RequestTooLarge(_Error):
        code, error_type = 413, "RequestEntityTooLargeException"

    class ResourceConflict(_Error):
        code, error_type = 409, "ResourceConflictException"

    class PreconditionFailed(_Error):
        code, error_type = 412, "PreconditionFailedException"

    class InvalidParameterValue(_Error):
        code, error_type = 400, "InvalidParameterValueException"

    class NotFound(_Error):
        code, error_type = 404, "ResourceNotFoundException"

    return (TooManyRequests, InvalidRequestContent, RequestTooLarge, ResourceConflict,
            PreconditionFailed, InvalidParameterValue, NotFound)


def apply() -> None:  # noqa: C901 - one closure per replaced moto method, kept together
    from moto.awslambda import models, responses
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import EventInvokeConfig
    from moto.utilities.aws_headers import amz_crc32

    from notifyctl.emulator.backends import MOTO_LOCK, split_function
    from notifyctl.emulator.delivery import AsyncEvent, FunctionNotFound
    from notifyctl.emulator.function_states import FunctionBusy
    from notifyctl.emulator.runtime.pool import LoggingConfig, Throttled

    LambdaResponse: Any = responses.LambdaResponse  # Any: we assign to their methods
    LambdaFunction: Any = models.LambdaFunction
    LambdaBackend: Any = models.LambdaBackend
    (TooManyRequests, InvalidRequestContent, RequestTooLarge, ResourceConflict,
     PreconditionFailed, InvalidParameterValue, NotFound) = _errors()

    # -- Invoke ----------------------------------------------------------------------
    def _payload(raw: Any, limit: int, too_large: str) -> str:
        data = raw if isinstance(raw, bytes) else (raw or "").encode("utf-8")
        if len(data) > limit:
            raise RequestTooLarge(too_large.format(size=len(data), limit=limit))
        text = data.decode("utf-8")
        if not text.strip():
            return "{}"
        try:
            json.loads(text)
        except ValueError as exc:
            raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
        return text

    def _resolve(self: Any, function: str, qualifier: str | None) -> Any:
        try:
            return hub().backend.resolve(self.current_account, self.region, function, qualifier)
        except FunctionNotFound as exc:
            raise UnknownFunctionException(
                f"arn:aws:lambda:{self.region}:{self.current_account}:function:{exc}") from None

    @amz_crc32
    def invoke(self: Any) -> tuple[int, dict[str, str], bytes]:
        h = hub()
        function = unquote(self.path.rsplit("/", 2)[-2])
        qualifier = self.querystring.get("Qualifier", [None])[0]
        inv_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if inv_type == "Event":
            payload = _payload(self.body, ASYNC_REQUEST_LIMIT,
                               "{size} byte payload is too large for the Event invocation type "
                               "(limit {limit} bytes)")
        else:
            payload = _payload(self.body, SYNC_REQUEST_LIMIT,
                               "Request must be smaller than {limit} bytes for the "
                               "InvokeFunction operation")
        target = _resolve(self, function, qualifier)
        name, _ = split_function(function, qualifier)
        try:
            h.states.check_invokable((self.current_account, self.region, name))
        except FunctionBusy as exc:
            raise ResourceConflict(str(exc)) from None
        headers: dict[str, str] = {"content-type": "application/json"}
        if inv_type == "DryRun":
            return 204, {**headers, "status": "204"}, b""
        if inv_type == "Event":
            full = function if qualifier is None or ":" in function.split(":function:")[-1] \
                else f"{function}:{qualifier}"
            event = AsyncEvent(self.current_account, self.region, full, payload)
            h.dispatcher.submit(event)
            return 202, {**headers, "status": "202", "x-amzn-requestid": event.request_id}, b""
        try:
            with MOTO_LOCK.released():  # the function calls back into moto
                result = h.runtime.invoke(target.spec, payload, invoked_arn=target.invoked_arn,
                                          resource=target.resource)
        except Throttled as exc:
            raise TooManyRequests(str(exc), exc.reason) from None
        headers["x-amz-executed-version"] = result.executed_version
        headers["x-amzn-requestid"] = result.request_id
        if result.function_error:
            headers["x-amz-function-error"] = result.function_error
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            import base64

            headers["x-amz-log-result"] = base64.b64encode(
                result.log_tail.encode("utf-8")).decode("ascii")
        return 200, headers, result.payload

    @amz_crc32
    def invoke_async(self: Any) -> tuple[int, dict[str, Any], bytes]:
        h = hub()
        index = -3 if self.path.endswith("/") else -2
        function = unquote(self.path.rsplit("/", 3)[index])
        payload = _payload(self.body, ASYNC_REQUEST_LIMIT,
                           "{size} byte payload is too large for the Event invocation type "
                           "(limit {limit} bytes)")
        _resolve(self, function, None)
        h.dispatcher.submit(AsyncEvent(self.current_account, self.region, function, payload))
        return 202, {"status": 202}, b'{"Status": 202}'

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        from notifyctl.emulator.backends import spec_from_model

        h = hub()
        text = event if isinstance(event, str) else json.dumps(event if event is not None else {})
        try:
            spec = spec_from_model(self)
            with MOTO_LOCK.released():
                result = h.runtime.invoke(spec, text, invoked_arn=self.function_arn)
        except Throttled as exc:
            return json.dumps({"errorMessage": str(exc),
                               "errorType": "TooManyRequestsException"}), True, ""
        return result.payload.decode("utf-8"), not result.ok, result.log_tail

    original_enrich = LambdaResponse._enrich_response

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        """moto stamps a random x-amzn-RequestId on every response; Invoke's must stay the
        invocation's request id (the function's context.aws_request_id), as on AWS."""
        ours = headers.get("x-amzn-requestid")
        headers, body = original_enrich(headers, body)
        if ours:
            headers["x-amzn-requestid"] = ours
        return headers, body

    # -- configuration: states, preconditions, fields moto drops -------------------------
    def _key(fn: Any) -> tuple[str, str, str]:
        return (fn.account_id, fn.region, fn.function_name)

    def _unqualified_arn(fn: Any) -> str:
        return f"arn:aws:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}"

    def _new_revision(fn: Any) -> None:
        fn.notifyctl_revision = str(uuid.uuid4())

    def _check_revision(fn: Any, wanted: str | None) -> None:
        if wanted and wanted != getattr(fn, "notifyctl_revision", None):
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")

    def _store_extras(fn: Any, body: dict[str, Any]) -> None:
        """Keep LoggingConfig and DeadLetterConfig (moto drops both); immutable values,
        because moto's PublishVersion copies the object shallowly."""
        if "LoggingConfig" in body:
            given = body["LoggingConfig"] or {}
            current = getattr(fn, "notifyctl_logging", None) or LoggingConfig()
            fn.notifyctl_logging = LoggingConfig(
                log_format=given.get("LogFormat", current.log_format),
                application_level=given.get("ApplicationLogLevel", current.application_level),
                system_level=given.get("SystemLogLevel", current.system_level),
                log_group=given.get("LogGroup", current.log_group))
        if "DeadLetterConfig" in body:
            target = (body["DeadLetterConfig"] or {}).get("TargetArn") or None
            if target and target.split(":")[2:3] not in (["sqs"], ["sns"]):
                raise InvalidParameterValue(
                    f"The provided target arn {target} is invalid: it must be an SQS queue "
                    f"or an SNS topic")
            fn.notifyctl_dead_letter = target

    original_get_configuration = LambdaFunction.get_configuration

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = original_get_configuration(self, on_create=on_create)
        logging = getattr(self, "notifyctl_logging", None) or LoggingConfig()
        config["LoggingConfig"] = {"LogFormat": logging.log_format,
                                   "LogGroup": logging.log_group or self.logs_group_name}
        if logging.application_level:
            config["LoggingConfig"]["ApplicationLogLevel"] = logging.application_level
        if logging.system_level:
            config["LoggingConfig"]["SystemLogLevel"] = logging.system_level
        dead_letter = getattr(self, "notifyctl_dead_letter", None)
        if dead_letter:
            config["DeadLetterConfig"] = {"TargetArn": dead_letter}
        config["RevisionId"] = getattr(self, "notifyctl_revision", "") or str(uuid.uuid4())
        for key in ("State", "StateReason", "StateReasonCode", "LastUpdateStatus",
                    "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
            config.pop(key, None)
        if str(self.version) == "$LATEST":
            config.update(hub().states.view(_key(self)).fields())
        else:  # a published version never changes
            config.update(State="Active", LastUpdateStatus="Successful")
        if on_create:
            config.pop("LastUpdateStatus", None)
        return config

    original_create = LambdaBackend.create_function

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        fn = original_create(self, spec)
        entry = self._lambdas._functions[fn.function_name]
        # Publish=True copied $LATEST before we could add to it: add to every copy.
        for target in {id(o): o for o in (fn, entry["latest"], *entry["versions"])}.values():
            _store_extras(target, spec)
            _new_revision(target)
        hub().states.created(_key(fn))
        return fn

    def _begin_update(self: Any, function_name: str, qualifier: str | None,
                      body: dict[str, Any]) -> Any:
        fn = self.get_function(function_name, qualifier)
        _check_revision(fn, body.get("RevisionId"))
        try:
            hub().states.check_idle(_key(fn), _unqualified_arn(fn))
        except FunctionBusy as exc:
            raise ResourceConflict(str(exc)) from None
        return fn, copy.copy(fn)

    def _end_update(fn: Any, previous: Any) -> None:
        _new_revision(fn)
        try:
            hub().states.begin_update(_key(fn), _unqualified_arn(fn), previous)
        except FunctionBusy as exc:  # lost a race with another update
            raise ResourceConflict(str(exc)) from None

    original_update_code = LambdaBackend.update_function_code

    def update_function_code(self: Any, function_name: str, qualifier: str | None,
                             body: dict[str, Any]) -> Any:
        fn, previous = _begin_update(self, function_name, qualifier, body)
        if body.get("DryRun"):
            return original_update_code(self, function_name, qualifier, body)
        result = original_update_code(self, function_name, qualifier, body)
        _end_update(fn, previous)
        hub().runtime.retire(*_key(fn), "$LATEST")
        return result if body.get("Publish") else fn.get_configuration()

    original_update_config = LambdaBackend.update_function_configuration

    def update_function_configuration(self: Any, function_name: str, qualifier: str | None,
                                      body: dict[str, Any]) -> Any:
        fn, previous = _begin_update(self, function_name, qualifier, body)
        _store_extras(fn, body)
        original_update_config(self, function_name, qualifier, body)
        _end_update(fn, previous)
        hub().runtime.retire(*_key(fn), "$LATEST")
        return fn.get_configuration()

    original_publish_backend = LambdaBackend.publish_version

    def publish_version_backend(self: Any, function_name: str, description: str = "") -> Any:
        fn = self.get_function(function_name)
        try:
            hub().states.check_idle(_key(fn), _unqualified_arn(fn))
        except FunctionBusy as exc:
            raise ResourceConflict(str(exc)) from None
        return original_publish_backend(self, function_name, description)

    original_publish_response = LambdaResponse.publish_version

    def publish_version(self: Any) -> Any:
        function_name = unquote(self.path.split("/")[-2])
        fn = self.backend.get_function(function_name)
        wanted_sha = self._get_param("CodeSha256")
        if wanted_sha is not None and wanted_sha != fn.code_sha_256:
            raise InvalidParameterValue(
                f"CodeSHA256 ({wanted_sha}) is different from current CodeSHA256 in $LATEST "
                f"({fn.code_sha_256}). Please try again with the CodeSHA256 in $LATEST.")
        _check_revision(fn, self._get_param("RevisionId"))
        return original_publish_response(self)

    original_delete = LambdaBackend.delete_function

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        fn = self.get_function(function_name, qualifier)
        original_delete(self, function_name, qualifier)
        name, qual = split_function(function_name, qualifier)
        if qual is None:
            hub().states.forget(_key(fn))
        hub().runtime.retire(*_key(fn), qual)  # its workers go now, not after 15 minutes

    # -- event invoke configs, per qualifier --------------------------------------------
    def _config_target(self: Any, index: int) -> tuple[Any, str]:
        """(the function's $LATEST object, qualifier) for an event-invoke-config request."""
        function = unquote(self.path.rsplit("/", index)[1])
        name, qualifier = split_function(function, self.querystring.get("Qualifier", [None])[0])
        self.backend.get_function(name, qualifier)  # 404 for a missing function or qualifier
        return self.backend.get_function(name), qualifier or "$LATEST"

    def _configs(latest: Any) -> dict[str, Any]:
        configs = getattr(latest, "notifyctl_event_configs", None)
        if configs is None:
            configs = latest.notifyctl_event_configs = {}
        return configs

    def _config_response(latest: Any, qualifier: str, config: Any) -> dict[str, Any]:
        return {**config.response(), "FunctionArn": f"{_unqualified_arn(latest)}:{qualifier}"}

    def _put(self: Any, merge: bool) -> dict[str, Any]:
        latest, qualifier = _config_target(self, 2)
        configs = _configs(latest)
        current = configs[qualifier].config if merge and qualifier in configs else {}
        config = EventInvokeConfig(_unqualified_arn(latest), event_config_modified_now(),
                                   {**current, **self.json_body})
        configs[qualifier] = config
        return _config_response(latest, qualifier, config)

    def put_event_config(self: Any) -> str:
        return json.dumps(_put(self, merge=False))

    def update_event_config(self: Any) -> str:
        return json.dumps(_put(self, merge=True))

    def get_event_config(self: Any) -> str:
        latest, qualifier = _config_target(self, 2)
        config = _configs(latest).get(qualifier)
        if config is None:
            raise NotFound(f"The function {_unqualified_arn(latest)}:{qualifier} doesn't have "
                           f"an EventInvokeConfig")
        return json.dumps(_config_response(latest, qualifier, config))

    def delete_event_config(self: Any) -> tuple[int, dict[str, Any], str]:
        latest, qualifier = _config_target(self, 2)
        if _configs(latest).pop(qualifier, None) is None:
            raise NotFound(f"The function {_unqualified_arn(latest)}:{qualifier} doesn't have "
                           f"an EventInvokeConfig")
        return 204, {"status": 204}, "{}"

    def list_event_configs(self: Any) -> str:
        latest, _ = _config_target(self, 3)
        return json.dumps({"FunctionEventInvokeConfigs": [
            _config_response(latest, q, c) for q, c in sorted(_configs(latest).items())]})

    # -- Code.Location -------------------------------------------------------------------
    original_get_code = LambdaFunction.get_code

    def get_code(self: Any) -> dict[str, Any]:
        resp = original_get_code(self)
        if getattr(self, "code_bytes", None):
            version = str(self.version)
            resp["Code"] = {
                "RepositoryType": "S3",
                "Location": f"{hub().endpoint}/_notifyctl/code/{self.account_id}/{self.region}/"
                            f"{self.function_name}/{version}",
            }
        return resp

    LambdaResponse.invoke = invoke
    LambdaResponse.invoke_async = invoke_async
    LambdaResponse._enrich_response = staticmethod(_enrich_response)
    LambdaResponse.publish_version = publish_version
    LambdaResponse.put_function_event_invoke_config = put_event_config
    LambdaResponse.update_function_event_invoke_config = update_event_config
    LambdaResponse.get_function_event_invoke_config = get_event_config
    LambdaResponse.delete_function_event_invoke_config = delete_event_config
    LambdaResponse.list_function_event_invoke_configs = list_event_configs
    LambdaFunction._invoke_lambda = _invoke_lambda
    LambdaFunction.get_code = get_code
    LambdaFunction.get_configuration = get_configuration
    LambdaBackend.create_function = create_function
    LambdaBackend.update_function_code = update_function_code
    LambdaBackend.update_function_configuration = update_function_configuration
    LambdaBackend.publish_version = publish_version_backend
    LambdaBackend.delete_function = delete_function
    apply_permissions()


def permission_targets() -> list[tuple[Any, str]]:
    from moto.awslambda.policy import Policy

    return [(Policy, "add_statement")]


def apply_permissions() -> None:
    """AddPermission with a StatementId the (qualified) policy already has: 409
    ResourceConflictException, as on AWS (moto adds a second statement, which made
    Terraform's destroy after a bootstrap hand-off wait and fail, issue 19)."""
    from moto.awslambda import policy as policy_module
    from moto.core.exceptions import JsonRESTError

    Policy: Any = policy_module.Policy  # Any: we assign to its methods
    original = Policy.add_statement

    class ResourceConflict(JsonRESTError):
        code = 409

        def __init__(self, message: str) -> None:
            super().__init__("ResourceConflictException", message)

    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> Any:
        revision = self.revision
        statement, new_revision = original(self, raw, qualifier)
        duplicates = [s for s in self.statements[:-1]
                      if s.get("Sid") == statement.get("Sid")
                      and s.get("Resource") == statement.get("Resource")]
        if duplicates:
            self.statements.pop()
            self.revision = revision
            raise ResourceConflict(
                f"The statement id ({statement.get('Sid')}) provided already exists. Please "
                "provide a new statement id, or remove the existing statement.")
        return statement, new_revision

    Policy.add_statement = add_statement
