"""The SES feedback loop end to end on the emulator: publish-book -> the notifier ->
SES (the mailbox simulator) -> the configuration set's events -> SNS -> the feedback
function -> the de-dup record; `suppression` over the account's list.

Every address is unique to its test (a +label, or a new name): the emulator's
suppression list is one per account, shared by the session's tests. As AWS documents,
mailbox-simulator addresses are never suppressed: the suppression tests use an address
scripted to bounce on the emulator (the stand-in for a mailbox that does not exist).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PREFIX = "books-feedback"
SIMULATOR = "simulator.amazonses.com"


@pytest.fixture
def base(bootstrapped: Any) -> list[str]:
    return list(bootstrapped(PREFIX))


def address(kind: str) -> str:
    return f"{kind}+{uuid.uuid4().hex[:10]}@{SIMULATOR}"


def publish(cli: Any, base: list[str], to: str) -> tuple[dict[str, Any], str]:
    """One event to `to`, waited for until SES's word: (the wait report, its book id)."""
    book = f"bk-{uuid.uuid4().hex[:10]}"
    result = cli(*base, "-o", "json", "publish-book", "--email", to, "--book-id", book,
                 "--title", "Dune", "--wait", "--until", "delivered", "--timeout", "60")
    assert result.stdout.strip(), result.output
    return json.loads(result.stdout)["wait"], book


def record(emulator: Any, book: str) -> dict[str, Any]:
    """The de-dup record of the book's event, plain values."""
    from book_notifier.dedup import plain

    items = emulator.client("dynamodb").scan(
        TableName=f"{PREFIX}-dedup", FilterExpression="book_id = :b",
        ExpressionAttributeValues={":b": {"S": book}})["Items"]
    assert len(items) == 1, items
    return plain(items[0])


def suppressed(cli: Any, base: list[str], to: str) -> dict[str, Any]:
    result = cli(*base, "-o", "json", "suppression", "check", to)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_success_ends_delivered(cli: Any, base: list[str], emulator: Any) -> None:
    wait, book = publish(cli, base, address("success"))

    assert (wait["delivered"], wait["bounced"], wait["pending"]) == (1, 0, 0), wait
    item = record(emulator, book)
    assert (item["status"], item["delivery"]) == ("SENT", "DELIVERED")
    assert item["delivered_at"] >= item["claimed_at"]
    assert wait["latency_ms"]["p50"] >= 0


def test_the_bounce_simulator_ends_bounced_and_is_never_suppressed(
        cli: Any, base: list[str], emulator: Any) -> None:
    """AWS: mailbox-simulator addresses never go on the suppression list."""
    to = address("bounce")

    wait, book = publish(cli, base, to)

    assert (wait["bounced"], wait["delivered"]) == (1, 0), wait
    item = record(emulator, book)
    assert (item["delivery"], item["bounce_type"], item["bounce_subtype"]) == (
        "BOUNCED", "Permanent", "General")
    assert suppressed(cli, base, to)["suppressed"] is False


def test_a_hard_bounce_is_suppressed_and_the_next_event_is_never_delivered(
        cli: Any, base: list[str], emulator: Any) -> None:
    """A mailbox that does not exist (scripted on the emulator: a real address)."""
    from notifyctl.emulator import ses_account

    gone = f"gone-{uuid.uuid4().hex[:10]}@example.com"
    ses_account.script_mailbox(emulator.endpoint, gone, "bounce")

    first, book = publish(cli, base, gone)

    assert (first["bounced"], first["delivered"]) == (1, 0), first
    item = record(emulator, book)
    assert (item["delivery"], item["bounce_type"]) == ("BOUNCED", "Permanent")
    assert gone not in json.dumps(item)  # the record keeps the redacted address only
    check = suppressed(cli, base, gone)
    assert check["suppressed"] is True and check["entry"]["reason"] == "BOUNCE"

    second, book2 = publish(cli, base, gone)

    assert (second["bounced"], second["delivered"]) == (1, 0), second
    again = record(emulator, book2)
    assert (again["delivery"], again["bounce_subtype"]) == ("BOUNCED",
                                                            "OnAccountSuppressionList")

    # suppression remove -> deliverable again (the mailbox exists again meanwhile)
    ses_account.script_mailbox(emulator.endpoint, gone, "deliver")
    removed = cli(*base, "suppression", "remove", gone)
    assert removed.exit_code == 0, removed.output
    third, book3 = publish(cli, base, gone)
    assert third["delivered"] == 1, third
    assert record(emulator, book3)["delivery"] == "DELIVERED"


def test_a_complaint_ends_complained(cli: Any, base: list[str], emulator: Any) -> None:
    """SES sends Delivery, then Complaint: the wait ends at DELIVERED, the record then
    moves on to COMPLAINED (and keeps delivered_at)."""
    wait, book = publish(cli, base, address("complaint"))

    assert wait["delivered"] + wait["complained"] == 1, wait
    item = emulator.wait_until(lambda: (r := record(emulator, book))["delivery"] == "COMPLAINED"
                               and r, timeout=30)
    assert item["complaint_type"] == "abuse" and item["delivered_at"]


def test_an_address_added_by_hand_bounces_until_removed(
        cli: Any, base: list[str], emulator: Any) -> None:
    to = f"reader-{uuid.uuid4().hex[:10]}@example.com"
    added = cli(*base, "suppression", "add", to, "--reason", "COMPLAINT")
    assert added.exit_code == 0, added.output

    blocked, book = publish(cli, base, to)
    assert (blocked["delivered"], blocked["bounced"]) == (0, 1), blocked
    assert record(emulator, book)["bounce_subtype"] == "OnAccountSuppressionList"

    removed = cli(*base, "suppression", "remove", to)
    assert removed.exit_code == 0, removed.output
    delivered, _ = publish(cli, base, to)
    assert delivered["delivered"] == 1, delivered


def test_status_shows_the_rates_and_the_new_resources_present(cli: Any,
                                                              base: list[str]) -> None:
    result = cli(*base, "-o", "json", "status")
    report = json.loads(result.stdout)

    states = {r["resource"]: r["state"] for r in report["resources"]}
    assert states["ses-config-set"] == "present"
    assert states["feedback-sns-sub"] == "present"
    assert "bounce_rate" in report["reputation"] or report["reputation"] == "unknown"
