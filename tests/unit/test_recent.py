"""moto's append-only histories keep their newest items only (emulator/recent.py)."""

from __future__ import annotations

from notifyctl.emulator.recent import Recent


def test_appending_past_twice_the_limit_forgets_the_oldest_and_keeps_the_newest() -> None:
    kept = Recent(limit=3)
    for i in range(10):
        kept.append(i)

    assert len(kept) <= 6
    assert kept[-3:] == [7, 8, 9]
    assert kept == list(range(10 - len(kept), 10))  # in order, nothing in between lost
