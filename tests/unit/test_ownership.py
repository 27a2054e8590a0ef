"""The ownership rule and adoption's equivalence, without AWS: which tags make a
resource ours or adoptable, the one refusal, policy forms AWS treats as equal, and
the per-field diff a non-equivalent resource shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifyctl.config import load
from notifyctl.errors import OperationError
from notifyctl.infra import ownership
from notifyctl.infra import planner as p
from notifyctl.infra.diff import field_diff
from notifyctl.infra.policies import normalize

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    return load(str(REPO / "config" / "notifyctl.yaml"), "dev")[0]


def test_ownership_names_the_planners_kinds() -> None:
    named = {ownership.FUNCTION, ownership.ALIAS, ownership.HOOK_FUNCTION, ownership.QUEUE,
             ownership.TABLE, ownership.TOPIC, ownership.CODEDEPLOY_APP}
    assert named <= set(p.KINDS)
    assert set(ownership.PARENT) | set(ownership.PARENT.values()) <= set(p.KINDS)
    assert set(ownership.READERS) <= set(p.KINDS)
    # every kind a changing command asks about is readable (directly or via its parent)
    assert {ownership.PARENT.get(k, k) for k in named} <= set(ownership.READERS)


def test_untagged_and_foreign_tool_tags_are_adoptable_another_env_is_not(env) -> None:  # type: ignore[no-untyped-def]
    assert ownership.adoptable({}, env)
    assert ownership.adoptable(None, env)
    assert ownership.adoptable({"managed-by": "terraform"}, env)
    assert ownership.adoptable({"notifyctl:env": env.name}, env)  # managed-by missing
    assert not ownership.adoptable({"managed-by": "notifyctl", "notifyctl:env": env.name}, env)
    assert not ownership.adoptable({"managed-by": "notifyctl", "notifyctl:env": "prod"}, env)


def test_the_refusal_is_one_line_naming_the_resource_and_the_fix(env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationError) as caught:
        ownership.require_ours("lambda-function", "books-notifier", {}, env)
    message = caught.value.message
    assert "\n" not in message
    assert "lambda-function books-notifier" in message
    assert "notifyctl bootstrap --adopt" in message
    assert caught.value.exit_code == 1
    with pytest.raises(OperationError) as other:
        ownership.require_ours("sqs-queue", "q", {"notifyctl:env": "prod"}, env)
    assert "'prod'" in other.value.message and "--adopt" not in other.value.message
    # ours, or absent (the caller's own error): no refusal
    ownership.require_ours("sqs-queue", "q", {"managed-by": "notifyctl",
                                              "notifyctl:env": env.name}, env)
    ownership.require_ours("sqs-queue", "q", None, env)


TOPIC = "arn:aws:sns:us-east-1:123456789012:books-book-events"


def test_policy_forms_aws_treats_as_equal_compare_equal() -> None:
    ours = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "123456789012"},
         "Action": ["sns:Publish"], "Resource": [TOPIC],
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}},
        {"Sid": "B", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
         "Resource": TOPIC, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    theirs = {"Statement": [
        {"Sid": "B", "Effect": "Deny", "Principal": {"AWS": ["*"]}, "Action": "sns:Publish",
         "Resource": TOPIC, "Condition": {"Bool": {"AWS:SecureTransport": "false"}}},
        {"Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}},
         "Resource": TOPIC, "Action": "sns:Publish", "Effect": "Allow", "Sid": "A",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}], "Version": "2012-10-17"}
    assert normalize(ours) == normalize(theirs)
    single = {"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"}}}
    listed = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["sts:AssumeRole"],
        "Principal": {"Service": ["lambda.amazonaws.com"]}}]}
    assert normalize(single) == normalize(listed)


def test_policies_that_grant_differently_stay_different() -> None:
    base = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:q"}]}
    wider = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:DeleteMessage"],
         "Resource": "arn:aws:sqs:q"}]}
    other_condition = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:q",
         "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}]}
    assert normalize(base) != normalize(wider)
    assert normalize(base) != normalize(other_condition)


def test_a_document_diff_shows_only_what_differs_and_scalars_read_as_arrows() -> None:
    live = {"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}}
    wanted = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "arn:aws:logs:x"}]}
    lines = field_diff("inline policy notifier", live, wanted)
    assert lines[0] == "--- inline policy notifier (live)"
    assert [line for line in lines if line.startswith(("-", "+"))][2:] == [
        '-      "Resource": "*"', '+      "Resource": "arn:aws:logs:x"']
    assert field_diff("MemorySize", 1024, 256) == ["MemorySize: 1024 -> 256"]
