"""Lambda: Invoke and async invokes through our runtime, Code.Location, event invoke configs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from notifyctl.emulator.patches import hub


def targets() -> list[tuple[Any, str]]:
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    return [(LambdaResponse, "invoke"), (LambdaResponse, "invoke_async"),
            (LambdaFunction, "_invoke_lambda"), (LambdaFunction, "get_code"),
            (LambdaBackend, "put_function_event_invoke_config"),
            (LambdaBackend, "update_function_event_invoke_config")] + permission_targets()


def _errors() -> Any:
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.core.exceptions import JsonRESTError

    class TooManyRequests(JsonRESTError):
        code = 429

        def __init__(self, message: str) -> None:
            super().__init__("TooManyRequestsException", message)

    class InvalidRequestContent(JsonRESTError):
        code = 400

        def __init__(self, message: str) -> None:
            super().__init__("InvalidRequestContentException", message)

    return UnknownFunctionException, TooManyRequests, InvalidRequestContent


def apply() -> None:
    from moto.awslambda import models, responses
    from moto.awslambda.models import EventInvokeConfig
    from moto.utilities.aws_headers import amz_crc32

    from notifyctl.emulator.backends import MOTO_LOCK
    from notifyctl.emulator.delivery import AsyncEvent, FunctionNotFound
    from notifyctl.emulator.runtime.pool import Throttled

    LambdaResponse: Any = responses.LambdaResponse  # Any: we assign to their methods
    LambdaFunction: Any = models.LambdaFunction
    LambdaBackend: Any = models.LambdaBackend
    UnknownFunction, TooManyRequests, InvalidRequestContent = _errors()

    def _payload(raw: Any) -> str:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else (raw or "")
        if not text.strip():
            return "{}"
        try:
            json.loads(text)
        except ValueError as exc:
            raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
        return text

    def _resolve(self: Any, function: str, qualifier: str | None) -> Any:
        h = hub()
        try:
            return h.backend.resolve(self.current_account, self.region, function, qualifier)
        except FunctionNotFound as exc:
            raise UnknownFunction(
                f"arn:aws:lambda:{self.region}:{self.current_account}:function:{exc}") from None

    @amz_crc32
    def invoke(self: Any) -> tuple[int, dict[str, str], bytes]:
        h = hub()
        function = unquote(self.path.rsplit("/", 2)[-2])
        qualifier = self.querystring.get("Qualifier", [None])[0]
        inv_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        payload = _payload(self.body)
        target = _resolve(self, function, qualifier)
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
            raise TooManyRequests(str(exc)) from None
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
        payload = _payload(self.body)
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

    def put_config(self: Any, function_name: str, config: dict[str, Any]) -> dict[str, Any]:
        fn = self.get_function(function_name)
        event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
        fn.event_invoke_config = [event_config]
        return event_config.response()

    def update_config(self: Any, function_name: str, config: dict[str, Any]) -> dict[str, Any]:
        fn = self.get_function(function_name)
        current = fn.event_invoke_config[-1].config if fn.event_invoke_config else {}
        return put_config(self, function_name, {**current, **config})

    LambdaResponse.invoke = invoke
    LambdaResponse.invoke_async = invoke_async
    LambdaFunction._invoke_lambda = _invoke_lambda
    LambdaFunction.get_code = get_code
    LambdaBackend.put_function_event_invoke_config = put_config
    LambdaBackend.update_function_event_invoke_config = update_config
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
