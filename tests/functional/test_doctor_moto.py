"""doctor and trace against moto: a bootstrapped environment is healthy, and the
AWS-only facts moto cannot produce (sandbox, DKIM pending, published DNS) are stubbed
on top of moto's real answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import aws_error

from notifyctl.doctor import DoctorContext, diagnose
from notifyctl.doctor.model import FAIL, PASS, WARN

pytestmark = pytest.mark.functional


class Override:
    """A real (moto) client with some methods answering differently."""

    def __init__(self, client: Any, **answers: Any) -> None:
        self._client, self._answers = client, answers

    def __getattr__(self, name: str) -> Any:
        if name in self._answers:
            answer = self._answers[name]
            if isinstance(answer, BaseException):
                def fail(**_: Any) -> Any:
                    raise answer
                return fail
            return answer if callable(answer) else (lambda **_: answer)
        return getattr(self._client, name)


class Aws:
    """moto's AwsClients with some clients overridden."""

    def __init__(self, real: Any, **overrides: Any) -> None:
        self._real, self._overrides = real, overrides
        self.region, self.partition = real.region, real.partition
        self.settings = real.settings

    @property
    def account_id(self) -> str:
        return str(self._real.account_id)

    def client(self, service: str) -> Any:
        make = self._overrides.get(service)
        return make(self._real.client(service)) if make else self._real.client(service)


@pytest.fixture
def config(pipeline_config: Any) -> str:
    return str(pipeline_config("d-books", pitr=False))


@pytest.fixture
def bootstrapped(cli: Any, config: str, moto_aws: None) -> Any:
    def make(env: str = "dev") -> Any:
        from notifyctl.config.loader import load

        result = cli("--config", config, "--env", env, "bootstrap", "--yes")
        assert result.exit_code == 0, result.output
        return load(config, env)[0]
    return make


def test_a_bootstrapped_environment_passes_or_warns_with_reasons(cli: Any, config: str,
                                                                 bootstrapped: Any) -> None:
    bootstrapped()
    result = cli("--config", config, "--env", "dev", "--output", "json", "doctor", "--no-dns")

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert report["ok"] is True
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert set(statuses.values()) <= {PASS, WARN}
    # moto has no policy simulator: said, not guessed. (SESv2 GetAccount: the functional
    # tier installs the emulator's, tests/conftest.py.)
    assert {n for n, s in statuses.items() if s == WARN} == {"function.role"}
    assert all(c["evidence"] for c in report["checks"])


def test_doctor_exits_one_and_names_the_broken_check_with_its_fix(cli: Any, config: str,
                                                                  bootstrapped: Any,
                                                                  aws_clients: Any) -> None:
    env = bootstrapped()
    aws_clients.client("lambda").remove_permission(
        FunctionName=env.function_name, Qualifier="live", StatementId="notifyctl-sns-invoke")

    result = cli("--config", config, "--env", "dev", "doctor", "--no-dns")

    assert result.exit_code == 1
    fail_lines = [ln for ln in result.stdout.splitlines() if ln.startswith("fail")]
    assert len(fail_lines) == 1 and "wiring.permission" in fail_lines[0]
    assert "fix: `notifyctl bootstrap` (adds the permission" in result.stdout


def test_sandbox_account_warns_and_an_unverified_test_recipient_fails(bootstrapped: Any,
                                                                      aws_clients: Any) -> None:
    env = bootstrapped()
    sandbox = {"ProductionAccessEnabled": False, "SendingEnabled": True,
               "EnforcementStatus": "HEALTHY",
               "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                             "SentLast24Hours": 0.0}}
    aws = Aws(aws_clients, sesv2=lambda c: Override(
        c, get_account=sandbox, get_suppressed_destination=aws_error("NotFoundException")))
    ctx = DoctorContext(env, aws, recipients=("someone@example.org",))

    report = diagnose(ctx, ["ses"])

    assert report.get("ses.account").status == WARN
    assert "sandbox" in report.get("ses.account").evidence
    assert report.get("ses.sending").status == PASS
    recipients = report.get("ses.recipients")
    assert recipients.status == FAIL
    assert "not verified and the account is in the sandbox" in recipients.evidence


class Zone:
    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records

    def lookup(self, name: str, rdtype: str) -> list[str]:
        return self.records.get((name, rdtype), [])


def test_dkim_pending_warns_and_unpublished_cnames_fail_with_the_record(
        bootstrapped: Any, aws_clients: Any) -> None:
    env = bootstrapped("mail")
    domain = env.sending_domain
    real = aws_clients.client("ses")
    attrs = real.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"][domain]
    tokens = attrs["DkimTokens"]
    token = real.get_identity_verification_attributes(
        Identities=[domain])["VerificationAttributes"][domain]["VerificationToken"]
    pending = {"DkimAttributes": {domain: {**attrs, "DkimVerificationStatus": "Pending"}}}
    aws = Aws(aws_clients, ses=lambda c: Override(c, get_identity_dkim_attributes=pending))
    only_txt = Zone({(f"_amazonses.{domain}", "TXT"): [token]})
    ctx = DoctorContext(env, aws, resolver=only_txt)

    report = diagnose(ctx, ["ses.dkim", "ses.dns"])

    assert report.get("ses.dkim").status == WARN
    assert "Easy DKIM Pending" in report.get("ses.dkim").evidence
    dns = report.get("ses.dns")
    assert dns.status == FAIL
    assert f"CNAME {tokens[0]}._domainkey.{domain}" in dns.evidence
    assert dns.fix.startswith(f"publish CNAME {tokens[0]}._domainkey.{domain} = "
                              f"{tokens[0]}.dkim.amazonses.com")


def test_trace_of_an_unknown_id_exits_one_with_the_verdict(cli: Any, config: str,
                                                           bootstrapped: Any) -> None:
    bootstrapped()
    text = cli("--config", config, "--env", "dev", "trace", "no-such-book")
    data = cli("--config", config, "--env", "dev", "--output", "json", "trace", "no-such-book")

    assert text.exit_code == 1
    assert "nothing found for no-such-book" in text.stdout
    assert json.loads(data.stdout)["verdict"]["kind"] == "not-found"


def test_doctor_refuses_an_unknown_check_name(cli: Any, config: str) -> None:
    result = cli("--config", config, "--env", "dev", "doctor", "--check", "nope")
    assert result.exit_code == 2
    assert "--check nope: no such check or group" in result.output


def test_no_emulator_is_one_failure_with_its_fix_and_the_rest_skipped(cli: Any,
                                                                      config: str) -> None:
    from notifyctl.emulator.control import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = cli("--config", config, "--env", "dev", "--endpoint-url", url, "--output", "json",
                 "doctor")

    report = json.loads(result.stdout)
    assert result.exit_code == 1
    endpoint, *rest = report["checks"]
    assert (endpoint["name"], endpoint["status"]) == ("aws.endpoint", FAIL)
    assert endpoint["fix"] == "start the emulator: `notifyctl local start`"
    assert {c["evidence"] for c in rest} == {"skipped: aws.endpoint failed"}
