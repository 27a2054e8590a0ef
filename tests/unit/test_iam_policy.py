"""The emulator's IAM evaluator against AWS's documented evaluation logic."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl.emulator.iam_policy import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Policy,
    Request,
    evaluate,
)
from notifyctl.infra import policies

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/notifier"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/notifier/fn"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/dedup"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:books"


def doc(*statements: dict[str, Any]) -> Policy:
    return Policy.parse({"Version": "2012-10-17", "Statement": list(statements)}, "p")


def req(action: str, resource: str = TABLE, **context: Any) -> Request:
    ctx = {k.replace("__", ":"): v if isinstance(v, list) else [v] for k, v in context.items()}
    return Request(action=action, resource=resource, principal_arns=(SESSION, ROLE),
                   account=ACCOUNT, context=ctx)


def decide(request: Request, *identity: Policy, resource: Policy | None = None) -> str:
    return evaluate(request, identity, [resource] if resource else []).decision


def allow(action: Any = "dynamodb:PutItem", resource: Any = TABLE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_no_policy_is_an_implicit_deny() -> None:
    assert decide(req("dynamodb:PutItem")) == IMPLICIT_DENY


def test_an_explicit_deny_overrides_any_allow() -> None:
    policy = doc(allow("dynamodb:*", "*"), {"Effect": "Deny", "Action": "*", "Resource": "*"})
    result = evaluate(req("dynamodb:PutItem"), [policy])
    assert result.decision == EXPLICIT_DENY
    assert result.denied_by == "identity"


def test_actions_match_case_insensitively_with_wildcards() -> None:
    policy = doc(allow(["DynamoDB:put*", "dynamodb:Get?tem"]))
    assert decide(req("dynamodb:PutItem"), policy) == ALLOWED
    assert decide(req("dynamodb:GetItem"), policy) == ALLOWED
    assert decide(req("dynamodb:DeleteItem"), policy) == IMPLICIT_DENY


def test_resources_match_case_sensitively_and_wildcards_span_segments() -> None:
    assert decide(req("dynamodb:PutItem"), doc(allow(resource="arn:aws:dynamodb:*:*:table/*"))) \
        == ALLOWED
    assert decide(req("dynamodb:PutItem"), doc(allow(resource=TABLE.upper()))) == IMPLICIT_DENY
    logs = policies.function_policy(
        log_streams_arn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:*",
        table_arn=TABLE, queue_arn="arn:aws:sqs:us-east-1:1:q",
        ses_identity_arns=["arn:aws:ses:us-east-1:1:identity/x"], sender="a@x")
    stream = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:log-stream:2026/[1]ab"
    assert decide(req("logs:PutLogEvents", stream), Policy.parse(logs)) == ALLOWED


def test_not_action_and_not_resource() -> None:
    everything_but_delete = doc({"Effect": "Allow", "NotAction": "dynamodb:Delete*",
                                 "Resource": "*"})
    assert decide(req("dynamodb:PutItem"), everything_but_delete) == ALLOWED
    assert decide(req("dynamodb:DeleteItem"), everything_but_delete) == IMPLICIT_DENY
    deny_elsewhere = doc(allow("dynamodb:*", "*"),
                         {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE})
    assert decide(req("dynamodb:PutItem"), deny_elsewhere) == ALLOWED
    assert decide(req("dynamodb:PutItem", TABLE + "2"), deny_elsewhere) == EXPLICIT_DENY


def test_a_statement_without_action_or_resource_matches_nothing() -> None:
    assert decide(req("dynamodb:PutItem"), doc({"Effect": "Allow", "Resource": "*"})) \
        == IMPLICIT_DENY


SEND = allow("ses:SendEmail", "*", Condition={"StringEquals": {"ses:FromAddress": "a@x.example"}})


@pytest.mark.parametrize(("context", "expected"), [
    ({"ses__FromAddress": "a@x.example"}, ALLOWED),
    ({"ses__FromAddress": "b@x.example"}, IMPLICIT_DENY),
    ({}, IMPLICIT_DENY),  # a key missing from the request: the condition is false
])
def test_string_equals_condition(context: dict[str, str], expected: str) -> None:
    assert decide(req("ses:SendEmail", "*", **context), doc(SEND)) == expected


def test_condition_keys_are_case_insensitive_values_case_sensitive() -> None:
    assert decide(req("ses:SendEmail", "*", SES__FROMADDRESS="a@x.example"), doc(SEND)) == ALLOWED
    assert decide(req("ses:SendEmail", "*", ses__FromAddress="A@x.example"), doc(SEND)) \
        == IMPLICIT_DENY


def test_values_of_one_key_are_ored_keys_and_operators_anded() -> None:
    policy = doc(allow("ses:SendEmail", "*", Condition={
        "StringLike": {"ses:FromAddress": ["*@a.example", "*@b.example"]},
        "Bool": {"aws:SecureTransport": "true"}}))
    assert decide(req("ses:SendEmail", "*", ses__FromAddress="x@b.example",
                      aws__SecureTransport="true"), policy) == ALLOWED
    assert decide(req("ses:SendEmail", "*", ses__FromAddress="x@b.example",
                      aws__SecureTransport="false"), policy) == IMPLICIT_DENY
    assert decide(req("ses:SendEmail", "*", ses__FromAddress="x@c.example",
                      aws__SecureTransport="true"), policy) == IMPLICIT_DENY


def test_negated_operators_match_when_the_key_is_missing_or_matches_none() -> None:
    policy = doc(allow("dynamodb:*", "*"), {
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}})
    assert decide(req("dynamodb:PutItem", aws__RequestedRegion="us-east-1"), policy) == ALLOWED
    assert decide(req("dynamodb:PutItem", aws__RequestedRegion="ap-south-1"), policy) \
        == EXPLICIT_DENY
    assert decide(req("dynamodb:PutItem"), policy) == EXPLICIT_DENY


def test_if_exists_and_null() -> None:
    if_exists = doc(allow(Condition={"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}))
    assert decide(req("dynamodb:PutItem"), if_exists) == ALLOWED
    assert decide(req("dynamodb:PutItem", aws__SourceVpc="vpc-2"), if_exists) == IMPLICIT_DENY
    absent = doc(allow(Condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert decide(req("dynamodb:PutItem"), absent) == ALLOWED
    assert decide(req("dynamodb:PutItem", aws__TokenIssueTime="2026-01-01T00:00:00Z"), absent) \
        == IMPLICIT_DENY


def test_for_all_values_and_for_any_value() -> None:
    all_in = doc(allow("ses:SendEmail", "*", Condition={
        "ForAllValues:StringLike": {"ses:Recipients": ["*@books.example"]}}))
    assert decide(req("ses:SendEmail", "*", ses__Recipients=["a@books.example",
                                                             "b@books.example"]), all_in) \
        == ALLOWED
    assert decide(req("ses:SendEmail", "*", ses__Recipients=["a@books.example",
                                                             "b@evil.example"]), all_in) \
        == IMPLICIT_DENY
    any_in = doc(allow("ses:SendEmail", "*", Condition={
        "ForAnyValue:StringEquals": {"ses:Recipients": ["vip@books.example"]}}))
    assert decide(req("ses:SendEmail", "*", ses__Recipients=["x@y", "vip@books.example"]),
                  any_in) == ALLOWED
    assert decide(req("ses:SendEmail", "*"), any_in) == IMPLICIT_DENY


@pytest.mark.parametrize(("operator", "expected", "value", "allowed"), [
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericGreaterThanEquals", "10", "10", True),
    ("DateLessThan", "2030-01-01T00:00:00Z", "2026-11-28T10:00:00Z", True),
    ("DateGreaterThan", "2030-01-01T00:00:00Z", "2026-11-28T10:00:00Z", False),
    ("IpAddress", "127.0.0.0/8", "127.0.0.1", True),
    ("NotIpAddress", "127.0.0.0/8", "10.0.0.1", True),
    ("ArnLike", "arn:aws:sns:*:123456789012:book*", TOPIC, True),
    ("ArnLike", "arn:aws:sns:*:999999999999:*", TOPIC, False),
    ("ArnNotEquals", TOPIC, TOPIC, False),
    ("StringEqualsIgnoreCase", "ABC", "abc", True),
    ("StringNotLike", "a*", "abc", False),
])
def test_operators(operator: str, expected: str, value: str, allowed: bool) -> None:
    policy = doc(allow(Condition={operator: {"k:key": expected}}))
    decision = decide(req("dynamodb:PutItem", k__key=value), policy)
    assert decision == (ALLOWED if allowed else IMPLICIT_DENY)


def test_an_unknown_operator_never_matches() -> None:
    assert decide(req("dynamodb:PutItem", k__key="a"),
                  doc(allow(Condition={"StringSortOf": {"k:key": "a"}}))) == IMPLICIT_DENY


def test_resource_policy_naming_only_the_account_delegates_to_iam() -> None:
    topic_policy = Policy.parse(policies.topic_policy(TOPIC, f"arn:aws:iam::{ACCOUNT}:root"),
                                "topic", kind="resource")
    publish = req("sns:Publish", TOPIC, aws__SecureTransport="true")
    assert decide(publish, resource=topic_policy) == IMPLICIT_DENY
    publisher = Policy.parse(policies.publisher_policy(TOPIC), "publisher")
    assert decide(publish, publisher, resource=topic_policy) == ALLOWED


def test_topic_policy_denies_publishing_without_tls_even_when_iam_allows() -> None:
    topic_policy = Policy.parse(policies.topic_policy(TOPIC, f"arn:aws:iam::{ACCOUNT}:root"),
                                "topic", kind="resource")
    publisher = Policy.parse(policies.publisher_policy(TOPIC), "publisher")
    result = evaluate(req("sns:Publish", TOPIC, aws__SecureTransport="false"), [publisher],
                      [topic_policy])
    assert result.decision == EXPLICIT_DENY
    assert result.denied_by == "resource"


def test_resource_policy_naming_the_role_grants_by_itself() -> None:
    grant = Policy.parse({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE},
                                         "Action": "sns:Publish", "Resource": TOPIC}]},
                         "topic", kind="resource")
    assert decide(req("sns:Publish", TOPIC), resource=grant) == ALLOWED
    other = Policy.parse({"Statement": [{"Effect": "Allow",
                                         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"},
                                         "Action": "sns:Publish", "Resource": TOPIC}]},
                         "topic", kind="resource")
    assert decide(req("sns:Publish", TOPIC), resource=other) == IMPLICIT_DENY


def test_not_principal_deny_applies_to_everyone_else() -> None:
    policy = Policy.parse({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": ROLE},
                                          "Action": "sns:*", "Resource": TOPIC}]},
                          "topic", kind="resource")
    publisher = Policy.parse(policies.publisher_policy(TOPIC), "publisher")
    assert decide(req("sns:Publish", TOPIC), publisher, resource=policy) == ALLOWED
    stranger = Request(action="sns:Publish", resource=TOPIC, account=ACCOUNT,
                       principal_arns=(f"arn:aws:iam::{ACCOUNT}:user/u",))
    assert evaluate(stranger, [publisher], [policy]).decision == EXPLICIT_DENY


def test_bootstraps_function_policy_allows_what_the_function_does_and_no_more() -> None:
    identity = f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/books.example"
    role = Policy.parse(policies.function_policy(
        log_streams_arn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:*",
        table_arn=TABLE, queue_arn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures",
        ses_identity_arns=[identity], sender="news@books.example"), "inline")
    assert decide(req("dynamodb:PutItem"), role) == ALLOWED
    assert decide(req("dynamodb:Scan"), role) == IMPLICIT_DENY
    assert decide(req("ses:SendEmail", identity, ses__FromAddress="news@books.example"),
                  role) == ALLOWED
    assert decide(req("ses:SendEmail", identity, ses__FromAddress="boss@books.example"),
                  role) == IMPLICIT_DENY
