"""THE one module that patches moto. Written for moto >=5.2,<5.3 (checked at start).

What moto does without Docker, and what each patch changes:

| moto behaviour                                                | patch                                   |
|---------------------------------------------------------------|-----------------------------------------|
| Invoke runs code only in Docker ("error running docker")      | Invoke -> our runtime (warm workers)    |
| Invoke ignores the Qualifier parameter; alias weights ignored | Qualifier read; weights honoured        |
| InvocationType=Event runs synchronously                       | queued (delivery.Dispatcher), 202       |
| SNS -> lambda: fake event (constant MessageId, 1970 time),    | real event (sns_event), queued, Publish |
|   synchronous; a missing function fails the whole Publish;    |   returns at once; the function's       |
|   the function's resource policy is not checked               |   policy must allow SNS (as on AWS)     |
| a second PutFunctionEventInvokeConfig is ignored              | put replaces, update merges             |
| SESv2/SES keep one body (HTML or text) of a simple email      | the outbox keeps both                   |
| GetFunction Code.Location points at the real AWS host         | points at this emulator                 |
| other internal paths (e.g. SQS event source mappings) run     | LambdaFunction._invoke_lambda -> our    |
|   LambdaFunction._invoke_lambda (Docker)                      |   runtime                               |

Each patch names the moto attribute it replaces; `install` checks that they all
exist before touching any, so a moto that moved things fails loudly at start.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from notifyctl.emulator.server import Hub

SUPPORTED = ((5, 2), (5, 3))  # [min, max)


class MotoVersionError(RuntimeError):
    pass


def check_version(version: str | None = None) -> str:
    """Raise MotoVersionError unless moto's version is in the range these patches target."""
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("moto")
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    low, high = SUPPORTED
    if not (low <= parts < high):
        raise MotoVersionError(
            f"notifyctl's emulator was written for moto >={low[0]}.{low[1]},<{high[0]}.{high[1]}; "
            f"moto {version} is installed. Install a matching moto: "
            f"pip install 'moto[server]>={low[0]}.{low[1]},<{high[0]}.{high[1]}'"
        )
    return version


_installed: Hub | None = None


def hub() -> Hub:
    if _installed is None:
        raise RuntimeError("emulator patches are not installed")
    return _installed


def install(the_hub: Hub) -> None:
    """Apply every patch (idempotent: a second call only swaps the hub)."""
    global _installed
    first = _installed is None
    _installed = the_hub
    if not first:
        return
    check_version()
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda.responses import LambdaResponse
    from moto.ses.models import SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response
    from moto.sns.models import Subscription

    targets = [
        (LambdaResponse, "invoke"), (LambdaResponse, "invoke_async"),
        (LambdaFunction, "_invoke_lambda"), (LambdaFunction, "get_code"),
        (LambdaBackend, "put_function_event_invoke_config"),
        (LambdaBackend, "update_function_event_invoke_config"),
        (Subscription, "publish"), (Subscription, "_parse_message_structure"),
        (SESBackend, "send_email"), (SESBackend, "send_raw_email"),
        (EmailResponse, "send_email"), (SESV2Response, "send_email"),
    ]
    missing = [f"{cls.__module__}.{cls.__name__}.{name}" for cls, name in targets
               if not hasattr(cls, name)]
    if missing:
        raise MotoVersionError("moto changed: missing " + ", ".join(missing))

    _patch_lambda(LambdaResponse, LambdaFunction, LambdaBackend)
    _patch_sns(Subscription)
    _patch_ses(SESBackend, EmailResponse, SESV2Response)


# -- Lambda -------------------------------------------------------------------------------

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


def _patch_lambda(LambdaResponse: Any, LambdaFunction: Any, LambdaBackend: Any) -> None:
    from moto.awslambda.models import EventInvokeConfig
    from moto.utilities.aws_headers import amz_crc32

    from notifyctl.emulator.backends import MOTO_LOCK
    from notifyctl.emulator.delivery import AsyncEvent, FunctionNotFound
    from notifyctl.emulator.runtime.pool import Throttled

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


# -- SNS ----------------------------------------------------------------------------------

def _patch_sns(Subscription: Any) -> None:
    from notifyctl.emulator.delivery import AsyncEvent
    from notifyctl.emulator.sns_event import build_event

    original = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        if self.protocol != "lambda":
            return original(self, message, message_id, subject=subject,
                            message_attributes=message_attributes, group_id=group_id,
                            deduplication_id=deduplication_id,
                            message_structure=message_structure)
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        event = build_event(topic_arn=self.topic.arn, subscription_arn=self.arn,
                            message_id=message_id, message=message, subject=subject,
                            attributes=message_attributes)
        parts = self.endpoint.split(":")
        region = parts[3] if len(parts) > 3 else self.topic.sns_backend.region_name
        account = parts[4] if len(parts) > 4 else self.account_id
        # SNS invokes Lambda asynchronously: Publish returns once the event is queued.
        hub().dispatcher.submit(AsyncEvent(account, region, self.endpoint, json.dumps(event),
                                           source="sns", topic_arn=self.topic.arn))
        return None

    Subscription.publish = publish


# -- SES ----------------------------------------------------------------------------------

def _patch_ses(SESBackend: Any, EmailResponse: Any, SESV2Response: Any) -> None:
    backend_send, backend_raw = SESBackend.send_email, SESBackend.send_raw_email
    v1_send, v2_send = EmailResponse.send_email, SESV2Response.send_email

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = backend_send(self, *args, **kwargs)
        names = ("source", "subject", "body", "destinations")  # v1's positional order
        values = dict(zip(names, args, strict=False), **kwargs)
        hub().outbox.record_simple(message, values.get("source", ""), values.get("subject", ""),
                                   values.get("body", ""), values.get("destinations"))
        return message

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        message = backend_raw(self, source, destinations, raw_data)
        hub().outbox.record_raw(message, source, list(destinations or []), raw_data)
        return message

    def v1_send_email(self: Any) -> Any:
        hub().outbox.pending.bodies = {"text": self._get_param("Message.Body.Text.Data"),
                                       "html": self._get_param("Message.Body.Html.Data")}
        try:
            return v1_send(self)
        finally:
            hub().outbox.pending.bodies = None

    def v2_send_email(self: Any) -> Any:
        try:
            params = json.loads(self.body)
            body = params.get("Content", {}).get("Simple", {}).get("Body", {})
            hub().outbox.pending.bodies = {"text": (body.get("Text") or {}).get("Data"),
                                           "html": (body.get("Html") or {}).get("Data")}
        except (ValueError, AttributeError):
            pass
        try:
            return v2_send(self)
        finally:
            hub().outbox.pending.bodies = None

    SESBackend.send_email = send_email
    SESBackend.send_raw_email = send_raw_email
    EmailResponse.send_email = v1_send_email
    SESV2Response.send_email = v2_send_email
