"""Output.interactive on piped stderr is decided as rich decides it, without rich."""

from __future__ import annotations

import io
import sys

import pytest

from notifyctl.cli.output import Output


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI"):
        monkeypatch.delenv(name, raising=False)


def test_piped_stderr_is_not_interactive_and_builds_no_console(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    out = Output()
    assert out.interactive is False
    assert out._err is None


@pytest.mark.parametrize(("stream", "env", "expected"), [
    (Tty(), {}, True),
    (Tty(), {"CI": "1"}, False),
    (io.StringIO(), {"FORCE_COLOR": "1"}, True),
    (io.StringIO(), {"TTY_COMPATIBLE": "1"}, True),
    (Tty(), {"TTY_COMPATIBLE": "0"}, False),
])
def test_otherwise_rich_decides(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO,
                                env: dict[str, str], expected: bool) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stderr", stream)
    assert Output().interactive is expected
