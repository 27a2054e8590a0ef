"""The plan model: steps made of API calls, as frozen data (Chalice's model).

One model for `bootstrap` (infra.planner: every resource of an environment) and
`deploy-lambda` (release.deploy: the function's code and configuration). A planner
produces a `Plan` from describe/list/get calls; `plans.executor.Executor` carries
it out; `--plan` shows the same plan instead (cli/plan_view.py). Values known
only at execution time are placeholders: `Var` (an earlier call's output, e.g.
the version number `publish_version` returns) and `CODE` (the packaged zip,
built only when a step needs it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
# A same-named resource exists without this environment's tags (or, with
# `bootstrap --adopt`, is not equivalent to the specification): left alone.
CONFLICT = "conflict"
# `bootstrap --adopt`: an equivalent resource without our tags gets them (tag calls only).
ADOPT = "adopt"
ACTIONS = (CREATE, UPDATE, UNCHANGED, CONFLICT, ADOPT)


@dataclass(frozen=True)
class Var:
    """The output of an earlier call in the same plan."""

    name: str

    def __str__(self) -> str:
        return f"${{{self.name}}}"


@dataclass(frozen=True)
class CodeRef:
    """The deployment package of the function, resolved by the executor."""

    def __str__(self) -> str:
        return "<package: lambda_src/book_notifier>"


CODE = CodeRef()


@dataclass(frozen=True)
class OnError:
    """What a call's failure with AWS error `code` means to the operator. The
    message may name earlier outputs (`{version}`); the executor raises it as an
    OperationError in place of the AWS error."""

    code: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class ApiCall:
    """One call: `service` is a boto3 service name, "wait" for a bounded wait the
    executor performs (function_active, function_updated, function_settled,
    table_active), or a handler the executor was given (e.g. "release.prune")."""

    service: str
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # Store `response[output_key]` as Var(output) for later calls.
    output: str | None = None
    output_key: str | None = None
    # AWS errors with a meaning of their own for this call.
    errors: tuple[OnError, ...] = ()
    # Response fields that must have these values (e.g. the CodeSha256 Lambda stored).
    expect: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"service": self.service, "method": self.method,
                "params": _displayable(self.params)}


@dataclass(frozen=True)
class Step:
    action: str
    resource: str  # kind, e.g. "sns-topic"
    name: str
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (live, wanted)
    calls: tuple[ApiCall, ...] = ()
    note: str = ""
    # What the step does, when "action resource name" does not say it (deploy's steps).
    summary: str = ""

    @property
    def title(self) -> str:
        return self.summary or f"{self.action} {self.resource} {self.name}"

    @property
    def changing(self) -> bool:
        return self.action in (CREATE, UPDATE, ADOPT)

    def describe(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "name": self.name,
            "changes": {k: {"live": _displayable(v[0]), "wanted": _displayable(v[1])}
                        for k, v in self.changes.items()},
            "calls": [c.describe() for c in self.calls],
            "note": self.note,
        }


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.changing)

    @property
    def conflicts(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action == CONFLICT)

    @property
    def up_to_date(self) -> bool:
        return not self.changes and not self.conflicts

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ACTIONS}
        for s in self.steps:
            out[s.action] += 1
        return out

    def describe(self) -> list[dict[str, Any]]:
        return [s.describe() for s in self.steps]

    def step(self, resource: str) -> Step:
        for s in self.steps:
            if s.resource == resource:
                return s
        raise KeyError(resource)


def _displayable(value: Any) -> Any:
    """JSON-safe view of call parameters (zip bytes and placeholders as text)."""
    if isinstance(value, Mapping):
        return {k: _displayable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_displayable(v) for v in value]
    if isinstance(value, Var | CodeRef):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def summarize_changes(step: Step) -> str:
    """One line of what a step changes (the plan table and `status`)."""
    if step.action == CREATE:
        return "new"
    if step.action == ADOPT:
        return "tag as ours"
    if step.action == UNCHANGED:
        return step.note if step.resource in ("lambda-alias",) else ""
    parts = []
    for key, (live, wanted) in step.changes.items():
        if isinstance(live, dict | list) or isinstance(wanted, dict | list):
            parts.append(f"{key} changed")
        else:
            parts.append(f"{key}: {live} -> {wanted}")
    return "; ".join(parts)
