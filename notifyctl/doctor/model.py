"""What a check reports, and how checks are run: one at a time, each isolated.

A check is a small function `check(ctx) -> Outcome`. The runner names the outcome
(`CheckResult`), so a check cannot report under another's name, and turns anything a
check raises into that check's result: an AccessDenied is a `warn` ("could not check")
of that one check, another AWS error a `fail` naming the call, never a crash of the
whole doctor. A check may `require` earlier ones: when one of those failed, it is
skipped with a `warn` that says why, instead of failing again for the same cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifyctl.doctor.context import DoctorContext

PASS, WARN, FAIL = "pass", "warn", "fail"
STATUSES = (PASS, WARN, FAIL)

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "AuthorizationError", "AuthorizationErrorException"}
# What an endpoint answers for an API it does not implement (moto, older emulators).
NOT_IMPLEMENTED = {"NotImplemented", "NotImplementedException", "InternalFailure",
                   "UnknownOperationException", "InvalidAction", "UnknownOperation"}


@dataclass(frozen=True)
class Outcome:
    """A check's verdict before the runner names it."""

    status: str
    evidence: str
    fix: str = ""


def passed(evidence: str) -> Outcome:
    return Outcome(PASS, evidence)


def warned(evidence: str, fix: str = "") -> Outcome:
    return Outcome(WARN, evidence, fix)


def failed(evidence: str, fix: str) -> Outcome:
    return Outcome(FAIL, evidence, fix)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # pass | warn | fail
    evidence: str
    fix: str = ""
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[DoctorContext], Outcome]
    requires: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class DoctorReport:
    environment: str
    results: tuple[CheckResult, ...]
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.status != FAIL for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def get(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    @property
    def failing(self) -> list[str]:
        return [r.name for r in self.results if r.status == FAIL]

    def as_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "ok": self.ok,
                "summary": {s: self.count(s) for s in STATUSES},
                "duration_ms": self.duration_ms,
                "checks": [r.as_dict() for r in self.results]}


def not_implemented(exc: BaseException) -> bool:
    """Whether the endpoint does not implement the call (moto answers HTML 500/404,
    which botocore reports as a ClientError with the HTTP status as its code)."""
    from notifyctl.aws.errors import error_code

    code = error_code(exc)
    if code in NOT_IMPLEMENTED or code in ("404", "500", "501"):
        return True
    # moto's server answers an unimplemented query-protocol action (iam, ses) with an
    # HTML error page, which botocore cannot parse.
    if type(exc).__name__ == "ResponseParserError" and b"<html" in str(exc).encode().lower():
        return True
    return type(exc).__name__ == "NotImplementedError"


def one_line(text: str, limit: int = 300) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[:limit - 1] + "…"


def outcome_of_error(exc: BaseException, endpoint_url: str | None = None) -> Outcome:
    """An exception raised inside a check, as that check's outcome."""
    from notifyctl.aws.errors import error_code, translate

    if not_implemented(exc):
        op = getattr(exc, "operation_name", None) or "this call"
        return warned(f"not checked: the endpoint does not implement {op}",
                      "check it against AWS, or on an emulator that implements it")
    code = error_code(exc)
    translated = translate(exc, endpoint_url)
    message = one_line(translated.message if translated is not None
                       else f"{type(exc).__name__}: {exc}")
    if code in _DENIED:
        return warned(f"not checked: {message}",
                      "grant the identity running doctor read access to this resource")
    hint = translated.hint if translated is not None and translated.hint else ""
    return failed(message, hint or "run again with -v; if it persists, report it")


def run_checks(ctx: DoctorContext, checks: Sequence[Check],
               only: Sequence[str] = ()) -> DoctorReport:
    """Run `checks` in order (those whose name or group is in `only`, if given)."""
    clock = ctx.perf_counter
    started = clock()
    results: list[CheckResult] = []
    status_of: dict[str, str] = {}
    for check in checks:
        if only and check.name not in only and check.group not in only:
            continue
        t0 = clock()
        blocked = [r for r in check.requires if status_of.get(r) == FAIL]
        if blocked:
            outcome = warned(f"skipped: {', '.join(blocked)} failed", "")
        else:
            try:
                outcome = check.run(ctx)
            except Exception as exc:  # one check's trouble is that check's result
                outcome = outcome_of_error(exc, ctx.endpoint_url)
        status_of[check.name] = outcome.status
        results.append(CheckResult(check.name, outcome.status, outcome.evidence, outcome.fix,
                                   round((clock() - t0) * 1000, 1)))
    return DoctorReport(ctx.env.name, tuple(results), round((clock() - started) * 1000, 1))
