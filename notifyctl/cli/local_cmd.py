"""`notifyctl local start|stop|status|outbox`: the embedded AWS emulator."""

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

HOST = typer.Option("127.0.0.1", "--host", help="Interface to listen on.")
PORT = typer.Option(4566, "--port", "-p", help="Port to listen on.")


@local_app.command("start")
def start(
    ctx: typer.Context,
    host: str = HOST,
    port: int = PORT,
    time_scale: float | None = typer.Option(
        None, "--time-scale",
        help="Real seconds per AWS second for every duration the emulator waits: retry "
             "delays, alarm periods, deployment steps, hook timeouts (default 0.01: a "
             "1-minute wait takes 0.6 s; env NOTIFYCTL_EMULATOR_TIME_SCALE)."),
    retry_scale: float | None = typer.Option(
        None, "--retry-scale", hidden=True, help="Deprecated: the same as --time-scale."),
) -> None:
    """Start the emulator in the background and wait until it answers."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    with app.out.status(f"starting the emulator on {host}:{port}"):
        info = control.start(host, port,
                             time_scale=time_scale if time_scale is not None else retry_scale)
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
def stop(ctx: typer.Context, host: str = HOST, port: int = PORT) -> None:
    """Stop the emulator (its functions' environments stop with it)."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    info = control.stop(host, port)
    data: dict[str, Any] = {"stopped": info is not None, "port": port}
    if info is not None:
        data.update(pid=info.pid, endpoint=info.endpoint)

    def render(con: Console) -> None:
        if info is None:
            con.print(f"No emulator is running on {host}:{port}.")
        else:
            con.print(f"Stopped the emulator at {info.endpoint} (pid {info.pid}).")

    app.out.result(data, render)


@local_app.command("status")
def status(ctx: typer.Context, host: str = HOST, port: int = PORT) -> None:
    """Whether the emulator runs; its functions, warm environments and invocation counts."""
    from notifyctl.emulator import control

    app = context.get(ctx)
    st = control.status(host, port)
    data = st.to_dict()

    def render(con: Console) -> None:
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
        pending = st.details.get("async", {}).get("pending", 0)
        if pending:
            con.print(f"async events waiting (retries included): {pending}")
        for fn in st.details.get("functions", []):
            versions = ", ".join(f"{v}: {c['warm']} warm" + (f"/{c['busy']} busy" if c["busy"] else "")
                                 for v, c in fn.get("versions", {}).items())
            con.print(f"  {fn['name']}: {fn.get('invocations', 0)} invocations, "
                      f"{fn.get('errors', 0)} errors" + (f"  [dim]({versions})[/dim]" if versions else ""))

    app.out.result(data, render)


@local_app.command("outbox")
def outbox(
    ctx: typer.Context,
    host: str = HOST,
    port: int = PORT,
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="Only the newest N."),
) -> None:
    """The emails SES accepted (what would have been sent), newest last."""
    from notifyctl.emulator import control
    from notifyctl.emulator import outbox as outbox_lib

    app = context.get(ctx)
    endpoint = app.options.endpoint_url or control.endpoint_for(host, port)
    emails = outbox_lib.read(endpoint)
    if limit:
        emails = emails[-limit:]
    data = [e.to_dict() for e in emails]

    def render(con: Console) -> None:
        if not emails:
            con.print("The outbox is empty.")
            return
        for email in emails:
            con.print(f"[bold]{email.subject}[/bold]  [dim]{email.time}  {email.message_id}[/dim]")
            con.print(f"  from {email.sender} to {', '.join(email.to)}")
            body = email.text if email.text is not None else email.html or ""
            for line in body.strip().splitlines()[:8]:
                con.print(f"  | {line}", markup=False)
            con.print("")

    app.out.result(data, render)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")

