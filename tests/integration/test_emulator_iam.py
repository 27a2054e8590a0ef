"""IAM enforced for functions: calls made with the execution role's credentials are
authorised against its policies (issue 13 item 2), and SimulatePrincipalPolicy answers
from the same evaluator (issue 18)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import ACCOUNT, LAMBDA_TRUST, REGION

pytestmark = pytest.mark.integration

# A probe function: tries each call in the event and reports the error code (or "ok").
PROBE = '''
import json
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    out = {}
    for name, call in event["calls"].items():
        client = boto3.client(call["service"])
        try:
            resp = getattr(client, call["op"])(**call.get("args", {}))
            out[name] = resp.get("Arn") if call["op"] == "get_caller_identity" else "ok"
        except ClientError as exc:
            out[name] = exc.response["Error"]["Code"] + " " + exc.response["Error"]["Message"]
    return out
'''


def _role(emulator: Any, policy: dict[str, Any] | None = None) -> str:
    iam = emulator.client("iam")
    name = emulator.unique("probe-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="probe", PolicyDocument=json.dumps(policy))
    return str(arn)


def _probe(emulator: Any, role: str, calls: dict[str, Any]) -> dict[str, str]:
    name = emulator.create_function(PROBE, name=emulator.unique("iam-probe"), role=role,
                                    timeout=10)["FunctionName"]  # waits for Active
    resp = emulator.client("lambda").invoke(FunctionName=name,
                                            Payload=json.dumps({"calls": calls}).encode())
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return dict(payload)


def _table(emulator: Any) -> str:
    name = emulator.unique("iam-table")
    emulator.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return name


def _put(table: str) -> dict[str, Any]:
    return {"service": "dynamodb", "op": "put_item",
            "args": {"TableName": table, "Item": {"pk": {"S": "x"}}}}


def _send(sender: str) -> dict[str, Any]:
    return {"service": "ses", "op": "send_email",
            "args": {"Source": sender, "Destination": {"ToAddresses": ["to@example.com"]},
                     "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}}


def _bucket(emulator: Any) -> str:
    name = emulator.unique("iam-bucket")
    emulator.client("s3").create_bucket(Bucket=name)
    return name


CALLER = {"service": "sts", "op": "get_caller_identity"}


def test_role_without_policies_is_denied_everything_inside_the_function(emulator: Any) -> None:
    table, bucket = _table(emulator), _bucket(emulator)
    emulator.client("ses").verify_email_identity(EmailAddress="from@example.com")
    role = _role(emulator)
    out = _probe(emulator, role, {
        "who": CALLER, "put": _put(table), "send": _send("from@example.com"),
        "s3": {"service": "s3", "op": "put_object",
               "args": {"Bucket": bucket, "Key": "k", "Body": b"x".decode()}},
    })
    role_name = role.rsplit("/", 1)[1]
    assert out["who"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/iam-probe-")
    assert out["put"].startswith("AccessDeniedException User: arn:aws:sts::")
    assert f"dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}" \
        in out["put"]
    assert "because no identity-based policy allows" in out["put"]
    assert out["send"].startswith("AccessDenied ")
    assert out["s3"].startswith("AccessDenied")


def test_deny_all_policy_is_an_explicit_deny(emulator: Any) -> None:
    table = _table(emulator)
    role = _role(emulator, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    out = _probe(emulator, role, {"put": _put(table), "who": CALLER})
    assert out["put"].startswith("AccessDeniedException")
    assert "with an explicit deny in an identity-based policy" in out["put"]
    assert ":assumed-role/" in out["who"]  # GetCallerIdentity needs no permission


def test_least_privilege_allows_exactly_its_resources_and_conditions(emulator: Any) -> None:
    allowed, other = _table(emulator), _table(emulator)
    ses = emulator.client("ses")
    ses.verify_domain_identity(Domain="books.example")
    role = _role(emulator, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"],
         "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{allowed}"},
        {"Effect": "Allow", "Action": "ses:SendEmail",
         "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/books.example",
         "Condition": {"StringEquals": {"ses:FromAddress": "news@books.example"}}}]})
    out = _probe(emulator, role, {
        "put_allowed": _put(allowed), "put_other": _put(other),
        "send_sender": _send("News <news@books.example>"),
        "send_other_sender": _send("ceo@books.example"),
    })
    assert out["put_allowed"] == "ok"
    assert out["put_other"].startswith("AccessDeniedException")
    assert out["send_sender"] == "ok"
    assert out["send_other_sender"].startswith("AccessDenied ")


def test_operator_calls_stay_unrestricted(emulator: Any) -> None:
    table = _table(emulator)
    emulator.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "op"}})
    assert "Item" in emulator.client("dynamodb").get_item(TableName=table,
                                                          Key={"pk": {"S": "op"}})


def test_topic_policy_deny_applies_to_the_function(emulator: Any) -> None:
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=emulator.unique("iam-topic"))["TopicArn"]
    role = _role(emulator, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}]})
    publish = {"service": "sns", "op": "publish", "args": {"TopicArn": topic, "Message": "m"}}
    assert _probe(emulator, role, {"pub": publish})["pub"] == "ok"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "sns:Publish",
             "Resource": topic}]}))
    out = _probe(emulator, role, {"pub": publish})["pub"]
    assert out.startswith("AuthorizationError User: ")
    assert f"SNS:Publish on resource: {topic} with an explicit deny in a resource-based policy" \
        in out


def test_simulate_principal_policy_uses_the_enforcing_evaluator(emulator: Any) -> None:
    table = _table(emulator)
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    role = _role(emulator, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]})
    results = emulator.client("iam").simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["dynamodb:PutItem", "dynamodb:DeleteItem",
                                           "dynamodb:GetItem"],
        ResourceArns=[table_arn])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"dynamodb:PutItem": "allowed", "dynamodb:DeleteItem": "explicitDeny",
                         "dynamodb:GetItem": "implicitDeny"}
    matched = {r["EvalActionName"]: r["MatchedStatements"] for r in results}
    assert matched["dynamodb:PutItem"][0]["SourcePolicyId"] == "probe"


def test_simulate_custom_policy_with_context(emulator: Any) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*",
         "Condition": {"StringEquals": {"ses:FromAddress": "a@x.example"}}}]})
    iam = emulator.client("iam")

    def decide(sender: str) -> str:
        return str(iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=["ses:SendEmail"],
            ContextEntries=[{"ContextKeyName": "ses:FromAddress", "ContextKeyValues": [sender],
                             "ContextKeyType": "string"}])["EvaluationResults"][0]["EvalDecision"])

    assert decide("a@x.example") == "allowed"
    assert decide("b@x.example") == "implicitDeny"


# -- `--enforce-iam all` on an emulator evaluating calls as plain HTTP ------------------

@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from notifyctl.emulator import control, iam_enforce

    root = tmp_path_factory.mktemp("iam-strict")
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root, extra_env={
        iam_enforce.ENV_MODE: "all", iam_enforce.ENV_SECURE_TRANSPORT: "false"})
    try:
        yield info.endpoint
    finally:
        control.stop("127.0.0.1", port, state_dir=root)


def _client(endpoint: str, service: str, key: str = "testing", secret: str = "testing") -> Any:
    import boto3

    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name=REGION,
                                          aws_access_key_id=key, aws_secret_access_key=secret)


def test_topic_policy_denies_publishing_without_tls_to_an_allowed_user(strict: str) -> None:
    from notifyctl.infra import policies

    sns, iam = _client(strict, "sns"), _client(strict, "iam")
    topic = sns.create_topic(Name="books")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(
        policies.topic_policy(topic, f"arn:aws:iam::{ACCOUNT}:root")))
    iam.create_user(UserName="webapp")
    publisher = iam.create_policy(PolicyName="publish", PolicyDocument=json.dumps(
        policies.publisher_policy(topic)))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="webapp", PolicyArn=publisher)
    key = iam.create_access_key(UserName="webapp")["AccessKey"]
    webapp = _client(strict, "sns", key["AccessKeyId"], key["SecretAccessKey"])

    with pytest.raises(ClientError) as denied:
        webapp.publish(TopicArn=topic, Message="m")

    assert denied.value.response["Error"]["Code"] == "AuthorizationError"
    assert "with an explicit deny in a resource-based policy" in str(denied.value)
    sns.publish(TopicArn=topic, Message="m")  # the operator's keys act as root: unchecked
