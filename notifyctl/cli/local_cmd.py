"""`notifyctl local start|stop|status|outbox|reset`: the embedded AWS emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

local_app = typer.Typer(
    help="Run the pipeline on this machine: an embedded AWS emulator (no AWS account, no Docker).",
    no_args_is_help=True,
)

START_HOST = typer.Option(None, "--host", help="Interface to listen on (default: the host of "
                          "the environment's endpoint if it is this machine, else 127.0.0.1).")
START_PORT = typer.Option(None, "--port", "-p", min=0, max=65535,
                          help="Port to listen on; 0 picks a free one (default: the port of the "
                               "environment's endpoint, else 4566).")
HOST = typer.Option(None, "--host", help="Host of the emulator to talk to (default: from the "
                    "endpoint every command uses, see --port).")
PORT = typer.Option(None, "--port", "-p", min=1, max=65535,
                    help="Port of the running emulator to talk to (default: the endpoint every "
                         "command uses: --endpoint-url, else AWS_ENDPOINT_URL, else the "
                         "environment's endpoint_url, else 4566).")


def _where(app: context.AppContext, host: str | None, port: int | None) -> tuple[str, int]:
    """The emulator a `local` command means: --host/--port, else the host and port of the
    endpoint every other command would use (so `local start --port P` then
    `export AWS_ENDPOINT_URL=...:P` makes `local status` look at P)."""
    from urllib.parse import urlsplit

    from notifyctl.config.schema import is_loopback_url
    from notifyctl.emulator.control import DEFAULT_HOST, DEFAULT_PORT

    if host is not None and port is not None:
        return host, port
    url = app.settings.endpoint_url
    if url and is_loopback_url(url):
        parts = urlsplit(url)
        url_host = parts.hostname or DEFAULT_HOST
        url_port = parts.port or (443 if parts.scheme == "https" else 80)
        return host or url_host, url_port if port is None else port
    return host or DEFAULT_HOST, DEFAULT_PORT if port is None else port


@local_app.command("start")
def start(
    ctx: typer.Context,
    host: str | None = START_HOST,
    port: int | None = START_PORT,
    time_scale: float | None = typer.Option(
        None, "--time-scale",
        help="Real seconds per AWS second for every duration the emulator waits, > 0: retry "
             "delays, alarm periods, deployment steps, hook timeouts (default 0.01: a "
             "1-minute wait takes 0.6 s; 1: AWS's real delays; env "
             "NOTIFYCTL_EMULATOR_TIME_SCALE)."),
    retry_scale: float | None = typer.Option(
        None, "--retry-scale", hidden=True, help="Deprecated: the same as --time-scale."),
    timeout: float = typer.Option(30.0, "--timeout", min=1, metavar="S",
                                  help="Give up if it does not answer within S seconds."),
    enforce_iam: str = typer.Option(
        "functions", "--enforce-iam", metavar="functions|all|off",
        help="Whose calls are authorised against IAM policies: functions (their execution "
             "role's credentials, the default), all (also IAM users' keys), off."),
    ses_sandbox: bool | None = typer.Option(
        None, "--ses-sandbox/--no-ses-sandbox",
        help="The SES account in the sandbox: verified recipients only (and the mailbox "
             "simulator), 200 per 24 h, 1 per second (default: the environment's "
             "ses_sandbox, else off)."),
    ses_auto_verify: bool = typer.Option(
        True, "--ses-auto-verify/--no-ses-auto-verify",
        help="Verify SES identities at once (default); off: Pending until "
             "`notifyctl local ses verify ADDRESS`."),
    fresh: bool = typer.Option(
        False, "--fresh", help="Start empty: discard the state the last run on this port "
                               "saved (resources, items, messages, the outbox)."),
) -> None:
    """Start the emulator in the background and wait until it answers.

    It restores what the last run on the same port saved (`local stop` saves it, and a
    snapshot is taken every 5 s), unless --fresh."""
    from notifyctl.emulator import control, iam_enforce
    from notifyctl.errors import UsageError

    if enforce_iam not in iam_enforce.MODES:
        raise UsageError(f"--enforce-iam: {enforce_iam!r} is not one of "
                         f"{', '.join(iam_enforce.MODES)}")
    app = context.get(ctx)
    if ses_sandbox is None:
        ses_sandbox = _env_ses_sandbox(app)
    from notifyctl.emulator import ses_account

    settings = {iam_enforce.ENV_MODE: enforce_iam,
                ses_account.ENV_SANDBOX: "true" if ses_sandbox else "false",
                ses_account.ENV_AUTO_VERIFY: "true" if ses_auto_verify else "false"}
    scale, flag = ((time_scale, "--time-scale") if time_scale is not None
                   else (retry_scale, "--retry-scale"))
    control.check_options(port or 0, scale, scale_flag=flag)
    host, port = _where(app, host, port)
    where = f"{host}:{port}" if port else f"{host} (any free port)"
    with app.out.status(f"starting the emulator on {where} (up to {timeout:g} s)"):
        info = control.start(host, port, time_scale=scale, timeout=timeout, extra_env=settings,
                             fresh=fresh)
    data = info.to_dict()

    def render(con: Console) -> None:
        if info.already_running:
            con.print(f"The emulator is already running at {info.endpoint} (pid {info.pid}).")
        else:
            con.print(f"The emulator is running at {info.endpoint} (pid {info.pid}).")
            con.print(f"[dim]log: {info.log_file}[/dim]")
        con.print(f"Use it with --endpoint-url {info.endpoint}, or "
                  f"export AWS_ENDPOINT_URL={info.endpoint}")

    app.out.result(data, render)


@local_app.command("stop")
def stop(
    ctx: typer.Context,
    host: str | None = HOST,
    port: int | None = PORT,
    timeout: float = typer.Option(
        10.0, "--timeout", min=0, metavar="S",
        help="Wait up to S seconds for async deliveries under way; those still running "
             "then are saved with the queued ones and run again at the next start."),
) -> None:
    """Stop the emulator, saving its state (the next `local start` restores it).

    Only an emulator started from this state directory: another one is refused, with
    its pid."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    host, port = _where(app, host, port)
    with app.out.status(f"stopping the emulator on {host}:{port} (up to {timeout:g} s for "
                        "deliveries under way)"):
        report = control.stop(host, port, timeout=timeout)
    data: dict[str, Any] = {"stopped": report is not None, "port": port}
    if report is not None:
        data.update(report.to_dict())

    def render(con: Console) -> None:
        if report is None:
            con.print(f"No emulator is running on {host}:{port}.")
            return
        con.print(f"Stopped the emulator at {report.info.endpoint} (pid {report.info.pid}).")
        if report.snapshot is None:
            con.print("[yellow]It did not answer the stop request: stopped with SIGTERM "
                      "(it saves its state on the way out; see its log).[/yellow]")
            return
        con.print(f"Saved its state in {report.snapshot['path']}: {report.queued} queued async "
                  f"events, {report.unfinished} deliveries that did not finish within "
                  f"{timeout:g} s (they run again at the next start), {report.finished} "
                  "finished first.")

    app.out.result(data, render)


