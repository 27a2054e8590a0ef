"""`notifyctl trace ID`: everything known about one event, and a one-line verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.trace.model import Trace

KIND_STYLE = {"sent": "green", "rejected": "yellow", "failed": "bold red",
              "failure-queue": "bold red", "unconfirmed": "yellow", "released": "yellow",
              "duplicate": "dim"}
VERDICT_STYLE = {"delivered": "green", "rejected": "yellow", "in-flight": "cyan",
                 "retrying": "yellow"}


def trace(
    ctx: typer.Context,
    the_id: str = typer.Argument(..., metavar="ID",
                                 help="A book id, an event id or an SNS MessageId."),
    since: str = typer.Option("24h", "--since", "-s",
                              help="How far back to search the logs: relative (30m, 2h, 1d) "
                                   "or ISO 8601."),
    lines: bool = typer.Option(False, "--lines", help="Show each invocation's log lines."),
) -> None:
    """Tell one event's story, oldest first: published, each invocation (request id,
    version, duration, outcome), the claim, the SES send, retries and the failure
    queue, then one line of verdict ("delivered once at 12:03:04, 412 ms after
    publishing"). Read-only: one FilterLogEvents query on the id, GetItem on the
    de-dup table, a peek at the failure queue. Exit 1 when nothing is found.
    """
    import time

    from notifyctl.logs.timeparse import parse_time
    from notifyctl.trace.build import Where
    from notifyctl.trace.build import trace as build

    if not the_id.strip():
        from notifyctl.errors import UsageError

        raise UsageError("ID: expected a book id, an event id or an SNS MessageId, got ''")
    app = context.get(ctx)
    env = app.env
    start_ms = parse_time(since, int(time.time() * 1000), utc=True, option="--since")
    where = Where(env.log_group_name, env.table_name, env.dlq_name)
    with app.out.status(f"tracing {the_id}…"):
        result = build(app.aws.client, where, the_id.strip(), since_ms=start_ms)
    app.out.result(result.as_dict(), lambda console: render(console, result, lines=lines))
    if not result.found:
        raise typer.Exit(1)


def render(console: Console, result: Trace, *, lines: bool = False) -> None:
    from rich.markup import escape

    from notifyctl.trace.model import clock_time

    for entry in result.timeline:
        style = KIND_STYLE.get(entry.kind, "")
        kind = f"[{style}]{entry.kind:<13}[/{style}]" if style else f"{entry.kind:<13}"
        console.print(f"{clock_time(entry.at_ms)}  {kind}  {escape(entry.text)}")
        if lines:
            for line in entry.lines:
                console.print(f"[dim]{'':23}{escape(line)}[/dim]")
    style = VERDICT_STYLE.get(result.verdict.kind, "bold red")
    if result.timeline:
        console.print("")
    console.print(f"[{style}]{escape(result.verdict.text)}[/{style}]")


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)
