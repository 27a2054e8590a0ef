"""`notifyctl suppression` on moto with the emulator's SESv2 account operations (the
functional tier's moto_aws installs them: moto lacks the suppression list)."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl import suppression

pytestmark = pytest.mark.functional


@pytest.fixture
def run(cli: Any, pipeline_config: Any, moto_aws: None) -> Any:
    config = pipeline_config("t-books")

    def invoke(*args: str) -> Any:
        return cli("--config", config, "--env", "dev", *args)
    return invoke


def test_add_check_list_remove_round_trip(run: Any) -> None:
    assert run("-o", "json", "suppression", "add", "jane@example.com",
               "--reason", "bounce").json()["reason"] == "BOUNCE"
    run("suppression", "add", "joe@example.com", "--reason", "COMPLAINT")

    checked = run("-o", "json", "suppression", "check", "jane@example.com").json()
    listed = run("-o", "json", "suppression", "list").json()
    complaints = run("-o", "json", "suppression", "list", "--reason", "COMPLAINT").json()

    assert checked["suppressed"] is True and checked["entry"]["reason"] == "BOUNCE"
    assert sorted(e["address"] for e in listed) == ["jane@example.com", "joe@example.com"]
    assert [e["address"] for e in complaints] == ["joe@example.com"]

    assert run("suppression", "remove", "jane@example.com").exit_code == 0
    assert run("-o", "json", "suppression", "check",
               "jane@example.com").json()["suppressed"] is False


def test_removing_an_address_that_is_not_listed_is_exit_1(run: Any) -> None:
    result = run("suppression", "remove", "nobody@example.com")

    assert result.exit_code == 1
    assert "not on the account's suppression list" in result.stderr


@pytest.mark.parametrize(("args", "field"), [
    (("check", "not-an-address"), "ADDR"),
    (("add", "jane@example.com", "--reason", "SPAM"), "--reason"),
    (("list", "--reason", "bounced"), "--reason"),
])
def test_a_bad_address_or_reason_is_exit_2_naming_the_field(run: Any, args: tuple[str, ...],
                                                            field: str) -> None:
    result = run("suppression", *args)

    assert result.exit_code == 2
    assert field in result.stderr and "Traceback" not in result.stderr


def test_list_follows_every_page() -> None:
    """Pages of PageSize; a fake client answers three pages by NextToken."""
    pages = {None: (["a@example.com", "b@example.com"], "t1"),
             "t1": (["c@example.com"], "t2"), "t2": (["d@example.com"], None)}
    seen: list[dict[str, Any]] = []

    class Fake:
        def list_suppressed_destinations(self, **params: Any) -> dict[str, Any]:
            seen.append(params)
            addresses, token = pages[params.get("NextToken")]
            page: dict[str, Any] = {"SuppressedDestinationSummaries": [
                {"EmailAddress": a, "Reason": "BOUNCE"} for a in addresses]}
            if token:
                page["NextToken"] = token
            return page

    found = suppression.list_suppressed(Fake(), "BOUNCE")

    assert [e.address for e in found] == ["a@example.com", "b@example.com", "c@example.com",
                                          "d@example.com"]
    assert [p.get("NextToken") for p in seen] == [None, "t1", "t2"]
    assert all(p["Reasons"] == ["BOUNCE"] for p in seen)
