"""`bootstrap` as a library: specifications -> plan -> execute -> what to tell the operator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.infra import dns_records
from notifyctl.infra.executor import ExecutionResult, Executor, Reporter
from notifyctl.infra.plan import Plan
from notifyctl.infra.planner import make_plan
from notifyctl.infra.specs import Specs, build_specs

PROCEED, ASK, REFUSE = "proceed", "ask", "refuse"


def specs_for(aws: Any, env: Environment) -> Specs:
    return build_specs(env, aws.account_id, aws.region, aws.partition)


def plan(aws: Any, env: Environment) -> tuple[Specs, Plan]:
    specs = specs_for(aws, env)
    return specs, make_plan(aws, specs)


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


def apply(aws: Any, the_plan: Plan, *, source: Path | None = None,
          code: Callable[[], bytes] | None = None,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic,
          reporter: Reporter | None = None) -> ExecutionResult:
    executor = Executor(aws.client, code=code or package_code(source), sleep=sleep,
                        clock=clock, reporter=reporter)
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


def outputs(aws: Any, specs: Specs) -> Outputs:
    records = []
    if specs.ses_identity_kind == "domain":
        records = dns_records.fetch(aws.client("ses"), specs.ses_identity)
    return Outputs(specs.arns.topic, specs.arns.publisher_policy, specs.arns.alias,
                   specs.arns.queue, specs.env.table_name, specs.ses_identity, records)
