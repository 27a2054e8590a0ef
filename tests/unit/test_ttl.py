"""DynamoDB TTL: which values have expired (AWS's rules) and the sweeper's sweep-now."""

from __future__ import annotations

from dataclasses import dataclass

from notifyctl.emulator.ttl import FIVE_YEARS_S, TtlSweeper, expired

NOW = 2_000_000_000.0


@dataclass
class Value:
    type: str
    value: str


def test_a_number_in_the_past_has_expired() -> None:
    assert expired(Value("N", str(NOW - 1)), NOW)
    assert not expired(Value("N", str(NOW + 1)), NOW)
    assert not expired(Value("N", str(NOW)), NOW)


def test_non_numbers_and_ancient_values_are_ignored() -> None:
    assert not expired(Value("S", str(NOW - 1)), NOW)
    assert not expired(Value("N", "soon"), NOW)
    assert not expired(None, NOW)
    assert not expired(Value("N", str(NOW - FIVE_YEARS_S - 1)), NOW)


def test_sweep_now_uses_the_clock() -> None:
    seen: list[float] = []
    sweeper = TtlSweeper(3600.0, clock=lambda: NOW, sweep=lambda now: seen.append(now) or 3)
    assert sweeper.sweep() == 3
    assert seen == [NOW]
