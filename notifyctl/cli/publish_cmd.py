"""`notifyctl publish-book`: send book events to the environment's topic."""

from __future__ import annotations

from pathlib import Path

import typer

from notifyctl.cli import context
from notifyctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, UsageError


def publish_book(
    ctx: typer.Context,
    email: str | None = typer.Option(
        None, "--email", metavar="EMAIL",
        help="Recipient (default: success@simulator.amazonses.com, SES's mailbox "
             "simulator, so tests never hurt the sender's reputation)."),
    book_id: str | None = typer.Option(None, "--book-id", help="Book id (default: a new UUID)."),
    title: str | None = typer.Option(None, "--title",
                                     help="Title (default: 'Test book <id>')."),
    link: str | None = typer.Option(None, "--link",
                                    help="Link (default: the environment's link base URL "
                                         "+ the book id)."),
    count: int | None = typer.Option(None, "--count", "-n", min=1,
                                     help="Send N synthetic events (new book id each)."),
    file: str | None = typer.Option(
        None, "--file", "-f", metavar="PATH",
        help="Send the events of a JSON-lines file, or a CSV file with a header "
             "(columns book_id,email,link,title; email required; '-' reads stdin). "
             "A bad line is reported with its number and not sent; the rest go."),
    rate: float | None = typer.Option(None, "--rate", help="At most R events per second."),
    concurrency: int = typer.Option(8, "--concurrency", help="Concurrent publishers (1-64)."),
    failed_out: Path | None = typer.Option(
        None, "--failed-out", metavar="PATH",
        help="Where events that could not be sent go, as JSON lines resendable with --file "
             "(default: notifyctl-failed-<time>.jsonl here, written only on failure)."),
    wait: bool = typer.Option(False, "--wait",
                              help="Wait for the function's outcome of each message (from "
                                   "the de-duplication table) and report latency."),
    until: str | None = typer.Option(
        None, "--until", metavar="sent|delivered",
        help="With --wait: `sent` (default) waits for the function's outcome; `delivered` "
             "waits for SES's (delivered / bounced / complained, from the configuration "
             "set's events) and reports publish -> delivered latency."),
    timeout: float | None = typer.Option(None, "--timeout", metavar="S",
                                         help="With --wait: give up after S seconds "
                                              "(default 60)."),
    start_index: int | None = typer.Option(
        None, "--start-index", metavar="K",
        help="With --count N: send events K to N-1 only (resume a run stopped by Ctrl-C; "
             "it prints K)."),
    start_line: int | None = typer.Option(
        None, "--start-line", metavar="L",
        help="With --file: start at line L (resume a run stopped by Ctrl-C; it prints L)."),
) -> None:
    """Publish "book created" events to the environment's topic.

    One event by default (prints its SNS message id); --count N or --file PATH
    for many, sent with PublishBatch by concurrent publishers, events built as they
    are sent. Exit 1 when any event could not be published or, with --wait, was not
    sent by the timeout; exit 2 for bad input (nothing sent), an empty --file
    included; exit 130 on Ctrl-C, after printing what was sent and how to resume.
    """
    from notifyctl.cli.publish_view import RichProgress, progress_context, render_publish
    from notifyctl.publish.job import PublishRequest
    from notifyctl.publish.job import publish_book as run

    app = context.get(ctx)
    request = PublishRequest(count=count, file=file, email=email, book_id=book_id,
                             title=title, link=link, rate=rate, concurrency=concurrency,
                             failed_out=str(failed_out) if failed_out else None,
                             wait=wait, timeout_s=timeout, until=until,
                             start_index=start_index,
                             start_line=start_line)
    request.check()
    from notifyctl.cli.output_files import check_output_file

    check_output_file(failed_out, "--failed-out")
    env = app.env
    with progress_context(app.out) as bar:
        report = run(app.aws, env, request, progress=RichProgress(bar) if bar else None)
    if file is not None and not report.published and not report.failed \
            and not report.stopped_by_user:
        # stdin, or a file of blank lines: nothing to send is a mistake, not a success
        raise UsageError(f"--file: {file} has no events", hint="Expected JSON lines, or CSV "
                         "with a header row naming book_id,email,link,title.")
    app.out.result(report.to_dict(), lambda con: render_publish(report, con))
    if report.stopped_by_user:  # Ctrl-C: the unsent are in --failed-out, the summary shown
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("publish-book")(publish_book)
