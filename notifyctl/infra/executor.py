"""Carrying a Plan out, and showing one.

`Executor` dispatches each ApiCall to the boto3 client of its service (waits and
the IAM-propagation retry of create_function go through `waits`). A failure
raises an OperationError naming the step; every step is idempotent against a
fresh plan, so re-running `bootstrap` continues from where it stopped.

`DisplayExecutor` walks the same plan and only describes it (`--plan`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifyctl.errors import NotifyctlError, OperationError
from notifyctl.infra import waits
from notifyctl.infra.plan import ApiCall, CodeRef, Plan, Step, Var

RESUME_HINT = ("Fix the cause and re-run the same command: completed steps are kept and "
               "the new plan continues from here.")


class Reporter(Protocol):
    def step_started(self, step: Step, index: int, total: int) -> None: ...
    def step_done(self, step: Step, index: int, total: int) -> None: ...
    def waiting(self, message: str) -> None: ...


class NullReporter:
    def step_started(self, step: Step, index: int, total: int) -> None:
        pass

    def step_done(self, step: Step, index: int, total: int) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass


@dataclass
class ExecutionResult:
    applied: list[Step] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


class Executor:
    def __init__(self, client: Callable[[str], Any], *,
                 code: Callable[[], bytes] | None = None,
                 sleep: waits.Sleep = time.sleep, clock: waits.Clock = time.monotonic,
                 reporter: Reporter | None = None) -> None:
        self._client = client
        self._code = code
        self._code_bytes: bytes | None = None
        self.sleep = sleep
        self.clock = clock
        self.reporter: Reporter = reporter or NullReporter()

    def execute(self, plan: Plan) -> ExecutionResult:
        result = ExecutionResult()
        steps = plan.changes
        for index, step in enumerate(steps, start=1):
            self.reporter.step_started(step, index, len(steps))
            for call in step.calls:
                try:
                    self._call(call, result.outputs)
                except Exception as exc:
                    raise self._failure(step, call, exc, index, len(steps)) from exc
            result.applied.append(step)
            self.reporter.step_done(step, index, len(steps))
        return result

    # ------------------------------------------------------------ internals
    def _failure(self, step: Step, call: ApiCall, exc: BaseException, index: int,
                 total: int) -> OperationError:
        if isinstance(exc, NotifyctlError):
            reason = exc.message
        else:
            from notifyctl.aws.errors import translate

            translated = translate(exc)
            reason = translated.message if translated else f"{type(exc).__name__}: {exc}"
        return OperationError(
            f"step {index}/{total} ({step.title}) failed at {call.service}.{call.method}: "
            f"{reason}", hint=RESUME_HINT)

    def _resolve(self, value: Any, outputs: Mapping[str, Any]) -> Any:
        if isinstance(value, Var):
            return outputs[value.name]
        if isinstance(value, CodeRef):
            if self._code_bytes is None:
                if self._code is None:
                    raise OperationError("the plan needs the function's package but no "
                                         "package source was given")
                self._code_bytes = self._code()
            return self._code_bytes
        if isinstance(value, Mapping):
            return {k: self._resolve(v, outputs) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._resolve(v, outputs) for v in value]
        return value

    def _call(self, call: ApiCall, outputs: dict[str, Any]) -> Any:
        params = self._resolve(call.params, outputs)
        if call.service == "wait":
            response = self._wait(call.method, params)
        elif call.service == "lambda" and call.method == "create_function":
            response = waits.create_function(
                self._client("lambda"), params, sleep=self.sleep, clock=self.clock,
                notify=self.reporter.waiting)
        else:
            response = getattr(self._client(call.service), call.method)(**params)
        if call.output:
            outputs[call.output] = response[call.output_key] if call.output_key else response
        return response

    def _wait(self, what: str, params: dict[str, Any]) -> Any:
        common: dict[str, Any] = {"sleep": self.sleep, "clock": self.clock,
                                  "notify": self.reporter.waiting}
        if what == "function_active":
            return waits.wait_function(self._client("lambda"), params["FunctionName"], **common)
        if what == "function_updated":
            return waits.wait_function(self._client("lambda"), params["FunctionName"],
                                       updated=True, **common)
        if what == "table_active":
            return waits.wait_table(self._client("dynamodb"), params["TableName"], **common)
        raise ValueError(f"unknown wait {what!r}")


SYMBOLS = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!"}
STYLES = {"create": "green", "update": "yellow", "unchanged": "dim", "conflict": "bold red"}


class DisplayExecutor:
    """Walks the same plan and describes it instead of calling AWS."""

    def __init__(self, console: Any, *, show_calls: bool = False,
                 hide_unchanged: bool = False) -> None:
        self.console = console
        self.show_calls = show_calls
        self.hide_unchanged = hide_unchanged

    def execute(self, plan: Plan) -> ExecutionResult:
        from rich.markup import escape

        from notifyctl.cli.tables import resource_table

        rows: list[list[str]] = []
        plain: list[list[str]] = []
        shown = [s for s in plan.steps if not (self.hide_unchanged and s.action == "unchanged")]
        for step in shown:
            style = STYLES[step.action]
            changes = summarize_changes(step)
            if step.note and step.action in ("conflict",):
                changes = step.note
            label = f"{SYMBOLS[step.action]} {step.action}"
            rows.append([f"[{style}]{label}[/{style}]", step.resource, escape(step.name),
                         escape(changes)])
            plain.append([label, step.resource, step.name, changes])
            if self.show_calls:
                for call in step.calls:
                    rows.append(["", "", f"[dim]  {call.service}.{call.method}[/dim]", ""])
                    plain.append(["", "", f"  {call.service}.{call.method}", ""])
        if shown:
            self.console.print(resource_table(("", "resource", "name", "changes"), rows, plain))
        counts = plan.counts()
        self.console.print(
            f"[bold]plan:[/bold] {counts['create']} to create, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged"
            + (f", [bold red]{counts['conflict']} conflict(s)[/bold red]"
               if counts["conflict"] else ""))
        return ExecutionResult()


def summarize_changes(step: Step) -> str:
    if step.action == "create":
        return "new"
    if step.action == "unchanged":
        return step.note if step.resource in ("lambda-alias",) else ""
    parts = []
    for key, (live, wanted) in step.changes.items():
        if isinstance(live, dict | list) or isinstance(wanted, dict | list):
            parts.append(f"{key} changed")
        else:
            parts.append(f"{key}: {live} -> {wanted}")
    return "; ".join(parts)