@local_app.command("reset")
def reset(ctx: typer.Context, host: str | None = HOST, port: int | None = PORT) -> None:
    """Empty the running emulator: every resource, item, message, log, email and queued
    event (as a fresh start, without restarting it)."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    endpoint = control.endpoint_for(*_where(app, host, port))
    with app.out.status(f"emptying the emulator at {endpoint}"):
        done = control.reset(endpoint)
    data = {"endpoint": endpoint, **done}

    def render(con: Console) -> None:
        con.print(f"Emptied the emulator at {endpoint}: {done.get('emails', 0)} emails, "
                  f"{done.get('async_events', 0)} queued async events, "
                  f"{done.get('environments', 0)} warm environments dropped with every "
                  "resource.")

    app.out.result(data, render)


@local_app.command("status")
def status(
    ctx: typer.Context,
    host: str | None = HOST,
    port: int | None = PORT,
    timeout: float = typer.Option(15.0, "--timeout", min=0.5, metavar="S",
                                  help="How long a busy emulator may take to answer."),
) -> None:
    """Whether the emulator runs; its functions, warm environments and invocation counts."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    host, port = _where(app, host, port)
    with app.out.status(f"asking the emulator at {host}:{port} (up to {timeout:g} s)"):
        st = control.status(host, port, timeout=timeout)
    data = st.to_dict()

    def render(con: Console) -> None:
        if st.running and not st.answering:
            pid = st.info.pid if st.info else "?"
            con.print(f"[yellow]running but not answering[/yellow] at {st.endpoint} (pid {pid}) "
                      f"within {timeout:g} s: busy, or stuck")
            if st.info and st.info.log_file:
                con.print(f"[dim]log: {st.info.log_file}[/dim]")
            return
        if not st.running:
            con.print(f"No emulator is running at {st.endpoint}.")
            con.print("[dim]Start one with `notifyctl local start`.[/dim]")
            return
        uptime = _duration(st.uptime_s or 0)
        pid = st.info.pid if st.info else "?"
        con.print(f"[bold]running[/bold] at {st.endpoint} (pid {pid}, up {uptime}, "
                  f"moto {st.details.get('moto_version')})")
        totals = st.details.get("totals", {})
        con.print(f"invocations {totals.get('invocations', 0)}, errors {totals.get('errors', 0)}, "
                  f"throttles {totals.get('throttles', 0)}, "
                  f"warm environments {totals.get('warm', 0)}, "
                  f"emails in the outbox {st.details.get('outbox', 0)}")
        for note in st.details.get("runtime", {}).get("runtime_notes", []):
            con.print(f"[yellow]WARNING: {note}[/yellow]")
        _render_async(con, st.details)
        for fn in st.details.get("functions", []):
            versions = ", ".join(f"{v}: {c['warm']} warm" + (f"/{c['busy']} busy" if c["busy"] else "")
                                 for v, c in fn.get("versions", {}).items())
            con.print(f"  {fn['name']}: {fn.get('invocations', 0)} invocations, "
                      f"{fn.get('errors', 0)} errors" + (f"  [dim]({versions})[/dim]" if versions else ""))

    app.out.result(data, render)


