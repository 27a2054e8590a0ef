"""Test doubles shared by several test modules (tests/ is on sys.path via conftest)."""

from __future__ import annotations

import threading


class FakeClock:
    """A clock and its sleep in one: sleeping moves the clock, instantly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()  # publishers sleep from several threads

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
