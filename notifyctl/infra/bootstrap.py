"""`bootstrap` as a library: specifications -> plan -> execute -> what to tell the operator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifyctl.aws.calls import ClientFactory
from notifyctl.config.schema import Environment
from notifyctl.infra import dns_records
from notifyctl.infra.planner import make_plan
from notifyctl.infra.specs import Specs, build_specs
from notifyctl.plans.executor import ExecutionResult, Executor, Reporter
from notifyctl.plans.model import ADOPT, CONFLICT, CREATE, UPDATE, Plan
from notifyctl.plans.waits import FUNCTION_STATE_TIMEOUT_S

PROCEED, ASK, REFUSE = "proceed", "ask", "refuse"


def specs_for(aws: ClientFactory, env: Environment) -> Specs:
    return build_specs(env, aws.account_id, aws.region, aws.partition)


def plan(aws: ClientFactory, env: Environment, *, source: Path | None = None,
         adopt: bool = False) -> tuple[Specs, Plan]:
    """Read-only: the specifications of `env` and the plan that reconciles them.

    `source` is the function's source; its package is built (locally) only when
    a configuration fix must upload again the code `live` serves. `adopt`: compare
    resources with our names but without our tags (see `adoption`)."""
    specs = specs_for(aws, env)
    return specs, make_plan(aws, specs, package_sha256=package_sha256(source), adopt=adopt)


def adoption(the_plan: Plan) -> Plan:
    """`bootstrap --adopt`'s plan, from a plan made with adopt=True: the ADOPT steps
    (tag calls only) and the conflicts (with their differences). Nothing else is
    created or changed by adopting: the next `bootstrap` does that, on resources
    that are then ours."""
    return Plan(tuple(s for s in the_plan.steps if s.action in (ADOPT, CONFLICT)))


def pending_after_adoption(the_plan: Plan) -> int:
    """How many create/update steps the adopt plan leaves to the next `bootstrap`."""
    return sum(1 for s in the_plan.steps if s.action in (CREATE, UPDATE))


def package_sha256(source: Path | None) -> Callable[[], str]:
    def sha() -> str:
        from notifyctl.release.package import build as build_package

        return build_package(source).sha256_b64
    return sha


def confirmation(*, local: bool, yes: bool, interactive: bool) -> str:
    """Whether to apply without asking, ask, or refuse.

    local environments never ask; otherwise --yes, or a person at a terminal."""
    if local or yes:
        return PROCEED
    return ASK if interactive else REFUSE


def package_code(source: Path | None) -> Callable[[], bytes]:
    def build() -> bytes:
        from notifyctl.release.package import build as build_package

        return build_package(source).data
    return build


def refuse_conflicts(the_plan: Plan, env_name: str) -> None:
    """A plan with a conflict is never applied, not even its other steps.

    A conflict without changes is a resource that is not this environment's
    (adopted only by `bootstrap --adopt`, with consent); one with changes is a
    change notifyctl will not make (its note says why and what to do instead)."""
    from notifyctl.errors import OperationError

    foreign = [s for s in the_plan.conflicts if not s.changes]
    if foreign:
        names = ", ".join(f"{s.resource} {s.name}" for s in foreign)
        raise OperationError(f"refusing to apply: {names} exist(s) but are not this "
                             f"environment's (no notifyctl tags for env {env_name!r})",
                             hint="`notifyctl bootstrap --adopt` shows whether each is "
                                  "equivalent to notifyctl's and, if you agree, tags it as "
                                  "ours; or use another prefix.")
    if the_plan.conflicts:
        step = the_plan.conflicts[0]
        raise OperationError(f"refusing to apply: {step.resource} {step.name}: {step.note}")


def apply(aws: ClientFactory, the_plan: Plan, *, source: Path | None = None,
          code: Callable[[], bytes] | None = None,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic,
          reporter: Reporter | None = None,
          wait_timeout: float = FUNCTION_STATE_TIMEOUT_S) -> ExecutionResult:
    """Carry out a plan's changes; callers check `refuse_conflicts` first.
    `wait_timeout` bounds each wait for the function's state (--wait-timeout)."""
    executor = Executor(aws.client, code=code or package_code(source), sleep=sleep,
                        clock=clock, reporter=reporter, wait_timeout=wait_timeout)
    return executor.execute(the_plan)


@dataclass
class Outputs:
    topic_arn: str
    publisher_policy_arn: str
    alias_arn: str
    queue_arn: str
    table: str
    ses_identity: str
    dns_records: list[dns_records.DnsRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic_arn": self.topic_arn,
            "publisher_policy_arn": self.publisher_policy_arn,
            "alias_arn": self.alias_arn,
            "failure_queue_arn": self.queue_arn,
            "table": self.table,
            "ses_identity": self.ses_identity,
            "dns_records": [r.as_dict() for r in self.dns_records],
        }


def outputs(aws: ClientFactory, specs: Specs) -> Outputs:
    records = []
    if specs.ses_identity_kind == "domain":
        records = dns_records.fetch(aws.client("ses"), specs.ses_identity)
    return Outputs(specs.arns.topic, specs.arns.publisher_policy, specs.arns.alias,
                   specs.arns.queue, specs.env.table_name, specs.ses_identity, records)