@local_app.command("outbox")
def outbox(
    ctx: typer.Context,
    host: str | None = HOST,
    port: int | None = PORT,
    limit: int = typer.Option(20, "--limit", "-n", min=0,
                              help="Show the newest N (0: all)."),
    since: str | None = typer.Option(None, "--since", "-s",
                                     help="Only emails accepted since: 30s, 10m, 2h, 1d or "
                                          "ISO 8601."),
    to: str | None = typer.Option(None, "--to", metavar="ADDRESS",
                                  help="Only emails to this recipient."),
) -> None:
    """The emails SES accepted (what would have been sent), newest last.

    Each with its SES message id, the SNS MessageId publish-book printed (from the
    de-duplication table, when the pipeline is bootstrapped) and the book id.
    """
    import time

    from notifyctl.emulator import control
    from notifyctl.emulator import outbox as outbox_lib
    from notifyctl.logs.timeparse import parse_time

    app = context.get(ctx)
    since_ms = parse_time(since, int(time.time() * 1000)) if since else None
    if host is None and port is None and app.options.endpoint_url:
        endpoint = app.options.endpoint_url
    else:
        endpoint = control.endpoint_for(*_where(app, host, port))
    page = outbox_lib.query(endpoint, since_ms=since_ms, to=to, limit=limit or None)
    page = outbox_lib.OutboxPage(_with_sns_ids(app, page.emails), page.total, page.matched)

    def render(con: Console) -> None:
        if not page.emails:
            con.print("The outbox is empty." if not page.total
                      else f"No email matches ({page.total} in the outbox).")
            return
        for email in page.emails:
            con.print(f"[bold]{email.subject}[/bold]  [dim]{email.time}[/dim]", markup=True)
            con.print(f"  to {', '.join(email.to)}  book {email.book_id or '?'}", markup=False)
            con.print(f"  [dim]SES {email.message_id}  SNS {email.sns_message_id or '?'}[/dim]")
        if page.matched > len(page.emails):
            con.print(f"[dim]showing the newest {len(page.emails)} of {page.matched}"
                      + (f" ({page.total} in the outbox)" if page.total != page.matched else "")
                      + "; --limit N or --limit 0 for more, --since/--to to narrow, "
                        "--output json for the bodies[/dim]")

    app.out.result(page.to_dict(), render)


def _render_async(con: Console, details: dict[str, Any]) -> None:
    """Async deliveries: queued, in flight, retried, dead-lettered, refused (and why)."""
    stats = details.get("async", {})
    con.print(f"async events: {stats.get('pending', 0)} queued (retries included), "
              f"{stats.get('in_flight', 0)} in flight, {stats.get('retries', 0)} retried, "
              f"{stats.get('dead_letters', 0)} dead-lettered, {stats.get('failed', 0)} failed "
              f"after retries, {stats.get('sns_failed', 0)} refused")
    for item in details.get("refused", [])[-5:]:
        con.print(f"  [yellow]refused[/yellow] {item.get('time')} {item.get('function')}: "
                  f"{item.get('reason')}", markup=True)
    saved = details.get("persistence", {})
    last = saved.get("last_snapshot")
    if saved:
        con.print(f"[dim]state: {saved.get('state_dir')}, saved every "
                  f"{saved.get('interval_s')} s and at stop"
                  + (f"; last snapshot {last['bytes']} bytes" if last else "") + "[/dim]")


def _with_sns_ids(app: context.AppContext, emails: list[Any]) -> list[Any]:
    """Best effort: the de-dup table may not exist (nothing bootstrapped) or be elsewhere."""
    from notifyctl.emulator import outbox as outbox_lib

    if not emails:
        return emails
    try:
        return outbox_lib.with_sns_message_ids(emails, app.aws.client("dynamodb"),
                                               app.env.table_name)
    except Exception as exc:  # noqa: BLE001 - an enrichment; the emails stand without it
        app.out.debug(f"SNS message ids unavailable: {type(exc).__name__}: {exc}")
        return emails


def _env_ses_sandbox(app: context.AppContext) -> bool:
    """The selected environment's `ses_sandbox`; off when there is no config to read."""
    from notifyctl.errors import NotifyctlError

    try:
        return app.env.ses_sandbox
    except NotifyctlError:
        return False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")

