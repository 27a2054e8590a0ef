"""The emulator's SES account rules (sandbox, quota, rate, pause, suppression)."""

from __future__ import annotations

import pytest

from notifyctl.emulator.ses_account import (
    SesAccount,
    SesRefused,
    SuppressionDisabled,
    is_simulator,
    production_limits,
)
from tests.fakes import FakeClock


def refused(account: SesAccount, recipients: list[str], verified: bool = True) -> str:
    with pytest.raises(SesRefused) as exc:
        account.admit(recipients, lambda r: verified)
    return f"{exc.value.kind}: {exc.value.message}"


def test_sandbox_quota_is_200_recipients_per_24_hours() -> None:
    clock = FakeClock(1_000_000.0)
    account = SesAccount(region="eu-west-1", sandbox=True, clock=clock)
    for _ in range(200):
        account.admit(["reader@verified.example"], lambda r: True)
        clock.sleep(1.0)
    assert account.sent_last_24h() == 200
    assert refused(account, ["reader@verified.example"]) == \
        "quota: Daily message quota exceeded."
    account.admit(["success@simulator.amazonses.com"], lambda r: False)  # not in the quota
    clock.sleep(24 * 3600 - 199)  # the first send leaves the window
    account.admit(["reader@verified.example"], lambda r: True)


def test_the_mailbox_simulator_counts_for_the_rate_but_not_the_daily_quota() -> None:
    clock = FakeClock(0.0)
    account = SesAccount(region="eu-west-1", sandbox=True, clock=clock)
    account.admit(["bounce@simulator.amazonses.com"], lambda r: False)
    assert account.sent_last_24h() == 0
    assert refused(account, ["success@simulator.amazonses.com"]) == \
        "rate: Maximum sending rate exceeded."


def test_quota_window_follows_the_time_scale() -> None:
    clock = FakeClock(0.0)
    account = SesAccount(region="us-east-1", sandbox=True, clock=clock, time_scale=0.001)
    account.admit(["a@x"], lambda r: True)
    clock.sleep(86.5)  # 24 h x 0.001
    assert account.sent_last_24h() == 0


def test_sandbox_rate_is_one_recipient_per_second() -> None:
    clock = FakeClock(10.0)
    account = SesAccount(region="us-east-1", sandbox=True, clock=clock)
    account.admit(["a@x"], lambda r: True)
    clock.sleep(0.5)
    assert refused(account, ["b@x"]) == "rate: Maximum sending rate exceeded."
    clock.sleep(0.6)
    account.admit(["b@x"], lambda r: True)


def test_sandbox_recipients_must_be_verified_or_the_simulator() -> None:
    account = SesAccount(region="eu-west-1", sandbox=True, clock=FakeClock(0.0))
    assert refused(account, ["x@reader.example"], verified=False) == (
        "rejected: Email address is not verified. The following identities failed the check "
        "in region EU-WEST-1: x@reader.example")
    account.admit(["bounce+1@simulator.amazonses.com"], lambda r: False)


def test_production_accepts_any_recipient() -> None:
    account = SesAccount(region="eu-west-1", clock=FakeClock(0.0))
    account.admit(["x@reader.example"], lambda r: False)
    assert account.limits.max_24h == 1_000_000


def test_production_quota_can_rehearse_a_real_accounts() -> None:
    account = SesAccount(region="eu-west-1", clock=FakeClock(0.0),
                         production=production_limits("50000/14"))
    account.admit(["r@x"] * 14, lambda r: True)
    assert refused(account, ["one@more"]) == "rate: Maximum sending rate exceeded."
    assert production_limits("nonsense") == production_limits(None)


def test_paused_account_refuses() -> None:
    account = SesAccount(region="eu-west-1", clock=FakeClock(0.0), sending_enabled=False)
    assert refused(account, ["a@x"]).startswith("paused:")


def test_suppressed_recipients_are_not_deliverable_case_insensitively() -> None:
    account = SesAccount(region="eu-west-1", clock=FakeClock(5.0))
    account.put_suppressed("Gone@Reader.example", "BOUNCE")
    assert account.deliverable(["gone@reader.example", "Kept <kept@reader.example>"]) == \
        ["Kept <kept@reader.example>"]
    assert [s.address for s in account.list_suppressed(["COMPLAINT"])] == []
    assert [s.address for s in account.list_suppressed(["BOUNCE"], start=5.0)] == \
        ["gone@reader.example"]
    assert account.delete_suppressed("gone@reader.example")
    assert not account.delete_suppressed("gone@reader.example")


def test_suppression_management_is_disabled_in_the_sandbox() -> None:
    account = SesAccount(region="eu-west-1", sandbox=True, clock=FakeClock(0.0))
    with pytest.raises(SuppressionDisabled):
        account.put_suppressed("a@x", "BOUNCE")


def test_simulator_addresses() -> None:
    assert is_simulator("Sim <complaint+x@simulator.amazonses.com>")
    assert not is_simulator("someone@amazonses.com")
