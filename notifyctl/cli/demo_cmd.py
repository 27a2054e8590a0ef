"""`notifyctl demo`: the whole pipeline once, on a private emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context
from notifyctl.demo import DELIVERY_TIMEOUT_S
from notifyctl.errors import EXIT_FAILED

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.demo import DemoReport, StepTiming


def demo(
    ctx: typer.Context,
    email: str = typer.Option("reader@example.com", "--email", metavar="EMAIL",
                              help="The recipient of the demo's email (it never leaves "
                                   "the emulator)."),
    canary: bool = typer.Option(False, "--canary", help="Afterwards, release a deliberately "
                                "broken build with canary10-5m and show it caught by the "
                                "smoke-test hook and rolled back, live unchanged, no email "
                                "lost."),
    timeout: float = typer.Option(DELIVERY_TIMEOUT_S, "--timeout", min=1.0, metavar="SECONDS",
                                  help="How long to wait for the email's delivery."),
) -> None:
    """Run the main job end to end on a private emulator, then stop it.

    Starts an emulator on a free port (never the one `notifyctl local start` runs),
    bootstraps the environment (default `local`), deploys the function, publishes
    one book event and waits for its delivery; shows the email, the function's log
    lines and the de-duplication record; then delivers the same SNS message again
    and shows that no second email was sent. Exit 0 only when all of that held.
    Never touches AWS.
    """
    from notifyctl.demo import run_demo
    from notifyctl.publish.events import EventFactory

    app = context.get(ctx)
    env = app.env
    EventFactory.for_env(env).from_flags(email=email)  # a bad --email is exit 2, first
    out = app.out

    def show(step: StepTiming) -> None:
        if not out.json:
            out.console.print(f"[green]✓[/green] {step.name:<24} {step.seconds:6.2f} s  "
                              f"{step.detail}", markup=True)

    if not out.json:
        out.console.print(f"[bold]notifyctl demo[/bold]: environment {env.name}, "
                          "on a private emulator")
    report = run_demo(env, recipient=email, on_step=show, canary=canary,
                      delivery_timeout_s=timeout)
    out.result(report.to_dict(), lambda con: render_demo(report, con))
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


def render_demo(report: DemoReport, con: Console) -> None:
    """The email, the log lines and the record, then the verdict (the steps were
    printed as they ran)."""
    from rich.markup import escape
    from rich.text import Text

    from notifyctl.logs.render import TextRenderer

    if report.emails:
        email = report.emails[0]
        con.print()
        con.print("[bold]The email, as the recipient sees it[/bold]")
        con.print(f"  From:    {escape(email.sender)}")
        con.print(f"  To:      {escape(', '.join(email.to))}")
        con.print(f"  Date:    {escape(email.time)}")
        con.print(f"  Subject: {escape(email.subject)}")
        con.print()
        for line in (email.text or "").splitlines():
            con.print(f"  {escape(line)}")
        if email.html:
            con.print(f"  [dim](and an HTML part of {len(email.html)} characters: "
                      "--output json shows it)[/dim]")
    if report.log_blocks:
        con.print()
        con.print(f"[bold]The function's log lines for message {report.message_id}[/bold]")
        renderer = TextRenderer(color=not con.no_color)
        for block in report.log_blocks:
            for line in renderer.block_lines(block):
                con.print(Text.from_ansi(line))
    if report.dedup_record:
        con.print()
        con.print("[bold]The de-duplication record[/bold] (its key is the producer's event id, "
                  "or the SNS MessageId when the event has none)")
        width = max(len(k) for k in report.dedup_record)
        for key, value in report.dedup_record.items():
            con.print(f"  {key:<{width}}  {escape(str(value))}")
    if report.canary is not None:
        c = report.canary
        con.print()
        con.print("[bold]The broken canary[/bold]")
        con.print(f"  deployment {c.deployment.deployment_id}: {c.deployment.status} "
                  f"({escape(c.reason)})")
        con.print(f"  live: version {c.live_before} before, {c.live_after} after")
        con.print(f"  {len(c.published)} events published during the release: "
                  f"{c.delivered} delivered, {c.emails} email(s)")
    con.print()
    if report.ok:
        con.print(f"[green]ok[/green]: one book event, one email; the redelivered message "
                  f"was skipped as a duplicate ({report.total_s:.1f} s in all)")
    else:
        for problem in report.problems:
            con.print(f"[red]failed[/red]: {escape(problem)}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
