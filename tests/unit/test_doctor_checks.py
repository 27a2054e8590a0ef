"""Each doctor check on stubbed AWS answers: what passes, what fails, with which fix.
No I/O: clients are `Stub`s, DNS a dictionary, the clock a number."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from fakes import FakeAws, Stub, aws_error

from notifyctl.config.loader import load
from notifyctl.doctor import access, drift, function, health, ses, wiring
from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.dns import DnsUnavailable
from notifyctl.doctor.model import FAIL, PASS, WARN, Check, run_checks
from notifyctl.infra.specs import build_specs

ACCOUNT = "123456789012"
NOW = 1_790_000_000.0


@pytest.fixture
def env() -> Any:
    environment, _ = load(None, "local", environ={})
    return dataclasses.replace(environment, endpoint_url=None)


def ctx_for(env: Any, **clients: Any) -> DoctorContext:
    return DoctorContext(env, FakeAws(clients), clock=lambda: NOW)


def arns(env: Any) -> Any:
    return build_specs(env, ACCOUNT, "us-east-1").arns


# ---------------------------------------------------------------- the runner
def test_an_access_denied_in_one_check_is_a_warn_of_that_check_only(env: Any) -> None:
    def denied(ctx: DoctorContext) -> Any:
        raise aws_error("AccessDenied", "GetQueueAttributes", "not allowed")

    checks = (Check("a.denied", denied), Check("a.fine", lambda ctx: ses.passed("ok")))
    report = run_checks(ctx_for(env), checks)

    assert [r.status for r in report.results] == [WARN, PASS]
    assert "not checked" in report.results[0].evidence
    assert report.ok


def test_another_aws_error_fails_that_check_and_the_rest_still_run(env: Any) -> None:
    def broken(ctx: DoctorContext) -> Any:
        raise aws_error("ValidationException", "Scan", "bad\nsecond line")

    checks = (Check("a.broken", broken), Check("a.fine", lambda ctx: ses.passed("ok")))
    report = run_checks(ctx_for(env), checks)

    assert report.failing == ["a.broken"]
    assert "\n" not in report.results[0].evidence
    assert report.results[1].status == PASS


def test_a_check_whose_requirement_failed_is_skipped_with_the_reason(env: Any) -> None:
    checks = (Check("a.first", lambda ctx: ses.failed("down", "start it")),
              Check("a.second", lambda ctx: ses.passed("never"), requires=("a.first",)))
    report = run_checks(ctx_for(env), checks, )

    assert report.get("a.second").status == WARN
    assert report.get("a.second").evidence == "skipped: a.first failed"
    assert not report.ok


def test_only_runs_the_named_checks_and_groups(env: Any) -> None:
    checks = (Check("a.x", lambda ctx: ses.passed("1")), Check("b.y", lambda ctx: ses.passed("2")),
              Check("b.z", lambda ctx: ses.passed("3")))
    assert [r.name for r in run_checks(ctx_for(env), checks, ["b"]).results] == ["b.y", "b.z"]
    assert [r.name for r in run_checks(ctx_for(env), checks, ["a.x"]).results] == ["a.x"]


# ---------------------------------------------------------------- access
def test_endpoint_passes_when_the_emulator_answers_and_fails_when_nothing_listens(
        env: Any) -> None:
    class Settings:
        endpoint_url = "http://127.0.0.1:9"  # discard port: nothing listens

    aws = FakeAws({})
    aws.settings = Settings()  # type: ignore[attr-defined]
    up = DoctorContext(env, aws, probe=lambda url: {"pid": 42})
    down = DoctorContext(env, aws, probe=lambda url: None)

    assert access.endpoint(up).status == PASS
    result = access.endpoint(down)
    assert result.status == FAIL
    assert result.fix == "start the emulator: `notifyctl local start`"


def test_identity_names_the_account_or_fails_with_the_credentials_hint(env: Any) -> None:
    ok = ctx_for(env, sts=Stub(get_caller_identity={"Account": ACCOUNT, "Arn": "arn:me"}))
    bad = ctx_for(env, sts=Stub(get_caller_identity=aws_error("InvalidClientTokenId")))

    assert ACCOUNT in access.identity(ok).evidence
    result = access.identity(bad)
    assert result.status == FAIL
    assert "get-caller-identity" in result.fix


# ---------------------------------------------------------------- SES
def account(**fields: Any) -> dict[str, Any]:
    base = {"ProductionAccessEnabled": True, "SendingEnabled": True,
            "EnforcementStatus": "HEALTHY",
            "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0,
                          "SentLast24Hours": 10.0}}
    return {**base, **fields}


def test_sandbox_is_a_warn_with_how_to_leave_it(env: Any) -> None:
    result = ses.account(ctx_for(env, sesv2=Stub(get_account=account(
        ProductionAccessEnabled=False))))
    assert result.status == WARN
    assert "sandbox" in result.evidence
    assert "production access" in result.fix


def test_production_access_passes_and_shutdown_fails(env: Any) -> None:
    assert ses.account(ctx_for(env, sesv2=Stub(get_account=account()))).status == PASS
    assert ses.account(ctx_for(env, sesv2=Stub(get_account=account(
        EnforcementStatus="SHUTDOWN")))).status == FAIL


def test_account_unknown_where_get_account_is_not_implemented(env: Any) -> None:
    result = ses.account(ctx_for(env, sesv2=Stub(get_account=aws_error("500"))))
    assert result.status == WARN
    assert "does not answer" in result.evidence


def test_sending_disabled_fails_with_the_command_that_enables_it(env: Any) -> None:
    result = ses.sending(ctx_for(env, sesv2=Stub(get_account=account(SendingEnabled=False))))
    assert result.status == FAIL
    assert "put-account-sending-attributes --sending-enabled" in result.fix


def test_quota_headroom_and_rate(env: Any) -> None:
    used_up = account(SendQuota={"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                                 "SentLast24Hours": 200.0})
    nearly = account(SendQuota={"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                                "SentLast24Hours": 190.0})
    assert ses.quota(ctx_for(env, sesv2=Stub(get_account=account()))).status == PASS
    assert ses.quota(ctx_for(env, sesv2=Stub(get_account=used_up))).status == FAIL
    assert ses.quota(ctx_for(env, sesv2=Stub(get_account=nearly))).status == WARN
    fast = ctx_for(env, sesv2=Stub(get_account=account()))
    fast.rate = 50
    result = ses.quota(fast)
    assert result.status == FAIL
    assert "--rate 14" in result.fix


def test_quota_falls_back_to_ses_v1(env: Any) -> None:
    result = ses.quota(ctx_for(env, sesv2=Stub(get_account=aws_error("500")),
                               ses=Stub(get_send_quota={"Max24HourSend": 200.0,
                                                        "MaxSendRate": 1.0,
                                                        "SentLast24Hours": 3.0})))
    assert result.status == PASS
    assert result.evidence == "3 of 200 sent in 24 h, max 1/s"


def verification(status: str | None) -> Stub:
    attrs = {} if status is None else {"VerificationStatus": status}
    return Stub(get_identity_verification_attributes=lambda Identities: {
        "VerificationAttributes": {Identities[0]: attrs} if attrs else {}})


def test_identity_verified_pending_and_missing(env: Any) -> None:
    assert ses.identity(ctx_for(env, ses=verification("Success"))).status == PASS
    pending = ses.identity(ctx_for(env, ses=verification("Pending")))
    assert pending.status == FAIL
    assert "click the link" in pending.fix
    missing = ses.identity(ctx_for(env, ses=verification(None)))
    assert missing.status == FAIL
    assert "`notifyctl bootstrap`" in missing.fix


def domain_env(env: Any) -> Any:
    return dataclasses.replace(env, sender="books@mail.example.com",
                               sending_domain="mail.example.com")


def dkim(status: str, enabled: bool = True) -> Stub:
    return Stub(get_identity_dkim_attributes=lambda Identities: {"DkimAttributes": {
        Identities[0]: {"DkimEnabled": enabled, "DkimVerificationStatus": status,
                        "DkimTokens": ["t1", "t2", "t3"]}}},
                get_identity_verification_attributes=lambda Identities: {
                    "VerificationAttributes": {Identities[0]: {
                        "VerificationStatus": "Success", "VerificationToken": "tok"}}})


def test_dkim_pending_is_a_warn_naming_the_cnames_and_failed_fails(env: Any) -> None:
    denv = domain_env(env)
    assert ses.dkim(ctx_for(denv, ses=dkim("Success"))).status == PASS
    pending = ses.dkim(ctx_for(denv, ses=dkim("Pending")))
    assert pending.status == WARN
    assert "CNAME" in pending.fix
    assert ses.dkim(ctx_for(denv, ses=dkim("Failed"))).status == FAIL
    assert ses.dkim(ctx_for(denv, ses=dkim("Success", enabled=False))).status == FAIL
    assert ses.dkim(ctx_for(env, ses=dkim("Pending"))).status == PASS  # an address identity


class FakeResolver:
    def __init__(self, zone: dict[tuple[str, str], list[str]], offline: bool = False) -> None:
        self.zone, self.offline = zone, offline

    def lookup(self, name: str, rdtype: str) -> list[str]:
        if self.offline:
            raise DnsUnavailable("DNS did not answer")
        return self.zone.get((name, rdtype), [])


FULL_ZONE = {
    ("_amazonses.mail.example.com", "TXT"): ["tok"],
    **{(f"{t}._domainkey.mail.example.com", "CNAME"): [f"{t}.dkim.amazonses.com"]
       for t in ("t1", "t2", "t3")},
    ("mail.example.com", "TXT"): ["v=spf1 include:amazonses.com ~all"],
    ("_dmarc.mail.example.com", "TXT"): ["v=DMARC1; p=none"],
}


def test_dns_records_published_missing_and_offline(env: Any) -> None:
    denv = domain_env(env)

    def run(zone: dict[tuple[str, str], list[str]], offline: bool = False) -> Any:
        ctx = ctx_for(denv, ses=dkim("Success"))
        ctx.resolver = FakeResolver(zone, offline)
        return ses.dns(ctx)

    assert run(FULL_ZONE).status == PASS
    no_dkim = {k: v for k, v in FULL_ZONE.items() if k[0] != "t2._domainkey.mail.example.com"}
    result = run(no_dkim)
    assert result.status == FAIL
    assert result.fix == ("publish CNAME t2._domainkey.mail.example.com = "
                          "t2.dkim.amazonses.com")
    no_dmarc = {k: v for k, v in FULL_ZONE.items() if not k[0].startswith("_dmarc")}
    assert run(no_dmarc).status == WARN
    offline = run(FULL_ZONE, offline=True)
    assert offline.status == WARN
    assert offline.evidence.startswith("skipped:")


def test_dns_without_a_resolver_is_skipped_with_a_reason(env: Any) -> None:
    result = ses.dns(ctx_for(domain_env(env), ses=dkim("Success")))
    assert result.status == WARN
    assert "offline" in result.evidence


def reputation_ctx(env: Any, bounce: float | None, complaint: float | None) -> DoctorContext:
    def stats(MetricName: str, **_: Any) -> dict[str, Any]:
        value = bounce if MetricName == "Reputation.BounceRate" else complaint
        return {"Datapoints": [] if value is None else [{"Timestamp": 1, "Maximum": value}]}
    return ctx_for(env, cloudwatch=Stub(get_metric_statistics=stats),
                   ses=Stub(get_send_statistics={"SendDataPoints": []}))


@pytest.mark.parametrize(("bounce", "complaint", "status"), [
    (0.01, 0.0005, PASS), (0.05, 0.0, WARN), (0.0, 0.001, WARN), (0.10, 0.0, FAIL),
    (0.0, 0.005, FAIL)])
def test_reputation_against_aws_review_and_pause_levels(env: Any, bounce: float,
                                                        complaint: float, status: str) -> None:
    assert ses.reputation(reputation_ctx(env, bounce, complaint)).status == status


def test_reputation_from_send_statistics_when_no_metric(env: Any) -> None:
    ctx = reputation_ctx(env, None, None)
    ctx.aws.clients["ses"] = Stub(get_send_statistics={"SendDataPoints": [
        {"DeliveryAttempts": 100, "Bounces": 12, "Complaints": 0}]})
    result = ses.reputation(ctx)
    assert result.status == FAIL
    assert "12.00%" in result.evidence


def test_a_suppressed_recipient_fails_with_the_delete_command(env: Any) -> None:
    def suppressed(EmailAddress: str) -> Any:
        if EmailAddress == "gone@example.com":
            return {"SuppressedDestination": {"Reason": "BOUNCE"}}
        raise aws_error("NotFoundException")

    ctx = ctx_for(env, sesv2=Stub(get_account=account(),
                                  get_suppressed_destination=suppressed))
    ctx.recipients = ("ok@example.com", "gone@example.com")
    result = ses.recipients(ctx)
    assert result.status == FAIL
    assert "gone@example.com is on the account's suppression list (BOUNCE)" in result.evidence
    assert "delete-suppressed-destination --email-address gone@example.com" in result.fix
    ctx.recipients = ("ok@example.com",)
    ctx._memo.clear()
    assert ses.recipients(ctx).status == PASS


def test_an_unverified_recipient_fails_in_the_sandbox(env: Any) -> None:
    ctx = ctx_for(env, sesv2=Stub(get_account=account(ProductionAccessEnabled=False),
                                  get_suppressed_destination=aws_error("NotFoundException")),
                  ses=verification(None))
    ctx.recipients = ("new@example.com",)
    result = ses.recipients(ctx)
    assert result.status == FAIL
    assert "not verified and the account is in the sandbox" in result.evidence


# ---------------------------------------------------------------- wiring
def subscriptions(*endpoints: str, pending: bool = False) -> Stub:
    subs = [{"Protocol": "lambda", "Endpoint": e, "SubscriptionArn": f"arn:aws:sns:x:{i}"}
            for i, e in enumerate(endpoints)]
    return Stub(list_subscriptions_by_topic={"Subscriptions": subs},
                get_subscription_attributes={"Attributes": {
                    "PendingConfirmation": "true" if pending else "false"}})


def test_subscription_to_the_alias_passes(env: Any) -> None:
    a = arns(env)
    assert wiring.subscription(ctx_for(env, sns=subscriptions(a.alias))).status == PASS


@pytest.mark.parametrize("suffix", [":$LATEST", "", ":3"])
def test_subscription_to_latest_unqualified_or_a_version_fails(env: Any, suffix: str) -> None:
    a = arns(env)
    result = wiring.subscription(ctx_for(env, sns=subscriptions(a.function + suffix)))
    assert result.status == FAIL
    assert "not alias live" in result.evidence
    assert result.fix.startswith("`aws sns unsubscribe --subscription-arn arn:aws:sns:x:0`")


def test_no_subscription_and_pending_confirmation_fail(env: Any) -> None:
    a = arns(env)
    assert wiring.subscription(ctx_for(env, sns=subscriptions())).status == FAIL
    assert wiring.subscription(ctx_for(env, sns=subscriptions(a.alias, pending=True))
                               ).status == FAIL


def policy_stub(*statements: dict[str, Any]) -> Stub:
    return Stub(get_policy={"Policy": json.dumps({"Statement": list(statements)})})


def sns_statement(source_arn: str | None, account: str | None = ACCOUNT) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    if source_arn:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if account:
        condition["StringEquals"] = {"AWS:SourceAccount": account}
    return {"Sid": "s", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": "x", "Condition": condition}


def test_permission_for_exactly_this_topic_passes(env: Any) -> None:
    a = arns(env)
    assert wiring.permission(ctx_for(env, **{"lambda": policy_stub(sns_statement(a.topic))})
                             ).status == PASS


def test_missing_permission_fails_with_bootstrap_and_other_topic_too(env: Any) -> None:
    no_policy = ctx_for(env, **{"lambda": Stub(get_policy=aws_error(
        "ResourceNotFoundException"))})
    other = ctx_for(env, **{"lambda": policy_stub(sns_statement("arn:aws:sns:x:1:other"))})
    for ctx in (no_policy, other):
        result = wiring.permission(ctx)
        assert result.status == FAIL
        assert "every delivery is refused" in result.evidence
        assert result.fix.startswith("`notifyctl bootstrap`")


def test_permission_without_source_arn_or_with_extra_topics_warns(env: Any) -> None:
    a = arns(env)
    loose = ctx_for(env, **{"lambda": policy_stub(sns_statement(None, None))})
    extra = ctx_for(env, **{"lambda": policy_stub(sns_statement(a.topic),
                                                  sns_statement("arn:aws:sns:x:1:other"))})
    assert wiring.permission(loose).status == WARN
    assert wiring.permission(extra).status == WARN


def test_invoke_config_missing_or_elsewhere_fails(env: Any) -> None:
    a = arns(env)
    good = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {"OnFailure": {"Destination": a.queue}}}
    elsewhere = {**good, "DestinationConfig": {}}
    assert wiring.invoke_config(ctx_for(env, **{"lambda": Stub(
        get_function_event_invoke_config=good)})).status == PASS
    assert wiring.invoke_config(ctx_for(env, **{"lambda": Stub(
        get_function_event_invoke_config=elsewhere)})).status == FAIL
    assert wiring.invoke_config(ctx_for(env, **{"lambda": Stub(
        get_function_event_invoke_config=aws_error("ResourceNotFoundException"))})
    ).status == FAIL
    assert wiring.invoke_config(ctx_for(env, **{"lambda": Stub(
        get_function_event_invoke_config={**good, "MaximumRetryAttempts": 0})})).status == WARN


def test_topic_missing_fails(env: Any) -> None:
    assert wiring.topic(ctx_for(env, sns=Stub(get_topic_attributes=aws_error("NotFound")))
                        ).status == FAIL
    assert wiring.topic(ctx_for(env, sns=Stub(get_topic_attributes={"Attributes": {}}))
                        ).status == PASS


# ---------------------------------------------------------------- function
def lambda_config(**fields: Any) -> Stub:
    def config(FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        return {"State": "Active", "LastUpdateStatus": "Successful", "Version": "4",
                "Role": f"arn:aws:iam::{ACCOUNT}:role/r", **fields}
    return Stub(get_function_configuration=config)


def test_state_active_failed_and_updating(env: Any) -> None:
    assert function.state(ctx_for(env, **{"lambda": lambda_config()})).status == PASS
    assert function.state(ctx_for(env, **{"lambda": lambda_config(
        State="Failed", StateReason="bad zip")})).status == FAIL
    assert function.state(ctx_for(env, **{"lambda": lambda_config(
        LastUpdateStatus="InProgress")})).status == WARN
    assert function.state(ctx_for(env, **{"lambda": Stub(
        get_function_configuration=aws_error("ResourceNotFoundException"))})).status == FAIL


def test_alias_on_latest_fails_and_on_a_version_passes(env: Any) -> None:
    assert function.alias(ctx_for(env, **{"lambda": Stub(get_alias={
        "FunctionVersion": "3"})})).status == PASS
    latest = function.alias(ctx_for(env, **{"lambda": Stub(get_alias={
        "FunctionVersion": "$LATEST"})}))
    assert latest.status == FAIL
    assert "`notifyctl deploy-lambda`" in latest.fix


def test_environment_mismatch_names_the_variable(env: Any) -> None:
    from notifyctl.release.function_spec import desired_function_config

    wanted = desired_function_config(env).environment
    good = lambda_config(Environment={"Variables": dict(wanted)})
    bad = lambda_config(Environment={"Variables": {**wanted, "SENDER": "old@example.com"}})
    assert function.environment(ctx_for(env, **{"lambda": good})).status == PASS
    result = function.environment(ctx_for(env, **{"lambda": bad}))
    assert result.status == FAIL
    assert "SENDER='old@example.com'" in result.evidence


def test_role_questions_come_from_the_policy_bootstrap_writes(env: Any) -> None:
    specs = build_specs(env, ACCOUNT, "us-east-1")
    asked = function.questions(specs.function_policy)
    ses_question = next(q for q in asked if "ses:SendEmail" in q.actions)
    assert ses_question.context == (("ses:FromAddress", env.sender),)
    logs_question = next(q for q in asked if "logs:PutLogEvents" in q.actions)
    assert logs_question.resources[0].startswith(specs.arns.log_group + ":log-stream:")


def test_role_denied_action_fails_naming_it_and_not_implemented_warns(env: Any) -> None:
    def simulate(ActionNames: list[str], ResourceArns: list[str], **_: Any) -> Any:
        return {"EvaluationResults": [
            {"EvalActionName": a, "EvalResourceName": ResourceArns[0],
             "EvalDecision": "implicitDeny" if a == "ses:SendEmail" else "allowed"}
            for a in ActionNames]}

    denied = function.role(ctx_for(env, **{"lambda": lambda_config(),
                                           "iam": Stub(simulate_principal_policy=simulate)}))
    assert denied.status == FAIL
    assert "ses:SendEmail on arn:aws:ses:" in denied.evidence
    assert "(implicitDeny)" in denied.evidence
    unknown = function.role(ctx_for(env, **{"lambda": lambda_config(), "iam": Stub(
        simulate_principal_policy=aws_error("NotImplemented"))}))
    assert unknown.status == WARN


# ---------------------------------------------------------------- health
def queue(depth: int, age: float | None = None) -> dict[str, Any]:
    return {"sqs": Stub(get_queue_url={"QueueUrl": "q"}, get_queue_attributes={"Attributes": {
                "ApproximateNumberOfMessages": str(depth),
                "ApproximateNumberOfMessagesNotVisible": "0"}}),
            "cloudwatch": Stub(get_metric_statistics={"Datapoints": [] if age is None else [
                {"Maximum": age}]})}


def test_failure_queue_empty_passes_and_waiting_events_fail_with_redrive(env: Any) -> None:
    assert health.failure_queue(ctx_for(env, **queue(0))).status == PASS
    result = health.failure_queue(ctx_for(env, **queue(3, age=7200.0)))
    assert result.status == FAIL
    assert "3 event(s)" in result.evidence and "oldest 2.0 h" in result.evidence
    assert "notifyctl failures redrive" in result.fix


def scan(*items: dict[str, Any], more: bool = False) -> Stub:
    page = {"Items": list(items), "ScannedCount": 1000 if more else len(items)}
    if more:
        page["LastEvaluatedKey"] = {"pk": {"S": "x"}}
    return Stub(scan=page)


def item(pk: str, status: str, **numbers: int) -> dict[str, Any]:
    out: dict[str, Any] = {"pk": {"S": pk}, "status": {"S": status}}
    out.update({k: {"N": str(v)} for k, v in numbers.items()})
    return out


def test_records_stale_lease_failed_and_unconfirmed_fail(env: Any) -> None:
    stale = item("m-stale", "IN_PROGRESS", lease_until=int(NOW) - 600,
                 claimed_at=int(NOW - 700) * 1000)
    retrying = item("m-retry", "IN_PROGRESS", lease_until=0, claimed_at=int(NOW - 60) * 1000)
    result = health.records(ctx_for(env, dynamodb=scan(stale, retrying)))
    assert result.status == FAIL
    assert "1 stuck IN_PROGRESS past the lease: m-stale (lease ended 10 min ago)" \
        in result.evidence
    assert "m-retry" not in result.evidence  # released for Lambda's retry: not stuck
    assert result.fix.startswith("`notifyctl trace m-stale`")
    failed_ = health.records(ctx_for(env, dynamodb=scan(item("m-f", "FAILED"),
                                                        item("m-u", "UNCONFIRMED"))))
    assert "1 FAILED" in failed_.evidence and "1 UNCONFIRMED" in failed_.evidence
    assert health.records(ctx_for(env, dynamodb=scan())).status == PASS


def test_records_scan_is_bounded_and_says_so(env: Any) -> None:
    ddb = scan(more=True)
    result = health.records(ctx_for(env, dynamodb=ddb))
    assert len(ddb.calls) == health.SCAN_PAGES
    assert all(kw["Limit"] == health.SCAN_PAGE for _, kw in ddb.calls)
    assert "bounded scan" in result.evidence


def test_alarms_in_alarm_on_our_resources_fail(env: Any) -> None:
    firing = {"MetricAlarms": [
        {"AlarmName": "someone-elses", "Dimensions": [{"Name": "QueueName", "Value": "x"}]},
        {"AlarmName": "errors", "StateReason": "Threshold Crossed",
         "Dimensions": [{"Name": "FunctionName", "Value": env.function_name}]}]}
    result = health.alarms(ctx_for(env, cloudwatch=Stub(describe_alarms=firing)))
    assert result.status == FAIL
    assert result.evidence == "1 in ALARM: errors (Threshold Crossed)"
    assert health.alarms(ctx_for(env, cloudwatch=Stub(describe_alarms={"MetricAlarms": [
        firing["MetricAlarms"][0]]}))).status == PASS


@pytest.mark.parametrize(("invocations", "errors", "status"), [
    (0, 0, PASS), (100, 0, PASS), (100, 3, WARN), (100, 10, FAIL)])
def test_error_rate_of_the_last_hour(env: Any, invocations: int, errors: int,
                                     status: str) -> None:
    def stats(MetricName: str, **_: Any) -> Any:
        value = invocations if MetricName == "Invocations" else errors
        return {"Datapoints": [{"Sum": float(value)}] if value else []}
    assert health.errors(ctx_for(env, cloudwatch=Stub(get_metric_statistics=stats))
                         ).status == status


# ---------------------------------------------------------------- drift
def test_drift_pending_changes_warn_and_conflicts_fail(env: Any, monkeypatch: Any) -> None:
    from notifyctl.plans.model import CONFLICT, CREATE, UNCHANGED, Plan, Step

    def plan_of(*steps: Step) -> Any:
        return lambda aws, env: (None, Plan(tuple(steps)))

    ctx = ctx_for(env)
    monkeypatch.setattr(drift, "bootstrap_plan", plan_of(Step(UNCHANGED, "sns-topic", "t")))
    assert drift.plan(ctx).status == PASS
    monkeypatch.setattr(drift, "bootstrap_plan", plan_of(Step(CREATE, "lambda-permission",
                                                              "p")))
    warn = drift.plan(ctx)
    assert warn.status == WARN and "create lambda-permission p" in warn.evidence
    monkeypatch.setattr(drift, "bootstrap_plan", plan_of(Step(CONFLICT, "sns-topic", "t",
                                                              note="not ours")))
    assert drift.plan(ctx).status == FAIL
