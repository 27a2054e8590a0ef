"""Drift: bootstrap's own plan, computed read-only, has nothing to do.

Pending changes are a `warn` (the specific checks above fail for whatever actually
stops an email; this says "and bootstrap would also change these"); a resource with
our name that is not ours is a `fail`, since bootstrap refuses to apply then.
"""

from __future__ import annotations

from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, passed, warned
from notifyctl.infra.bootstrap import plan as bootstrap_plan
from notifyctl.plans.model import CONFLICT


def plan(ctx: DoctorContext) -> Outcome:
    _, the_plan = bootstrap_plan(ctx.aws, ctx.env)
    conflicts = [s for s in the_plan.steps if s.action == CONFLICT]
    changing = [s for s in the_plan.steps if s.changing]
    if conflicts:
        return failed(f"{len(conflicts)} conflict(s): "
                      + "; ".join(f"{s.resource} {s.name}: {s.note}" for s in conflicts[:2]),
                      "see `notifyctl bootstrap --plan`")
    if changing:
        return warned(f"bootstrap would change {len(changing)}: "
                      + ", ".join(s.title for s in changing),
                      "`notifyctl bootstrap --plan` to review, then `notifyctl bootstrap`")
    return passed(f"bootstrap's plan has nothing to do ({len(the_plan.steps)} resources "
                  "checked)")
