"""`notifyctl doctor`: why would an email not arrive? Every check, one line each.

  model     CheckResult / DoctorReport, the isolated runner (an error is that check's result)
  context   DoctorContext: env, AWS client factory, DNS resolver, clock (all injected)
  registry  the ordered list of checks
  access, ses, wiring, function, health, drift   the checks, by area
  dns       the resolver seam (dnspython, short timeouts; a fake in tests)

`diagnose(ctx)` runs them all; the command only renders the report.
"""

from __future__ import annotations

from collections.abc import Sequence

from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import CheckResult, DoctorReport, run_checks


def diagnose(ctx: DoctorContext, only: Sequence[str] = ()) -> DoctorReport:
    from notifyctl.doctor.registry import CHECKS

    return run_checks(ctx, CHECKS, only)


__all__ = ["CheckResult", "DoctorContext", "DoctorReport", "diagnose"]
