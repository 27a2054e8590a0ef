"""`notifyctl suppression list|check|add|remove`: the account-level SES suppression list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

suppression_app = typer.Typer(
    help="The account's SES suppression list (account-wide on AWS: every sender of the "
         "account skips these addresses).",
    no_args_is_help=True,
)

ADDR = typer.Argument(..., metavar="ADDR", help="An email address.")


@suppression_app.command("list")
def list_(ctx: typer.Context,
          reason: str | None = typer.Option(None, "--reason",
                                            help="Only BOUNCE or only COMPLAINT.")) -> None:
    """Every suppressed address (all pages), with why and since when."""
    from notifyctl import suppression

    wanted = suppression.check_reason(reason) if reason else None
    app = context.get(ctx)
    found = suppression.list_suppressed(app.aws.client("sesv2"), wanted)

    def render(con: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        if not found:
            con.print("The account's suppression list is empty"
                      + (f" for {wanted}." if wanted else "."))
            return
        table = Table(show_edge=False, pad_edge=False)
        for column in ("address", "reason", "since"):
            table.add_column(column)
        for entry in found:
            table.add_row(escape(entry.address), entry.reason, entry.last_update or "")
        con.print(table)

    app.out.result([e.as_dict() for e in found], render)


@suppression_app.command("check")
def check(ctx: typer.Context, address: str = ADDR) -> None:
    """Whether SES suppresses ADDR (exit 0 either way; the answer is in the output)."""
    from notifyctl import suppression

    addr = suppression.check_address(address)
    app = context.get(ctx)
    result = suppression.check(app.aws.client("sesv2"), addr)

    def render(con: Console) -> None:
        from rich.markup import escape

        entry = result.suppressed
        if entry is None:
            con.print(f"{escape(addr)} is not suppressed.")
        else:
            con.print(f"{escape(addr)} is suppressed: {entry.reason} since "
                      f"{entry.last_update or '?'}"
                      + (f" (message {entry.message_id})" if entry.message_id else ""))

    app.out.result(result.as_dict(), render)


@suppression_app.command("add")
def add(ctx: typer.Context, address: str = ADDR,
        reason: str = typer.Option(..., "--reason", help="BOUNCE or COMPLAINT.")) -> None:
    """Suppress ADDR for the whole account."""
    from notifyctl import suppression

    addr, why = suppression.check_address(address), suppression.check_reason(reason)
    app = context.get(ctx)
    suppression.add(app.aws.client("sesv2"), addr, why)
    app.out.result({"address": addr, "reason": why, "suppressed": True},
                   lambda con: con.print(f"suppressed {addr} ({why}), account-wide"))


@suppression_app.command("remove")
def remove(ctx: typer.Context, address: str = ADDR) -> None:
    """Make ADDR deliverable again (exit 1 when it was not suppressed)."""
    from notifyctl import suppression

    addr = suppression.check_address(address)
    app = context.get(ctx)
    suppression.remove(app.aws.client("sesv2"), addr)
    app.out.result({"address": addr, "suppressed": False},
                   lambda con: con.print(f"removed {addr} from the suppression list"))


def register(app: typer.Typer) -> None:
    app.add_typer(suppression_app, name="suppression")
