"""How the emulator sees a request in IAM's terms: action, resources, context, refusal."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl.emulator import iam_enforce
from notifyctl.emulator.iam_enforce import Call, Caller
from notifyctl.emulator.iam_policy import EXPLICIT_DENY, IMPLICIT_DENY, Decision, Match

ACCOUNT = "123456789012"
CALLER = Caller(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/fn", account=ACCOUNT, kind="role",
                name="r", principal_arns=(f"arn:aws:sts::{ACCOUNT}:assumed-role/r/fn",
                                          f"arn:aws:iam::{ACCOUNT}:role/r"))


def call(service: str, operation: str, api: str | None = None, **params: Any) -> Call:
    return Call(service=service, api=api or service, operation=operation, params=params,
                path="/", region="us-east-1", account=ACCOUNT)


@pytest.mark.parametrize(("c", "resources"), [
    (call("dynamodb", "PutItem", TableName="t"),
     [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"]),
    (call("dynamodb", "Query", TableName="t", IndexName="i"),
     [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/i"]),
    (call("dynamodb", "BatchGetItem", RequestItems={"a": {}, "b": {}}),
     [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/a",
      f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/b"]),
    (call("dynamodb", "TransactWriteItems",
          TransactItems=[{"Put": {"TableName": "a"}}, {"Update": {"TableName": "a"}}]),
     [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/a"]),
    (call("sns", "Publish", TopicArn=["arn:aws:sns:us-east-1:1:t"]), ["arn:aws:sns:us-east-1:1:t"]),
    (call("sqs", "SendMessage", QueueUrl="http://127.0.0.1:4566/123456789012/q"),
     [f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"]),
    (call("logs", "PutLogEvents", logGroupName="/aws/lambda/f", logStreamName="s"),
     [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:s"]),
    (call("logs", "FilterLogEvents", logGroupName="/aws/lambda/f"),
     [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f"]),
    (call("lambda", "Invoke", FunctionName="f", Qualifier="live"),
     [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f:live"]),
    (call("lambda", "GetFunction", FunctionName="f:3"),
     [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f:3"]),
    (call("ses", "SendEmail", Source=["Books <news@books.example>"]),
     [f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/books.example"]),
    (call("ses", "SendEmail", api="sesv2", FromEmailAddress="news@books.example",
          ConfigurationSetName="cs"),
     [f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/books.example",
      f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/cs"]),
    (call("iam", "GetRole", RoleName="r"), [f"arn:aws:iam::{ACCOUNT}:role/r"]),
    (call("sts", "GetCallerIdentity"), ["*"]),
])
def test_resources(c: Call, resources: list[str]) -> None:
    assert iam_enforce.resources_of(c) == resources


def test_a_json_body_is_read_whatever_protocol_the_model_names_first() -> None:
    # CodeDeploy's model lists smithy-rpc-v2-cbor first; botocore sends JSON.
    assert iam_enforce.parse_params("smithy-rpc-v2-cbor", {}, b'{"deploymentId": "d-1"}', {}) \
        == {"deploymentId": "d-1"}


def test_codedeploy_calls_are_authorised_on_the_deployment_group() -> None:
    group = f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:app/grp"
    groups = {"d-1": "app/grp"}.get
    assert iam_enforce.resources_of(call("codedeploy", "CreateDeployment", applicationName="app",
                                         deploymentGroupName="grp")) == [group]
    assert iam_enforce.resources_of(call("codedeploy", "PutLifecycleEventHookExecutionStatus",
                                         deploymentId="d-1"), None, groups) == [group]
    assert iam_enforce.resources_of(call("codedeploy", "GetDeployment", deploymentId="d-1"),
                                    None, groups) == [group]
    assert iam_enforce.resources_of(call("codedeploy", "GetApplication", applicationName="app")) \
        == [f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:application:app"]
    # a deployment the emulator does not know is checked against `*`, as before
    assert iam_enforce.resources_of(call("codedeploy", "GetDeployment", deploymentId="d-9"),
                                    None, groups) == ["*"]


def test_ses_sender_identity_is_the_address_when_it_is_an_identity() -> None:
    c = call("ses", "SendEmail", Source="news@books.example")
    assert iam_enforce.resources_of(c, lambda a: a) == [
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/news@books.example"]


def test_action_names_follow_iam_not_the_api() -> None:
    assert iam_enforce.action_of(call("lambda", "Invoke")) == "lambda:InvokeFunction"
    assert iam_enforce.action_of(call("ses", "SendEmail", api="sesv2")) == "ses:SendEmail"


def test_context_has_global_and_ses_keys() -> None:
    c = call("ses", "SendEmail", Source="Books <news@books.example>",
             **{"Destination.ToAddresses.member.1": ["a@x.example"],
                "Destination.BccAddresses.member.1": ["b@x.example"]})
    ctx = iam_enforce.context_of(c, CALLER, now=0)
    assert ctx["ses:FromAddress"] == ["news@books.example"]
    assert ctx["ses:FromDisplayName"] == ["Books"]
    assert sorted(ctx["ses:Recipients"]) == ["a@x.example", "b@x.example"]
    assert ctx["aws:SecureTransport"] == ["true"]
    assert ctx["aws:PrincipalArn"] == [f"arn:aws:iam::{ACCOUNT}:role/r"]
    assert ctx["aws:CurrentTime"] == ["1970-01-01T00:00:00Z"]
    insecure = Call(**{**c.__dict__, "secure": False})
    assert iam_enforce.context_of(insecure, CALLER)["aws:SecureTransport"] == ["false"]


def test_v2_recipients_from_json() -> None:
    c = call("ses", "SendEmail", api="sesv2",
             Destination={"ToAddresses": ["a@x"], "CcAddresses": ["C <c@x>"]})
    assert iam_enforce.context_of(c, CALLER)["ses:Recipients"] == ["a@x", "c@x"]


@pytest.mark.parametrize(("api", "service", "code", "status"), [
    ("dynamodb", "dynamodb", "AccessDeniedException", 400),
    ("lambda", "lambda", "AccessDeniedException", 403),
    ("ses", "ses", "AccessDenied", 403),
    ("sesv2", "ses", "AccessDeniedException", 403),
    ("sns", "sns", "AuthorizationError", 403),
    ("sqs", "sqs", "AccessDenied", 403),
])
def test_refusal_shape_per_service(api: str, service: str, code: str, status: int) -> None:
    refused = iam_enforce.refusal(call(service, "X", api=api), CALLER, f"{service}:X", "arn:r",
                                  Decision(IMPLICIT_DENY))
    assert (refused.code, refused.status) == (code, status)
    assert refused.message.startswith(f"User: {CALLER.arn} is not authorized to perform: ")
    assert refused.message.endswith("because no identity-based policy allows the "
                                    f"{service}:X action")


def test_refusal_names_the_explicit_deny() -> None:
    decision = Decision(EXPLICIT_DENY, (Match("topic", "resource", "Deny", "Deny"),))
    refused = iam_enforce.refusal(call("sns", "Publish"), CALLER, "sns:Publish", "arn:t",
                                  decision)
    assert "perform: SNS:Publish on resource: arn:t with an explicit deny in a resource-based " \
           "policy" in refused.message


def test_params_from_every_protocol() -> None:
    assert iam_enforce.parse_params("json", {}, '{"TableName": "t"}', {}) == {"TableName": "t"}
    assert iam_enforce.parse_params("json", {}, {"TableName": "t"}, {}) == {"TableName": "t"}
    assert iam_enforce.parse_params("rest-json", {"Qualifier": ["live"]}, b"",
                                    {"FunctionName": "f%3A1"}) == {
        "Qualifier": ["live"], "FunctionName": "f:1"}


def test_mode_defaults_to_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(iam_enforce.ENV_MODE, raising=False)
    assert iam_enforce.mode() == "functions"
    monkeypatch.setenv(iam_enforce.ENV_MODE, "ALL")
    assert iam_enforce.mode() == "all"


def test_access_key_from_the_signature() -> None:
    auth = ("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261128/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=abc")
    assert iam_enforce.access_key_of({"Authorization": auth}) == "ASIAEXAMPLE"
    assert iam_enforce.access_key_of({}) is None
