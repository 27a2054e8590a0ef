"""`notifyctl logs`: the function's CloudWatch logs, read or followed, grouped by request."""

from __future__ import annotations

import gc
import os
import sys

import typer

from notifyctl.cli import context


def logs(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", "-s",
                                     help="Start: relative (30s, 10m, 2h, 1d) or ISO 8601. "
                                          "Default 10m (1m with --follow)."),
    until: str | None = typer.Option(None, "--until", "-u",
                                     help="End: same forms as --since. Default: now."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep polling for new events."),
    filter_pattern: str | None = typer.Option(None, "--filter",
                                              help="CloudWatch filter pattern, passed through."),
    request_id: str | None = typer.Option(None, "--request-id",
                                          help="Show one invocation (a prefix is enough)."),
    version: str | None = typer.Option(None, "--version",
                                       help="Only the function version N (or $LATEST)."),
    by_request: bool = typer.Option(False, "--by-request",
                                    help="One block per invocation: request id, version, "
                                         "duration, outcome."),
    platform: bool = typer.Option(False, "--platform",
                                  help="Show raw START/END/REPORT/INIT_START lines."),
    utc: bool = typer.Option(False, "--utc", help="Times in UTC (default: local time)."),
    groups: list[str] | None = typer.Option(None, "--group", "-g",
                                            help="Log group (repeatable; default: the "
                                                 "function's /aws/lambda/<name>)."),
    interval: float = typer.Option(1.0, "--interval", min=0.2,
                                   help="Seconds between polls with --follow."),
) -> None:
    """Show the function's logs: platform noise hidden, REPORT figures and errors surfaced.

    Reads with FilterLogEvents (every page, every stream; several --group interleaved by
    time). --follow polls about once a second within CloudWatch's 5 calls/s, re-reads a
    short overlap window for late events, and never shows an event twice. Ctrl-C to stop.
    """
    import time

    from notifyctl.logs.follow import FollowStats
    from notifyctl.logs.render import JsonSink, TextRenderer, TextSink
    from notifyctl.logs.tail import build_query, run, window_spans_days

    app = context.get(ctx)
    now_ms = int(time.time() * 1000)
    names = list(dict.fromkeys(groups)) if groups else [app.env.log_group_name]
    query = build_query(names, since=since, until=until, follow=follow, utc=utc, now_ms=now_ms,
                        pattern=filter_pattern, request_id=request_id, version=version,
                        by_request=by_request, interval=interval)
    out = app.out
    sink: JsonSink | TextSink
    if out.json:
        sink = JsonSink(out.line, platform=platform)
    else:
        # isatty first: piped output (the common scripted read) never imports rich.
        color = (sys.stdout.isatty() and not os.environ.get("NO_COLOR")
                 and out.console.is_terminal)
        renderer = TextRenderer(utc=utc, color=color, platform=platform,
                                show_group=len(names) > 1,
                                show_date=window_spans_days(query, now_ms))
        sink = TextSink(renderer, sys.stdout.write, sys.stdout.flush)
    client = app.aws.client("logs")
    if app.invocation.whole_process:
        # What is imported and built so far (typer, botocore, the client) lives until
        # exit: out of the collector's reach, its full passes do not walk it again while
        # a read allocates 10,000 events (~0.04 s of CPU). Not in a test's process,
        # where it would also pin that process's garbage.
        gc.freeze()
    stats: list[FollowStats] = []  # the follower's live counters, once it has polled

    def on_poll(live: FollowStats) -> None:
        if not stats:
            stats.append(live)

    if follow and out.interactive and not out.json:
        out.err.print(f"[dim]{following_notice(names, since)}[/dim]")
    started = time.monotonic()
    try:
        shown = run(client, query, sink, on_poll=on_poll)
    except BrokenPipeError:  # `notifyctl logs | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    finally:
        if stats:  # -v: what following cost (also printed on Ctrl-C)
            elapsed = max(time.monotonic() - started, 1e-9)
            out.debug(f"followed {elapsed:.1f} s: {stats[0].polls} polls, {stats[0].calls} "
                      f"FilterLogEvents calls ({stats[0].calls / elapsed:.2f}/s), "
                      f"{stats[0].throttles} throttled")
    if not shown and not follow:
        out.info(f"[dim]no events in {', '.join(names)} for that window[/dim]")


def following_notice(groups: list[str], since: str | None) -> str:
    """What `logs -f` says before the first event (there may be none for a while)."""
    from notifyctl.logs.tail import DEFAULT_FOLLOW_SINCE

    return (f"following {', '.join(groups)} (events since {since or DEFAULT_FOLLOW_SINCE}); "
            "new events appear as they arrive, Ctrl-C to stop")


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
