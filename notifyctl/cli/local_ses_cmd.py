"""`notifyctl local ses verify ADDRESS`: the emulator's SES identities, as their owner
would verify them on AWS (clicking the link, publishing the DNS records)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context
from notifyctl.cli.local_cmd import _where, local_app

if TYPE_CHECKING:
    from rich.console import Console

ses_app = typer.Typer(help="The emulator's SES account: verify identities.",
                      no_args_is_help=True)


@ses_app.command("verify")
def verify(
    ctx: typer.Context,
    identity: str = typer.Argument(..., help="The email address or domain to verify."),
    host: str | None = typer.Option(None, "--host", help="The emulator's interface."),
    port: int | None = typer.Option(None, "--port", "-p", help="The emulator's port."),
) -> None:
    """Verify a Pending SES identity on the emulator (started with --no-ses-auto-verify)."""
    from notifyctl.emulator import control, ses_account

    app = context.get(ctx)
    if host is None and port is None and app.options.endpoint_url:
        endpoint = app.options.endpoint_url
    else:  # the emulator every other `local` command means
        endpoint = control.endpoint_for(*_where(app, host, port))
    region = app.options.region or "us-east-1"
    result = ses_account.verify(endpoint, identity, region=region)

    def render(con: Console) -> None:
        con.print(f"{identity}: verified (SES identity status Success).")

    app.out.result(result, render)


def register(app: typer.Typer) -> None:
    """`local ses` joins the `local` group (local_cmd registers `local` itself)."""
    local_app.add_typer(ses_app, name="ses")
