"""Output: results on stdout (text or one JSON document), everything else on stderr.

Colour and progress appear only on a terminal; NO_COLOR is honoured (rich reads it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


PIPE_WIDTH = 200


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def dumps(data: Any, *, indent: int | None = 2) -> str:
    return json.dumps(data, default=_json_default, indent=indent, ensure_ascii=False)


def _may_be_terminal(stream: Any) -> bool:
    """False only where rich's `Console.is_terminal` is surely False: not a tty, and
    neither FORCE_COLOR nor TTY_COMPATIBLE=1 (which make rich say True) is set."""
    if os.environ.get("FORCE_COLOR") is not None or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed: rich says False too
        return False


class Output:
    def __init__(self, fmt: str = "text", verbose: bool = False) -> None:
        self.fmt = fmt
        self.verbose = verbose
        self._console: Console | None = None
        self._err: Console | None = None

    # rich is imported on first use: `--help` and JSON output never pay for it.
    @property
    def console(self) -> Console:
        """Results for people, on stdout."""
        if self._console is None:
            from rich.console import Console

            # Piped output is for files and grep: do not fold tables at 80 columns.
            wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
            self._console = Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False,
                                    soft_wrap=True, width=wide)
        return self._console

    @property
    def err(self) -> Console:
        """Narration, progress and warnings, on stderr."""
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")),
                                highlight=False, soft_wrap=True)
        return self._err

    @property
    def json(self) -> bool:
        return self.fmt == "json"

    @property
    def interactive(self) -> bool:
        """A person is watching stderr: show progress bars and spinners."""
        if self._err is None and not _may_be_terminal(sys.stderr):
            return False  # piped: decided without importing rich (~30 ms a start)
        return self.err.is_terminal and not os.environ.get("CI")

    def result(self, data: Any, render: Callable[[Console], None] | None = None) -> None:
        """Print a command's result: one JSON document, or the human rendering."""
        if self.json or render is None:
            sys.stdout.write(dumps(data) + "\n")
            sys.stdout.flush()
        else:
            render(self.console)

    def line(self, data: dict[str, Any]) -> None:
        """One JSON object per line (streams such as logs)."""
        sys.stdout.write(dumps(data, indent=None) + "\n")
        sys.stdout.flush()

    def info(self, message: str) -> None:
        """Narration for people, on stderr (kept quiet in JSON mode unless verbose)."""
        if not self.json or self.verbose:
            self.err.print(message)

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {message}")

    def debug(self, message: str) -> None:
        if self.verbose:
            self.err.print(f"[dim]{message}[/dim]")

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner on a terminal; a single line otherwise."""
        if self.interactive and not self.json:
            with self.err.status(message):
                yield
        else:
            yield

    def progress(self, *, transient: bool = True) -> Any:
        """A rich Progress on stderr, disabled when not on a terminal."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        return Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=self.err, transient=transient,
            disable=not self.interactive,
        )
