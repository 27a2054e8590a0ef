"""CodeDeploy lifecycle hooks: smoke tests of the version a release shifts traffic to.

Two more handlers of the same package, deployed as their own functions by
`notifyctl bootstrap` (their own role) and updated by every `deploy-lambda`:

* ``before_allow_traffic``: before any user traffic reaches the new version, invoke
  that version directly (``Qualifier`` = the AppSpec's TargetVersion) with a synthetic
  book event addressed to SES's mailbox simulator, then check that the invocation
  returned no error and logged none (its log tail), and that its de-dup record reached
  SENT. Reports Succeeded or Failed with PutLifecycleEventHookExecutionStatus.
* ``after_allow_traffic``: once all traffic is on the new version, check that its
  Errors metric (through the alias, by ExecutedVersion) stayed at zero since the
  deployment started.

Neither writes to a real user: the only email goes to the simulator. Each prints one
JSON line with the outcome and the reason (what ``notifyctl`` shows when a release
fails). Self-contained: it uses the contract's public ``build_event``/``encode`` only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from book_notifier import contract

SIMULATOR = "success@simulator.amazonses.com"
SENT = "SENT"
_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    """One client per service per container (module scope, built on first use)."""
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service)
    return _clients[service]


def _log(level: str, message: str, **fields: Any) -> None:
    print(json.dumps({"level": level, "message": message, **fields}, default=str))


def appspec_target(content: str) -> tuple[str, str]:
    """(function name, TargetVersion) from an AppSpec in JSON or in notifyctl's YAML."""
    try:
        doc = json.loads(content)
        props = next(iter(doc["Resources"][0].values()))["Properties"]
        return str(props["Name"]), str(props["TargetVersion"])
    except (ValueError, KeyError, IndexError, StopIteration, TypeError):
        pass
    name = re.search(r'^\s*Name:\s*"?([^"\n]+?)"?\s*$', content, re.M)
    target = re.search(r'^\s*TargetVersion:\s*"?([^"\n]+?)"?\s*$', content, re.M)
    if not name or not target:
        raise ValueError("the AppSpec names no function or TargetVersion")
    return name.group(1), target.group(1)


def _deployment(deployment_id: str) -> dict[str, Any]:
    return dict(_client("codedeploy").get_deployment(deploymentId=deployment_id)[
        "deploymentInfo"])


def _target(info: dict[str, Any]) -> tuple[str, str]:
    revision = info.get("revision") or {}
    content = (revision.get("appSpecContent") or revision.get("string") or {}).get(
        "content") or ""
    function, version = appspec_target(content)
    expected = os.environ["TARGET_FUNCTION"]
    if function != expected:
        raise ValueError(f"the deployment shifts {function}, this hook tests {expected}")
    return function, version


def synthetic_event(message_id: str, deployment_id: str) -> dict[str, Any]:
    """An SNS event like the topic's, for the simulator's mailbox."""
    base = os.environ.get("LINK_BASE_URL", "https://example.com/books/")
    event = contract.build_event(
        f"smoke-{deployment_id}", SIMULATOR, base + "smoke-test",
        "notifyctl release smoke test",
        allowed_hosts=[h for h in os.environ.get("LINK_ALLOWED_HOSTS", "").split(",") if h],
        allow_http=os.environ.get("ALLOW_HTTP_LINKS") == "true")
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": os.environ.get("TOPIC_ARN", "") + ":notifyctl-smoke-test",
        "Sns": {
            "Type": "Notification", "MessageId": message_id,
            "TopicArn": os.environ.get("TOPIC_ARN", ""), "Subject": None,
            "Message": contract.encode(event),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "",
            "UnsubscribeUrl": "",
            "MessageAttributes": {
                "event_type": {"Type": "String", "Value": "book_created"},
                "schema_version": {"Type": "Number", "Value": "1"}},
        }}]}


def smoke_test(function: str, version: str, deployment_id: str) -> str | None:
    """None when the version handled a real-looking event end to end; else why not."""
    message_id = f"notifyctl-smoke-{uuid.uuid4()}"
    got = _client("lambda").invoke(
        FunctionName=function, Qualifier=version, LogType="Tail",
        Payload=json.dumps(synthetic_event(message_id, deployment_id)).encode())
    tail = base64.b64decode(got.get("LogResult") or b"").decode("utf-8", "replace")
    if got.get("FunctionError"):
        payload = got["Payload"].read().decode("utf-8", "replace")
        return f"version {version} raised: {payload[:500]}"
    errors = [line for line in tail.splitlines()
              if '"level": "ERROR"' in line or "Traceback" in line or "[ERROR]" in line]
    if errors:
        return f"version {version} logged an error: {errors[0][:500]}"
    record = _client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": message_id}},
        ConsistentRead=True).get("Item") or {}
    status = (record.get("status") or {}).get("S")
    if status != SENT:
        return f"version {version}: the de-dup record of the smoke event is {status}, not SENT"
    return None


def errors_since_start(function: str, version: str, info: dict[str, Any]) -> str | None:
    """None when the version's Errors through the alias stayed at 0 since the start."""
    start = info.get("startTime") or info.get("createTime") or datetime.now(UTC)
    alias = os.environ.get("ALIAS", "live")
    got = _client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": function},
                    {"Name": "Resource", "Value": f"{function}:{alias}"},
                    {"Name": "ExecutedVersion", "Value": version}],
        StartTime=start - timedelta(minutes=1), EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60, Statistics=["Sum"])
    errors = sum(p.get("Sum", 0) for p in got.get("Datapoints", []))
    return f"version {version} had {errors:g} error(s) since the shift" if errors else None


def _run(event: dict[str, Any], name: str, check: Any) -> dict[str, str]:
    deployment_id = event["DeploymentId"]
    reason: str | None
    try:
        info = _deployment(deployment_id)
        function, version = _target(info)
        reason = check(function, version, deployment_id, info)
    except Exception as exc:  # a hook that cannot check must fail the release
        reason = f"{type(exc).__name__}: {exc}"
    status = "Failed" if reason else "Succeeded"
    _log("ERROR" if reason else "INFO", f"{name} {status}", deployment_id=deployment_id,
         reason=reason or "")
    _client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"], status=status)
    return {"status": status, "reason": reason or ""}


def before_allow_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _run(event, "BeforeAllowTraffic",
                lambda fn, version, deployment_id, _info: smoke_test(fn, version,
                                                                     deployment_id))


def after_allow_traffic(event: dict[str, Any], context: Any) -> dict[str, str]:
    return _run(event, "AfterAllowTraffic",
                lambda fn, version, _deployment_id, info: errors_since_start(fn, version,
                                                                             info))
