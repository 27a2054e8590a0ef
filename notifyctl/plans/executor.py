"""Carrying a Plan out: the one executor of `bootstrap` and `deploy-lambda`.

`Executor` dispatches each ApiCall to the boto3 client of its service; "wait"
calls go to `plans.waits` (as does the IAM-propagation retry of create_function);
other services are handlers the caller registers (`release.prune`). A call's own
`errors` turn an AWS error into the operator's message, and its `expect` checks
the response. Reporting goes through one protocol, `Reporter`.

Failures: with a `resume_hint` (bootstrap), any failure becomes an OperationError
naming the step and the call, because every step is idempotent against a fresh
plan and re-running continues from where it stopped. Without one (deploy-lambda,
whose errors already say what was and was not moved) errors rise unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifyctl.errors import NotifyctlError, OperationError
from notifyctl.plans import waits
from notifyctl.plans.model import ApiCall, CodeRef, Plan, Step, Var

RESUME_HINT = ("Fix the cause and re-run the same command: completed steps are kept and "
               "the new plan continues from here.")


class Reporter(Protocol):
    """Progress of a plan being carried out (the CLI's adapters live in cli/progress.py)."""

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


Handler = Callable[[dict[str, Any]], Any]


class Executor:
    def __init__(self, client: Callable[[str], Any], *,
                 code: Callable[[], bytes] | None = None,
                 sleep: waits.Sleep = time.sleep, clock: waits.Clock = time.monotonic,
                 reporter: Reporter | None = None,
                 handlers: Mapping[str, Handler] | None = None,
                 resume_hint: str | None = RESUME_HINT,
                 wait_timeout: float = waits.FUNCTION_STATE_TIMEOUT_S) -> None:
        self._client = client
        self._code = code
        self._code_bytes: bytes | None = None
        self.sleep = sleep
        self.clock = clock
        self.reporter: Reporter = reporter or NullReporter()
        self.handlers = dict(handlers or {})
        self.resume_hint = resume_hint
        self.wait_timeout = wait_timeout

    def execute(self, plan: Plan) -> ExecutionResult:
        result = ExecutionResult()
        steps = plan.changes
        for index, step in enumerate(steps, start=1):
            self.reporter.step_started(step, index, len(steps))
            for call in step.calls:
                try:
                    self._call(call, result.outputs)
                except Exception as exc:
                    if self.resume_hint is None:
                        raise
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
            f"{reason}", hint=self.resume_hint)

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
        try:
            response = self._dispatch(call, params)
        except NotifyctlError:
            raise
        except Exception as exc:
            from notifyctl.aws.errors import error_code

            code = error_code(exc)
            for meaning in call.errors:
                if meaning.code == code:
                    raise OperationError(meaning.message.format(**outputs, error=exc),
                                         hint=meaning.hint) from None
            raise
        for key, wanted in call.expect.items():
            got = (response or {}).get(key)
            if got != wanted:
                raise OperationError(f"{call.service}.{call.method} answered {key} {got!r}, "
                                     f"expected {wanted!r}.")
        if call.output:
            outputs[call.output] = response[call.output_key] if call.output_key else response
        return response

    def _dispatch(self, call: ApiCall, params: dict[str, Any]) -> Any:
        name = f"{call.service}.{call.method}"
        if name in self.handlers:
            return self.handlers[name](params)
        if call.service == "wait":
            return self._wait(call.method, params)
        if name == "lambda.create_function":
            return waits.create_function(
                self._client("lambda"), params, sleep=self.sleep, clock=self.clock,
                notify=self.reporter.waiting)
        return getattr(self._client(call.service), call.method)(**params)

    def _wait(self, what: str, params: dict[str, Any]) -> Any:
        common: dict[str, Any] = {"sleep": self.sleep, "clock": self.clock,
                                  "notify": self.reporter.waiting}
        lam = self._client("lambda") if what.startswith("function_") else None
        if what == "function_active":
            return waits.wait_function(lam, params["FunctionName"], **common)
        if what in ("function_updated", "function_settled"):
            # settled: only let a running update finish (an earlier failed one is
            # what the plan replaces)
            return waits.wait_function(lam, params["FunctionName"], updated=True,
                                       fail_on_failed=what == "function_updated",
                                       timeout=self.wait_timeout, **common)
        if what == "table_active":
            return waits.wait_table(self._client("dynamodb"), params["TableName"], **common)
        raise ValueError(f"unknown wait {what!r}")
