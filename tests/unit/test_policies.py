"""Every policy document notifyctl writes is least-privilege (see policies.WILDCARDS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notifyctl.config import load
from notifyctl.infra import policies
from notifyctl.infra.specs import build_specs

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.unit

ACCOUNT = "111122223333"


def specs_for(env_name: str, region: str = "eu-west-1") -> Any:
    env, _ = load(str(REPO / "config" / "notifyctl.yaml"), env_name)
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return build_specs(env, ACCOUNT, region, partition)


def documents(specs: Any) -> dict[str, dict[str, Any]]:
    return {"trust": specs.trust_policy, "function": specs.function_policy,
            "publisher": specs.publisher_policy, "topic": specs.topic_policy}


def resources(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for st in doc["Statement"]:
        res = st.get("Resource", [])
        out += res if isinstance(res, list) else [res]
    return out


@pytest.mark.parametrize("env_name", ["local", "dev", "prod"])
def test_no_wildcard_action_or_bare_wildcard_resource(env_name: str) -> None:
    for name, doc in documents(specs_for(env_name)).items():
        assert policies.lint(doc) == [], name
        json.dumps(doc)  # serialisable as written
        for st in doc["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert all("*" not in a for a in actions), (name, actions)


def test_every_resource_is_an_exact_arn_of_this_account_except_the_written_down_list() -> None:
    specs = specs_for("prod")
    allowed_suffix = ":log-group:/aws/lambda/books-prod-notifier:*"
    for name, doc in documents(specs).items():
        for res in resources(doc):
            assert res.startswith("arn:aws:") and f":{ACCOUNT}:" in res, (name, res)
            if "*" in res:
                assert res.endswith(allowed_suffix), (name, res)
    assert any("log-group" in w[1] for w in policies.WILDCARDS)


def test_function_policy_grants_exactly_the_issue_list() -> None:
    specs = specs_for("dev")
    st = {s["Sid"]: s for s in specs.function_policy["Statement"]}
    assert st["WriteOwnLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert st["WriteOwnLogs"]["Resource"] == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/books-dev-notifier:*")
    assert sorted(st["DedupTable"]["Action"]) == [
        "dynamodb:PutItem", "dynamodb:UpdateItem"]  # the function never reads or deletes
    assert st["DedupTable"]["Resource"] == f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/books-dev-dedup"
    # SESv2 SendEmail with a configuration set is authorised on both resources.
    assert st["SendAsSender"]["Resource"] == [
        f"arn:aws:ses:eu-west-1:{ACCOUNT}:identity/notifications@example.com",
        f"arn:aws:ses:eu-west-1:{ACCOUNT}:configuration-set/books-dev-notifications"]
    assert st["SendAsSender"]["Condition"] == {
        "StringEquals": {"ses:FromAddress": "notifications@example.com"}}
    assert st["OnFailureDestination"] == {
        "Sid": "OnFailureDestination", "Effect": "Allow", "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:books-dev-notifier-failures"}


def test_domain_sender_is_authorised_on_the_domain_identity() -> None:
    st = {s["Sid"]: s for s in specs_for("prod").function_policy["Statement"]}
    assert f"arn:aws:ses:eu-west-1:{ACCOUNT}:identity/books.example.com" in st[
        "SendAsSender"]["Resource"]
    assert st["SendAsSender"]["Condition"]["StringEquals"]["ses:FromAddress"] == (
        "notifications@books.example.com")


def test_trust_policy_is_lambda_in_this_account_only() -> None:
    st = specs_for("dev").trust_policy["Statement"][0]
    assert st["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert st["Action"] == "sts:AssumeRole"
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_publisher_policy_is_publish_on_the_topic_only() -> None:
    doc = specs_for("dev").publisher_policy
    assert doc["Statement"] == [{"Sid": "PublishBookEvents", "Effect": "Allow",
                                 "Action": "sns:Publish",
                                 "Resource": f"arn:aws:sns:eu-west-1:{ACCOUNT}:books-dev-book-events"}]


def test_topic_policy_allows_account_publishers_and_denies_plain_http() -> None:
    doc = specs_for("dev").topic_policy
    st = {s["Sid"]: s for s in doc["Statement"]}
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert st["AccountPublishers"]["Principal"] == {"AWS": root}
    assert st["DenyInsecureTransport"]["Effect"] == "Deny"
    assert st["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert all(s["Principal"] != "*" for s in doc["Statement"] if s["Effect"] == "Allow")


def test_sns_permission_carries_source_arn_and_account() -> None:
    params = policies.sns_invoke_permission(function_name="f", qualifier="live",
                                            statement_id="s", topic_arn="arn:aws:sns:r:1:t",
                                            account="1")
    assert params["Principal"] == "sns.amazonaws.com"
    assert params["SourceArn"] == "arn:aws:sns:r:1:t"
    assert params["SourceAccount"] == "1"
    assert params["Qualifier"] == "live"


def test_other_partitions_get_their_own_arns() -> None:
    specs = specs_for("dev", region="cn-north-1")
    assert all(r.startswith("arn:aws-cn:") for d in documents(specs).values()
               for r in resources(d))


@pytest.mark.parametrize("bad, problem", [
    ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:x"}]}, "wildcard action"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:x"}]}, "wildcard action"),
    ({"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}, "bare `*`"),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish",
                     "Resource": "arn:x"}]}, "every principal"),
    ({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:x"}]}, "NotAction"),
])
def test_lint_catches_overly_broad_statements(bad: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in policies.lint(bad))


def test_normalize_ignores_order_single_element_lists_and_url_encoding() -> None:
    from urllib.parse import quote

    a = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["b", "a"],
                                                 "Resource": ["arn:x"]}]}
    b = {"Statement": [{"Resource": "arn:x", "Action": ["a", "b"], "Effect": "Allow"}],
         "Version": "2012-10-17"}
    assert policies.normalize(a) == policies.normalize(b)
    assert policies.normalize(quote(json.dumps(a))) == policies.normalize(b)


def test_feedback_policy_is_update_item_on_the_table_and_its_own_logs_only() -> None:
    specs = specs_for("dev")
    st = {s["Sid"]: s for s in specs.feedback_policy["Statement"]}
    assert st["RecordDelivery"]["Action"] == "dynamodb:UpdateItem"  # never creates one
    assert st["RecordDelivery"]["Resource"] == (
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/books-dev-dedup")
    assert st["WriteOwnLogs"]["Resource"] == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/books-dev-feedback:*")
    assert set(st) == {"RecordDelivery", "WriteOwnLogs"}
    assert policies.lint(specs.feedback_policy) == []


def test_only_ses_for_this_configuration_set_may_publish_the_email_events() -> None:
    specs = specs_for("dev")
    [ses] = [s for s in specs.ses_events_topic_policy["Statement"]
             if s["Sid"] == "SesPublishesEvents"]
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"}
    assert ses["Action"] == "sns:Publish"
    assert ses["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": ACCOUNT},
        "ArnLike": {"AWS:SourceArn":
                    f"arn:aws:ses:eu-west-1:{ACCOUNT}:configuration-set/books-dev-notifications"}}
    assert policies.lint(specs.ses_events_topic_policy) == []
