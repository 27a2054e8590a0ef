"""The emulator's memoised IAM decisions follow every IAM change at once: the next call
after a write (through the API or on moto's objects directly) is decided on the new
policies, never on a remembered answer."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from notifyctl.emulator import iam_enforce
from notifyctl.emulator.iam_enforce import Call, Caller

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/dedup"


def _doc(effect: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": effect, "Action": "dynamodb:PutItem",
                                 "Resource": TABLE}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def role(moto_aws: None) -> Caller:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    arn = f"arn:aws:iam::{ACCOUNT}:role/fn-role"
    return Caller(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/fn", account=ACCOUNT,
                  kind="role", name="fn-role",
                  principal_arns=(f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/fn", arn))


def _put(**params: Any) -> Call:
    return Call(service="dynamodb", api="dynamodb", operation="PutItem",
                params={"TableName": "dedup", **params}, path="/", region="us-east-1",
                account=ACCOUNT)


def _allowed(caller: Caller, call: Call | None = None) -> bool:
    return iam_enforce.authorize(call or _put(), caller) is None


def test_a_role_policy_change_through_the_api_decides_the_very_next_call(role: Caller) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    assert not _allowed(role)  # no policy: implicit deny
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=_doc("Allow"))
    assert _allowed(role) and _allowed(role)  # decided, then remembered
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=_doc("Deny"))
    assert not _allowed(role)
    iam.delete_role_policy(RoleName="fn-role", PolicyName="p")
    assert not _allowed(role)
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=_doc("Allow"))
    assert _allowed(role)
    managed = iam.create_policy(PolicyName="deny", PolicyDocument=_doc("Deny"))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=managed)
    assert not _allowed(role)
    iam.create_policy_version(PolicyArn=managed, PolicyDocument=_doc("Allow"), SetAsDefault=True)
    assert _allowed(role)
    iam.set_default_policy_version(PolicyArn=managed, VersionId="v1")
    assert not _allowed(role)
    iam.detach_role_policy(RoleName="fn-role", PolicyArn=managed)
    assert _allowed(role)
    iam.delete_role_policy(RoleName="fn-role", PolicyName="p")
    iam.delete_role(RoleName="fn-role")
    assert not _allowed(role)


def test_a_change_made_on_motos_objects_directly_is_seen_at_once(role: Caller) -> None:
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT]["aws"]
    backend.put_role_policy("fn-role", "p", _doc("Allow"))
    assert _allowed(role)
    backend.get_role("fn-role").policies["p"] = _doc("Deny")
    assert not _allowed(role)
    del backend.get_role("fn-role").policies["p"]
    assert not _allowed(role)
    backend.get_role("fn-role").policies["p"] = _doc("Allow")
    assert _allowed(role)


def test_a_condition_is_decided_on_each_calls_own_context(role: Caller) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=_doc(
        "Allow", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}))
    assert _allowed(role)
    other = Call(service="dynamodb", api="dynamodb", operation="PutItem",
                 params={"TableName": TABLE}, path="/", region="eu-west-1", account=ACCOUNT)
    assert not _allowed(role, other)
    assert _allowed(role)


def test_a_clock_condition_is_decided_on_the_clock_of_each_call(
        role: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=_doc(
        "Allow", {"NumericLessThan": {"aws:EpochTime": "2000000000"}}))
    monkeypatch.setattr(iam_enforce.time, "time", lambda: 1_999_999_999.0)
    assert _allowed(role)
    monkeypatch.setattr(iam_enforce.time, "time", lambda: 2_000_000_001.0)
    assert not _allowed(role)
