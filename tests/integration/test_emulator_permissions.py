"""Lambda AddPermission with an existing StatementId: 409 ResourceConflictException, as
on AWS (issue 19 item 4); the same id on another qualifier is another policy."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration


def test_add_permission_with_an_existing_statement_id_is_a_conflict(emulator: Any) -> None:
    lam = emulator.client("lambda")
    fn = emulator.create_function("def handler(e, c):\n    return 1\n", publish=True)
    name = fn["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    grant = {"FunctionName": name, "StatementId": "sns", "Action": "lambda:InvokeFunction",
             "Principal": "sns.amazonaws.com",
             "SourceArn": "arn:aws:sns:us-east-1:123456789012:books"}
    lam.add_permission(Qualifier="live", **grant)
    lam.add_permission(**grant)  # the unqualified function has its own policy

    with pytest.raises(ClientError) as err:
        lam.add_permission(Qualifier="live", **grant)

    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "The statement id (sns) provided already exists" in str(err.value)
    import json

    policy = json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    live = [s for s in policy["Statement"] if s["Resource"].endswith(":live")]
    assert [s["Sid"] for s in live] == ["sns"]  # the refused statement was not kept
