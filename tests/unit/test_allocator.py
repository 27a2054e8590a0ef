"""allocator.release() gives memory Python freed back to the OS (glibc keeps it
otherwise): the emulator's RSS falls back after a burst instead of staying at its peak."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest

from notifyctl.emulator import allocator


def _rss_mb() -> float:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux") or allocator.release() is False,
                    reason="malloc_trim is glibc's")
def test_memory_freed_after_a_burst_goes_back_to_the_os() -> None:
    allocator.release()
    before = _rss_mb()
    burst = [json.dumps({"Message": "x" * 1800, "MessageId": str(i)}) for i in range(40_000)]
    survivors = burst[::50]  # a few live objects among the freed ones, as in a real heap
    burst_mb = _rss_mb() - before  # ~75 MB
    del burst
    gc.collect()
    assert _rss_mb() - before > burst_mb / 2  # freed, yet still resident (glibc keeps it)

    assert allocator.release() is True

    assert _rss_mb() - before < burst_mb / 4  # given back, the survivors' pages excepted
    assert len(survivors) == 800


def test_release_is_a_no_op_where_the_c_library_cannot_trim(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_loaded", True)
    monkeypatch.setattr(allocator, "_libc", None)

    assert allocator.release() is False


def test_each_periodic_snapshot_is_followed_by_a_release(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from notifyctl.emulator.server import Hub
    from notifyctl.emulator.state import SaveReport

    calls: list[str] = []

    def release() -> bool:
        calls.append("release")
        return True

    monkeypatch.setattr(allocator, "release", release)
    counts = dict.fromkeys(("pending", "in_flight", "retries", "dead_letters", "failed",
                            "sns_failed"), 0)
    hub = Hub(endpoint="http://127.0.0.1:1", state_dir=Path("."), runtime=None,
              dispatcher=SimpleNamespace(snapshot=lambda: counts), backend=None,
              outbox=SimpleNamespace(count=lambda: 3), moto_version="5.2.5")

    hub.saved(SaveReport(path="snapshot.bin", bytes=10, capture_ms=1.0, write_ms=2.0,
                         async_events=0, forked=True))

    assert calls == ["release"]
    assert "state saved (10 bytes" in capsys.readouterr().out
