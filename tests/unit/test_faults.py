"""The fault engine alone: specs, matching, the caller's protocol, the front door."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from notifyctl.emulator import faults
from notifyctl.emulator.faults import (
    FUNCTION_ACCESS_KEY_ID,
    Call,
    FaultRegistry,
    FaultSpec,
    FaultSpecError,
)

pytestmark = pytest.mark.unit


def auth(service: str, key: str = "testing") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={key}/20261128/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc")


def environ(service: str, *, key: str = "testing", target: str | None = None,
            form: str | None = None, method: str = "POST", path: str = "/") -> dict[str, Any]:
    body = (form or "").encode()
    env: dict[str, Any] = {"HTTP_AUTHORIZATION": auth(service, key), "REQUEST_METHOD": method,
                           "PATH_INFO": path, "wsgi.input": io.BytesIO(body),
                           "CONTENT_LENGTH": str(len(body)), "QUERY_STRING": ""}
    if target:
        env["HTTP_X_AMZ_TARGET"] = target
    if form is not None:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded; charset=utf-8"
    return env


@pytest.mark.parametrize(("env", "expected"), [
    (environ("dynamodb", target="DynamoDB_20120810.UpdateItem"),
     Call("dynamodb", "UpdateItem", False, "json")),
    (environ("sns", form="Action=PublishBatch&TopicArn=x"),
     Call("sns", "PublishBatch", False, "query")),
    (environ("ses", form="Action=SendEmail&Source=a", key=FUNCTION_ACCESS_KEY_ID),
     Call("ses", "SendEmail", True, "query")),
    (environ("ses", path="/v2/email/outbound-emails", key=FUNCTION_ACCESS_KEY_ID),
     Call("ses", "SendEmail", True, "rest")),
    (environ("lambda", path="/2015-03-31/functions/books-notifier/invocations"),
     Call("lambda", "Invoke", False, "rest")),
])
def test_a_request_is_identified_by_signer_service_and_operation(
    env: dict[str, Any], expected: Call
) -> None:
    assert faults.identify(env) == expected


def test_identifying_a_query_call_leaves_its_body_readable() -> None:
    env = environ("sns", form="Action=Publish&Message=hi")
    faults.identify(env)
    assert env["wsgi.input"].read() == b"Action=Publish&Message=hi"


def test_an_unsigned_request_is_not_a_call() -> None:
    assert faults.identify({"REQUEST_METHOD": "GET", "PATH_INFO": "/moto-api/"}) is None


def test_ses_faults_match_v1_and_v2_alike_and_sesv2_is_a_synonym() -> None:
    registry = FaultRegistry()
    registry.add(FaultSpec.create("sesv2", "SendEmail", error="SendingPausedException"))
    assert registry.take(Call("ses", "SendEmail", True, "query")) is not None
    assert registry.take(Call("ses", "SendEmail", True, "rest")) is not None


def test_by_default_only_function_callers_meet_a_fault() -> None:
    registry = FaultRegistry()
    registry.add(FaultSpec.create("ses", "SendEmail", lost_response=True))
    assert registry.take(Call("ses", "SendEmail", False, "rest")) is None
    registry.add(FaultSpec.create("ses", "SendEmail", lost_response=True, all_clients=True))
    assert registry.take(Call("ses", "SendEmail", False, "rest")) is not None


def test_count_spends_a_fault_and_percent_samples_calls() -> None:
    draws = iter([0.1, 0.9, 0.2])
    registry = FaultRegistry(rng=lambda: next(draws))
    once = registry.add(FaultSpec.create("dynamodb", "PutItem", error="Boom", count=1))
    call = Call("dynamodb", "PutItem", True, "json")
    assert registry.take(call) is once
    assert registry.take(call) is None and once.spent
    half = registry.add(FaultSpec.create("dynamodb", "PutItem", error="Bang", percent=50))
    assert [registry.take(call) for _ in range(3)] == [half, None, half]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "choose exactly one"),
    ({"error": "Boom", "lost_response": True}, "choose exactly one"),
    ({"latency_ms": 0}, "--latency"),
    ({"error": "Boom", "count": 0}, "--count"),
    ({"error": "Boom", "percent": 150}, "--percent"),
    ({"error": "bad code!"}, "--error"),
])
def test_bad_specs_name_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        FaultSpec.create("ses", "SendEmail", **kwargs)


def test_a_bad_service_or_operation_is_named() -> None:
    with pytest.raises(FaultSpecError, match="SERVICE"):
        FaultSpec.create("s e s", "SendEmail", error="Boom")
    with pytest.raises(FaultSpecError, match="OPERATION"):
        FaultSpec.create("ses", "send-email", error="Boom")


@pytest.mark.parametrize(("protocol", "check"), [
    ("json", lambda h, b: json.loads(b)["__type"] == "ThrottlingException"),
    ("query", lambda h, b: b"<Code>ThrottlingException</Code>" in b),
    ("rest", lambda h, b: h["x-amzn-ErrorType"] == "ThrottlingException"),
])
def test_an_injected_error_speaks_the_callers_protocol(protocol: str, check: Any) -> None:
    status, headers, body = faults.error_response(
        Call("x", "Op", True, protocol), "ThrottlingException")
    assert status.startswith("400 ")
    assert check(dict(headers), body)


def test_server_side_codes_answer_with_their_status() -> None:
    assert faults.error_response(Call("ses", "SendEmail", True, "rest"),
                                 "InternalFailure")[0].startswith("500 ")
    assert faults.error_response(Call("ses", "SendEmail", True, "rest"),
                                 "TooManyRequestsException")[0].startswith("429 ")


def test_the_front_door_answers_an_error_without_calling_the_service() -> None:
    registry = FaultRegistry()
    registry.add(FaultSpec.create("dynamodb", "PutItem", error="InternalServerError",
                                  all_clients=True))
    called: list[int] = []
    statuses: list[str] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(1)
        return [b"{}"]

    body = faults.serve(registry, environ("dynamodb", target="DynamoDB_20120810.PutItem"),
                        lambda status, headers: statuses.append(status), app)
    assert called == [] and statuses == ["500 Internal Server Error"]
    assert json.loads(b"".join(body))["__type"] == "InternalServerError"


def test_a_lost_response_runs_the_call_then_drops_the_connection() -> None:
    registry = FaultRegistry()
    registry.add(FaultSpec.create("sns", "Publish", lost_response=True, all_clients=True))
    called: list[int] = []

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(1)
        start_response("200 OK", [])
        return [b"<PublishResponse/>"]

    with pytest.raises(faults.LostResponse):
        faults.serve(registry, environ("sns", form="Action=Publish"), lambda *a: None, app)
    assert called == [1]


def test_latency_waits_then_calls() -> None:
    registry = FaultRegistry()
    registry.add(FaultSpec.create("sns", "Publish", latency_ms=250, all_clients=True))
    slept: list[float] = []
    out = faults.serve(registry, environ("sns", form="Action=Publish"), lambda *a: None,
                       lambda env, sr: [b"ok"], sleep=slept.append)
    assert slept == [0.25] and list(out) == [b"ok"]


def test_the_control_endpoint_adds_lists_and_clears() -> None:
    registry = FaultRegistry()
    statuses: list[str] = []

    def control(method: str, payload: Any = None) -> Any:
        body = json.dumps(payload).encode() if payload is not None else b""
        env = {"REQUEST_METHOD": method, "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body))}
        out = faults.handle_control(registry, env, lambda s, h: statuses.append(s))
        return json.loads(b"".join(out))

    added = control("POST", {"service": "ses", "operation": "SendEmail", "error": "Boom",
                             "count": 2})
    assert statuses[-1] == "201 Created" and added["fault"]["id"] == 1
    assert control("POST", {"service": "ses", "operation": "SendEmail"})["message"]
    assert statuses[-1] == "400 Bad Request"
    assert [f["operation"] for f in control("GET")["faults"]] == ["SendEmail"]
    assert control("DELETE") == {"cleared": 1} and control("GET") == {"faults": []}


def test_the_dummy_function_key_is_the_one_the_runtime_gives() -> None:
    import inspect

    from notifyctl.emulator.runtime import view

    assert f'"AWS_ACCESS_KEY_ID": "{FUNCTION_ACCESS_KEY_ID}"' in inspect.getsource(view)
