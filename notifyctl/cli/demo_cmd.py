"""`notifyctl demo`: the whole pipeline once, on a private emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context
from notifyctl.errors import EXIT_FAILED

if TYPE_CHECKING:
    from notifyctl.demo import StepTiming


def demo(
    ctx: typer.Context,
    email: str = typer.Option("reader@example.com", "--email", metavar="EMAIL",
                              help="The recipient of the demo's email (it never leaves "
                                   "the emulator)."),
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
    report = run_demo(env, recipient=email, on_step=show)
    out.result(report.to_dict(), report.render)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
