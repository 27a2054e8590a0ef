"""`notifyctl doctor`: every check that explains a missing email, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.doctor.model import DoctorReport

STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def doctor(
    ctx: typer.Context,
    recipients: list[str] | None = typer.Option(
        None, "--recipient", help="A test recipient to check against the suppression list "
                                  "(and the sandbox's verified addresses); repeatable."),
    rate: float | None = typer.Option(None, "--rate", min=0.0,
                                      help="The rate you publish at (emails/s), checked "
                                           "against SES's maximum send rate."),
    only: list[str] | None = typer.Option(None, "--check",
                                          help="Run only this check or group (ses, wiring, "
                                               "function, health, drift); repeatable."),
    dns: bool = typer.Option(True, "--dns/--no-dns",
                             help="Resolve the sending domain's records in public DNS."),
) -> None:
    """Check everything an email depends on: AWS access, SES (sandbox, sending, quota,
    verification, DKIM, DNS, reputation, suppression), the topic -> alias wiring, the
    function and its role, the failure queue, stuck records, alarms, errors and drift.

    Each check prints pass / warn / fail with one line of evidence, and for anything not
    passing one line of fix. Read-only. Exit 0 when nothing fails, 1 otherwise.
    """
    from notifyctl.doctor import DoctorContext, diagnose
    from notifyctl.doctor.dns import default_resolver
    from notifyctl.doctor.registry import GROUPS, NAMES
    from notifyctl.errors import UsageError

    for name in only or ():
        if name not in NAMES and name not in GROUPS:
            raise UsageError(f"--check {name}: no such check or group",
                             hint=f"groups: {', '.join(GROUPS)}; checks: {', '.join(NAMES)}")
    app = context.get(ctx)
    doctor_ctx = DoctorContext(app.env, app.aws, resolver=default_resolver() if dns else None,
                               recipients=tuple(recipients or ()), rate=rate)
    with app.out.status("checking the environment…"):
        report = diagnose(doctor_ctx, only or ())
    app.out.result(report.as_dict(), lambda console: render(console, report))
    if not report.ok:
        raise typer.Exit(1)


def render(console: Console, report: DoctorReport) -> None:
    from rich.markup import escape

    width = max((len(r.name) for r in report.results), default=10)
    for r in report.results:
        console.print(f"[{STYLE[r.status]}]{r.status:4}[/{STYLE[r.status]}]  "
                      f"{r.name:<{width}}  {escape(r.evidence)}")
        if r.status != "pass" and r.fix:
            console.print(f"      {'':<{width}}  [dim]fix:[/dim] {escape(r.fix)}")
    summary = ", ".join(f"{report.count(s)} {s}" for s in ("pass", "warn", "fail"))
    verdict = "[green]nothing fails[/green]" if report.ok else "[bold red]failing[/bold red]"
    console.print(f"\n{report.environment}: {summary} — {verdict} "
                  f"({report.duration_ms / 1000:.1f} s)")


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
