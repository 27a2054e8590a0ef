"""Issue 14: a slow AWS call is announced once, naming what it waits for."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from fakes import FakeClock

from notifyctl.cli.slow_calls import SlowCallNotice

pytestmark = pytest.mark.unit


def test_a_call_unanswered_after_5_s_is_announced_once() -> None:
    clock = FakeClock()
    lines: list[str] = []
    notice = SlowCallNotice(lines.append, read_timeout_s=60, clock=clock)
    notice._watcher = threading.current_thread()  # no watcher thread: check() by hand
    notice.sending(request=SimpleNamespace(url="http://127.0.0.1:38112/"),
                   event_name="before-send.sts.GetCallerIdentity")
    clock.sleep(4.9)
    notice.check()
    assert lines == []
    clock.sleep(0.2)
    notice.check()
    notice.check()
    assert lines == ["still waiting for sts GetCallerIdentity at 127.0.0.1:38112: no answer "
                     "after 5 s (each attempt gives up after 60 s, --read-timeout; Ctrl-C to stop)"]


def test_an_answered_call_is_not_announced() -> None:
    clock = FakeClock()
    lines: list[str] = []
    notice = SlowCallNotice(lines.append, read_timeout_s=60, clock=clock)
    notice._watcher = threading.current_thread()
    notice.sending(request=SimpleNamespace(url="http://x/"), event_name="before-send.sns.Publish")
    notice.answered()
    clock.sleep(10)
    notice.check()
    assert lines == []
