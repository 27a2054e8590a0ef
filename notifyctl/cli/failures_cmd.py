"""`notifyctl failures list|show|redrive`: what did not become an email, and recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context
from notifyctl.errors import EXIT_FAILED

if TYPE_CHECKING:
    from rich.console import Console

failures_app = typer.Typer(
    help="Events that did not become an email: the on-failure queue and the FAILED / "
         "UNCONFIRMED de-dup records; redrive them.",
    no_args_is_help=True,
)


@failures_app.command("list")
def list_(ctx: typer.Context) -> None:
    """The on-failure queue's records and the FAILED / UNCONFIRMED de-dup records
    (condition, attempts, age, book id, redacted recipient, error). Consumes nothing."""
    from notifyctl.failures.source import list_failures

    app = context.get(ctx)
    found = list_failures(app.aws, app.env)

    def render(con: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        if not found.all:
            con.print(f"No failures in {found.queue_name} or {found.table_name}.")
            return
        table = Table(show_edge=False, pad_edge=False)
        for column in ("id", "where", "status", "attempts", "age", "book", "recipient",
                       "error"):
            table.add_column(column)
        for f in found.all:
            table.add_row(escape(f.id), f.source, f.status,
                          "" if f.attempts is None else str(f.attempts), _age(f.age_s),
                          escape(f.book_id or ""), escape(f.recipient or ""),
                          escape((f.error or "")[:80]))
        con.print(table)
        con.print(f"[dim]{len(found.queue)} in the queue, {len(found.table)} in the table; "
                  "`notifyctl failures redrive --all --dry-run` shows what redrive "
                  "would do[/dim]")

    app.out.result(found.to_dict(), render)


@failures_app.command("show")
def show(ctx: typer.Context, ident: str = typer.Argument(..., metavar="ID",
                                                        help="An id from `failures list` "
                                                             "(a unique prefix will do).")) -> None:
    """One failure in full (the queue's original SNS event included, recipient redacted)."""
    from notifyctl.errors import UsageError
    from notifyctl.failures.source import list_failures

    app = context.get(ctx)
    found = list_failures(app.aws, app.env)
    matches = found.find(ident)
    if len({m.id for m in matches}) != 1:
        what = "no such failure" if not matches else "ambiguous: " + ", ".join(
            m.id for m in matches)
        raise UsageError(f"ID {ident!r}: {what} (see `notifyctl failures list`)")
    failure = matches[0]
    data = failure.to_dict()
    if failure.payload is not None:
        data["sns_message_id"] = failure.message_id

    def render(con: Console) -> None:
        from rich.markup import escape

        for key, value in data.items():
            con.print(f"[bold]{key}[/bold]: {escape('' if value is None else str(value))}")

    app.out.result(data, render)


@failures_app.command("redrive")
def redrive(
    ctx: typer.Context,
    ids: list[str] | None = typer.Argument(None, metavar="[ID]...",
                                           help="Failures to redrive (ids from `list`)."),
    all_: bool = typer.Option(False, "--all", help="Every queued failure, and every FAILED "
                                                   "record whose cause was transient."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Re-invoke `live` asynchronously with each failure's original SNS event.

    De-duplication still holds (an event already SENT is skipped by the function). A
    queue message is deleted only after Lambda accepted the invoke; a FAILED record
    whose cause was transient is reset first. Exit 1 when something could not be
    redriven.
    """
    from notifyctl.cli.publish_view import RichProgress, progress_context
    from notifyctl.errors import UsageError
    from notifyctl.failures.redrive import RedriveReport, execute, prepare

    app = context.get(ctx)
    found, steps = prepare(app.aws, app.env, list(ids or []), all_, dry_run=dry_run)
    if dry_run:
        report = RedriveReport(steps, dry_run=True)
    else:
        if steps and not yes:
            if not app.out.interactive:
                raise UsageError("redrive changes the queue and re-invokes the function: "
                                 "add --yes (or --dry-run to see the plan)")
            if not typer.confirm(f"Redrive {len(steps)} failure(s)?", err=True):
                raise typer.Exit(code=EXIT_FAILED)
        with progress_context(app.out) as bar:
            advance = RichProgress(bar).task("redriving", len(steps)) if bar else None
            report = execute(app.aws, app.env, steps, found.queue_url,
                             table_records={f.dedup_key or "": f for f in found.table},
                             on_progress=advance)

    def render(con: Console) -> None:
        from rich.markup import escape

        if not steps:
            con.print("Nothing to redrive.")
            return
        if report.dry_run:
            for step in steps:
                con.print(f"would {step.action} {escape(step.failure.id)}: {escape(step.why)}")
            return
        for result in report.results:
            mark = "[green]ok[/green]" if result.ok else "[red]failed[/red]"
            con.print(f"{mark} {result.step.action} {escape(result.step.failure.id)}: "
                      f"{escape(result.detail)}")
        data = report.to_dict()
        con.print(f"redriven {data['redriven']}, reset {data['reset']}, "
                  f"skipped {data['skipped']}, failed {data['failed']}")

    app.out.result(report.to_dict(), render)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def register(app: typer.Typer) -> None:
    app.add_typer(failures_app, name="failures")

