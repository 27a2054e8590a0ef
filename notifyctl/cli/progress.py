"""The CLI's adapters of `plans.executor.Reporter`: how a plan's progress looks.

A progress bar (bootstrap: many steps) or a spinner per step (deploy-lambda) on a
terminal; one line per finished step otherwise (or with -v).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifyctl.cli.output import Output
    from notifyctl.plans.model import Step


class StepProgress:
    """A progress bar on a terminal; one line per finished step otherwise."""

    def __init__(self, out: Output, progress: Any, task: Any) -> None:
        self.out, self.progress, self.task = out, progress, task

    def step_started(self, step: Step, index: int, total: int) -> None:
        self.progress.update(self.task, description=step.title)

    def step_done(self, step: Step, index: int, total: int) -> None:
        self.progress.advance(self.task)
        if not self.out.interactive:
            self.out.info(f"[{index}/{total}] done: {step.title}")

    def waiting(self, message: str) -> None:
        self.progress.update(self.task, description=message)
        if not self.out.interactive:
            self.out.info(f"  {message}")


class StepSpinner:
    """A spinner per step on a terminal; a line per finished step with -v. Use it as
    a context manager, so a failing step's spinner stops too."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self._spinner = ExitStack()

    def __enter__(self) -> StepSpinner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._spinner.close()

    def _show(self, text: str) -> None:
        self._spinner.close()
        self._spinner.enter_context(self.out.status(text + " ..."))

    def step_started(self, step: Step, index: int, total: int) -> None:
        self._show(step.title)

    def step_done(self, step: Step, index: int, total: int) -> None:
        self._spinner.close()
        self.out.debug(f"done: {step.title}")

    def waiting(self, message: str) -> None:
        self._show(message)
