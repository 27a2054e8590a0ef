"""publish-book → the function → the de-duplication table, on the embedded emulator.

Uses the session's `emulator` fixture (tests/integration/conftest.py) and a
config whose `local` environment has its own prefix, so these resources never
collide with other tests sharing the emulator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PREFIX = "books-pubtest"


@pytest.fixture
def base(bootstrapped: Any) -> list[str]:
    """The global options for the bootstrapped local environment on the emulator."""
    return list(bootstrapped(PREFIX))


def test_published_events_are_sent_and_waited_for(cli, base) -> None:
    result = cli(*base, "-o", "json", "publish-book", "--count", "12", "--wait",
                 "--timeout", "60")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["published"], data["failed"]) == (12, 0)
    wait = data["wait"]
    assert (wait["sent"], wait["rejected"], wait["failed"], wait["pending"]) == (12, 0, 0, 0)
    assert wait["latency_ms"]["p50"] <= wait["latency_ms"]["max"]


def test_one_event_prints_its_message_id_then_is_sent(cli, base) -> None:
    result = cli(*base, "publish-book", "--email", "jane@example.com",
                 "--title", "Dune")
    assert result.exit_code == 0, result.output
    message_id = result.stdout.strip()
    waited = cli(*base, "-o", "json", "publish-book", "--wait", "--timeout", "60")
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["wait"]["sent"] == 1
    assert message_id
