"""SES as a real account sees it (issue 13 item 3): account APIs, the suppression list,
sending pause, and (on a sandboxed emulator) verified recipients, the rate, Pending
identities verified with `notifyctl local ses verify`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from notifyctl.emulator import control, outbox, ses_account

pytestmark = pytest.mark.integration

SENDER = "books@ses-probe.example"


def v2_send(client: Any, to: list[str], subject: str, sender: str = SENDER) -> str:
    return str(client.send_email(
        FromEmailAddress=sender, Destination={"ToAddresses": to},
        Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": "b"}}}},
    )["MessageId"])


def v1_send(client: Any, to: list[str], subject: str, sender: str = SENDER) -> str:
    return str(client.send_email(
        Source=sender, Destination={"ToAddresses": to},
        Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": "b"}}})["MessageId"])


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def regional(endpoint: str, service: str, region: str) -> Any:
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


def test_account_apis_answer_as_a_production_account(emulator: Any) -> None:
    account = emulator.client("sesv2").get_account()
    assert account["ProductionAccessEnabled"] is True
    assert account["SendingEnabled"] is True
    assert account["EnforcementStatus"] == "HEALTHY"
    assert account["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]
    assert account["SendQuota"]["MaxSendRate"] > 1
    assert emulator.client("ses").get_account_sending_enabled()["Enabled"] is True


def test_send_quota_counts_the_last_24_hours_against_the_real_limit(emulator: Any) -> None:
    ses = regional(emulator.endpoint, "ses", "ap-south-1")
    ses.verify_domain_identity(Domain="ses-probe.example")
    before = ses.get_send_quota()
    v1_send(ses, ["a@reader.example", "b@reader.example"], emulator.unique("quota"))
    after = ses.get_send_quota()
    assert after["SentLast24Hours"] == before["SentLast24Hours"] + 2
    assert after["Max24HourSend"] == 1_000_000  # the emulator's production stand-in
    sv2 = regional(emulator.endpoint, "sesv2", "ap-south-1").get_account()["SendQuota"]
    assert sv2["SentLast24Hours"] == after["SentLast24Hours"]


def test_suppression_list_apis_and_a_suppressed_recipient_is_not_delivered(
        emulator: Any) -> None:
    sesv2 = emulator.client("sesv2")
    emulator.client("ses").verify_domain_identity(Domain="ses-probe.example")
    gone = f"{emulator.unique('gone')}@reader.example"
    kept = f"{emulator.unique('kept')}@reader.example"
    sesv2.put_suppressed_destination(EmailAddress=gone, Reason="BOUNCE")

    got = sesv2.get_suppressed_destination(EmailAddress=gone)["SuppressedDestination"]
    assert (got["EmailAddress"], got["Reason"]) == (gone, "BOUNCE")
    listed = sesv2.list_suppressed_destinations(Reasons=["BOUNCE"])
    assert gone in [s["EmailAddress"] for s in listed["SuppressedDestinationSummaries"]]

    subject = emulator.unique("suppressed")
    message_id = v2_send(sesv2, [gone, kept], subject)
    only_gone = v2_send(sesv2, [gone], subject + "-alone")

    assert message_id and only_gone  # accepted
    mails = {e.subject: e for e in outbox.read(emulator.endpoint)}
    assert mails[subject].to == [kept]
    assert subject + "-alone" not in mails

    sesv2.delete_suppressed_destination(EmailAddress=gone)
    with pytest.raises(ClientError) as missing:
        sesv2.get_suppressed_destination(EmailAddress=gone)
    assert error(missing)[0] == "NotFoundException"


def test_paused_sending_is_refused_in_both_apis(emulator: Any) -> None:
    region = "ca-central-1"  # the pause is per account and region: keep it to this test
    ses, sesv2 = (regional(emulator.endpoint, s, region) for s in ("ses", "sesv2"))
    ses.verify_domain_identity(Domain="ses-probe.example")
    sesv2.put_account_sending_attributes(SendingEnabled=False)
    try:
        assert sesv2.get_account()["SendingEnabled"] is False
        with pytest.raises(ClientError) as v2:
            v2_send(sesv2, ["a@reader.example"], "paused")
        with pytest.raises(ClientError) as v1:
            v1_send(ses, ["a@reader.example"], "paused")
    finally:
        ses.update_account_sending_enabled(Enabled=True)
    assert error(v2)[0] == "SendingPausedException"
    assert error(v1)[0] == "AccountSendingPausedException"
    assert ses.get_account_sending_enabled()["Enabled"] is True


# -- a sandboxed emulator, identities Pending until verified -----------------------------

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("ses-sandbox")
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root, extra_env={
        ses_account.ENV_SANDBOX: "true", ses_account.ENV_AUTO_VERIFY: "false"})
    try:
        yield info.endpoint
    finally:
        control.stop("127.0.0.1", port, state_dir=Path(root))


def test_sandbox_account_says_so(sandbox: str) -> None:
    account = regional(sandbox, "sesv2", "us-east-1").get_account()
    assert account["ProductionAccessEnabled"] is False
    assert (account["SendQuota"]["Max24HourSend"], account["SendQuota"]["MaxSendRate"]) == \
        (200.0, 1.0)


def test_identity_is_pending_until_local_ses_verify(sandbox: str, cli: Any) -> None:
    ses = regional(sandbox, "ses", "us-east-1")
    ses.verify_email_identity(EmailAddress="pending@ses-probe.example")
    status = ses.get_identity_verification_attributes(
        Identities=["pending@ses-probe.example"])["VerificationAttributes"]
    assert status["pending@ses-probe.example"]["VerificationStatus"] == "Pending"
    with pytest.raises(ClientError) as refused:
        v1_send(ses, ["success@simulator.amazonses.com"], "pending",
                sender="pending@ses-probe.example")
    assert error(refused)[0] == "MessageRejected"

    result = cli("--output", "json", "--endpoint-url", sandbox, "local", "ses", "verify",
                 "pending@ses-probe.example")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "Success"
    status = ses.get_identity_verification_attributes(
        Identities=["pending@ses-probe.example"])["VerificationAttributes"]
    assert status["pending@ses-probe.example"]["VerificationStatus"] == "Success"
    identity = regional(sandbox, "sesv2", "us-east-1").get_email_identity(
        EmailIdentity="pending@ses-probe.example")
    assert identity["VerifiedForSendingStatus"] is True


def test_local_ses_verify_of_an_unknown_identity_is_a_usage_error(sandbox: str, cli: Any) -> None:
    result = cli("--endpoint-url", sandbox, "local", "ses", "verify", "nobody@nowhere.example")
    assert result.exit_code == 2
    assert "no such SES identity" in result.output + result.stderr


def _verified_sender(sandbox: str) -> Any:
    ses = regional(sandbox, "ses", "us-east-1")
    ses.verify_domain_identity(Domain="ses-probe.example")
    ses_account.verify(sandbox, "ses-probe.example")
    return ses


def test_sandbox_rejects_unverified_recipients_but_not_the_simulator(sandbox: str) -> None:
    ses = _verified_sender(sandbox)
    sesv2 = regional(sandbox, "sesv2", "us-east-1")
    with pytest.raises(ClientError) as v1:
        v1_send(ses, ["stranger@reader.example"], "sandbox")
    code, message = error(v1)
    assert code == "MessageRejected"
    assert message == ("Email address is not verified. The following identities failed the "
                       "check in region US-EAST-1: stranger@reader.example")
    with pytest.raises(ClientError) as v2:
        v2_send(sesv2, ["stranger@reader.example"], "sandbox")
    assert error(v2)[0] == "MessageRejected"
    assert v2_send(sesv2, ["success+label@simulator.amazonses.com"], "simulator")


def test_sandbox_rate_is_one_recipient_per_second(sandbox: str) -> None:
    ses = _verified_sender(sandbox)
    with pytest.raises(ClientError) as throttled:
        v1_send(ses, ["success@simulator.amazonses.com", "ooto@simulator.amazonses.com"],
                "two at once")
    assert error(throttled) == ("Throttling", "Maximum sending rate exceeded.")


def test_suppression_list_management_is_disabled_in_the_sandbox(sandbox: str) -> None:
    with pytest.raises(ClientError) as refused:
        regional(sandbox, "sesv2", "us-east-1").put_suppressed_destination(
            EmailAddress="a@reader.example", Reason="BOUNCE")
    assert error(refused)[0] == "BadRequestException"
