"""How the program ends: `commands.SOLO` commands skip the interpreter's teardown
(`main.exit_now`) after flushing their output; every other command exits as before."""

from __future__ import annotations

import io
import os
import sys

import pytest

from notifyctl.cli import main


class _Stream(io.StringIO):
    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.error, self.flushed = error, 0

    def flush(self) -> None:
        self.flushed += 1
        if self.error is not None:
            raise self.error


def test_exit_now_flushes_both_streams_then_exits_with_the_code() -> None:
    out, err, exits = _Stream(), _Stream(), []
    with pytest.raises(SystemExit):
        main.exit_now(3, (out, err), exits.append)
    assert (out.flushed, err.flushed, exits) == (1, 1, [3])


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), ValueError("closed")])
def test_a_reader_that_left_does_not_change_the_exit_code(error: Exception) -> None:
    """`notifyctl logs | head`: the last flush fails; the command's code stands and
    stderr is still flushed."""
    out, err, exits = _Stream(error), _Stream(), []
    with pytest.raises(SystemExit):
        main.exit_now(0, (out, err), exits.append)
    assert (exits, err.flushed) == ([0], 1)


@pytest.mark.parametrize(("argv", "fast"), [
    (["logs", "--since", "1h"], True),
    (["-o", "json", "logs", "--group", "g"], True),
    (["logs", "--help"], True),
    (["config", "show"], False),
    (["--help"], False),
    ([], False),
])
def test_main_skips_teardown_only_for_solo_commands(monkeypatch: pytest.MonkeyPatch,
                                                    argv: list[str], fast: bool) -> None:
    exits: list[int] = []
    monkeypatch.setattr(sys, "argv", ["notifyctl", *argv])
    monkeypatch.setattr(main, "run",
                        lambda args, whole_process: 7 if args == argv and whole_process else -1)
    monkeypatch.setattr(os, "_exit", exits.append)
    with pytest.raises(SystemExit) as raised:
        main.main()
    assert raised.value.code == 7
    assert exits == ([7] if fast else [])
