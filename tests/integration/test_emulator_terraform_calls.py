"""Emulator answers that Terraform's AWS provider (Go SDK, strict decoding) depends on.

boto3 parses a timestamp given as a string as readily as a number, so these read
the raw response bodies; the Terraform round trip (test_terraform_roundtrip.py)
is where they were found.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _raw_bodies(client: Any, operation: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append(json.loads(http_response.content))

    client.meta.events.register(f"after-call.lambda.{operation}", keep)
    return bodies


def test_event_invoke_config_last_modified_is_a_json_number(emulator: Any) -> None:
    fn = emulator.create_function("def handler(e, c):\n    return 1\n", publish=True)
    lam = emulator.client("lambda")
    put = _raw_bodies(lam, "PutFunctionEventInvokeConfig")
    get = _raw_bodies(lam, "GetFunctionEventInvokeConfig")
    lam.put_function_event_invoke_config(FunctionName=fn["FunctionName"], Qualifier="1",
                                         MaximumRetryAttempts=1)
    lam.get_function_event_invoke_config(FunctionName=fn["FunctionName"], Qualifier="1")

    for body in (*put, *get):
        assert isinstance(body["LastModified"], int | float), body
        assert body["FunctionArn"].endswith(f":{fn['FunctionName']}:1")


def test_a_lambda_deployment_group_has_no_load_balancer_info(emulator: Any) -> None:
    # moto answered loadBalancerInfo {} for every group; Terraform read it as an empty
    # load_balancer_info block and planned to remove it on every run.
    import uuid

    cd = emulator.client("codedeploy")
    app = f"lb-{uuid.uuid4().hex[:8]}"
    cd.create_application(applicationName=app, computePlatform="Lambda")
    cd.create_deployment_group(
        applicationName=app, deploymentGroupName="live",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"})
    group = cd.get_deployment_group(applicationName=app,
                                    deploymentGroupName="live")["deploymentGroupInfo"]
    assert "loadBalancerInfo" not in group, group
    assert group["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
    cd.delete_application(applicationName=app)
