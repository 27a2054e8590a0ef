"""`notifyctl local faults add|list|clear`: rehearse failure on the emulator.

The engine and its HTTP control endpoint are notifyctl/emulator/faults.py; this module
parses options and renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.emulator.faults import FaultView

faults_app = typer.Typer(
    help="Inject faults into the emulator's AWS calls: errors, lost responses, latency.",
    no_args_is_help=True,
)

HOST = typer.Option("127.0.0.1", "--host", help="The emulator's interface.")
PORT = typer.Option(4566, "--port", "-p", help="The emulator's port.")


def _endpoint(ctx: typer.Context, host: str, port: int) -> str:
    from notifyctl.emulator import control

    return context.get(ctx).options.endpoint_url or control.endpoint_for(host, port)


@faults_app.command("add")
def add(
    ctx: typer.Context,
    service: str = typer.Argument(..., metavar="SERVICE",
                                  help="ses (v1 and v2 alike), dynamodb, sns, lambda, sqs..."),
    operation: str = typer.Argument(..., metavar="OPERATION",
                                    help="The API operation, e.g. SendEmail, UpdateItem."),
    error: str | None = typer.Option(None, "--error", metavar="CODE",
                                     help="Answer with this AWS error code (the call does "
                                          "not take effect)."),
    lost_response: bool = typer.Option(False, "--lost-response",
                                       help="Let the call take effect, then drop the "
                                            "connection without a response."),
    latency: int | None = typer.Option(None, "--latency", metavar="MS",
                                       help="Delay the call by MS milliseconds."),
    count: int | None = typer.Option(None, "--count", "-n", metavar="N",
                                     help="Hit only the next N matching calls (default: all)."),
    percent: float | None = typer.Option(None, "--percent", metavar="P",
                                         help="Hit P % of the matching calls (default 100)."),
    all_clients: bool = typer.Option(False, "--all-clients",
                                     help="Every caller, not only functions running in the "
                                          "emulator."),
    host: str = HOST,
    port: int = PORT,
) -> None:
    """Add a fault: calls to SERVICE OPERATION fail, lose their response or slow down."""
    from notifyctl.emulator import faults
    from notifyctl.errors import UsageError

    app = context.get(ctx)
    try:
        spec = faults.FaultSpec.create(service, operation, error=error,
                                       lost_response=lost_response, latency_ms=latency,
                                       count=count, percent=percent, all_clients=all_clients)
    except faults.FaultSpecError as exc:
        raise UsageError(str(exc)) from None
    fault = faults.add(_endpoint(ctx, host, port), spec)

    def render(con: Console) -> None:
        con.print(f"fault {fault.id} added: {_describe(fault)}")

    app.out.result(fault.to_dict(), render)


@faults_app.command("list")
def list_(ctx: typer.Context, host: str = HOST, port: int = PORT) -> None:
    """The faults in place, with how many calls each has hit."""
    from notifyctl.emulator import faults

    app = context.get(ctx)
    found = faults.list_faults(_endpoint(ctx, host, port))

    def render(con: Console) -> None:
        if not found:
            con.print("No faults.")
            return
        for fault in found:
            state = " [dim](spent)[/dim]" if fault.spent else ""
            con.print(f"{fault.id}: {_describe(fault)}, {fault.hits} hit(s){state}")

    app.out.result([f.to_dict() for f in found], render)


@faults_app.command("clear")
def clear(ctx: typer.Context, host: str = HOST, port: int = PORT) -> None:
    """Remove every fault."""
    from notifyctl.emulator import faults

    app = context.get(ctx)
    cleared = faults.clear(_endpoint(ctx, host, port))
    app.out.result({"cleared": cleared}, lambda con: con.print(f"{cleared} fault(s) cleared"))


def _describe(fault: FaultView) -> str:
    spec = fault.spec
    who = "every client" if spec.all_clients else "functions"
    scope = f"next {spec.count} call(s)" if spec.count is not None else "every call"
    share = f", {spec.percent:g} %" if spec.percent < 100 else ""
    return f"{spec.service} {spec.operation} from {who}: {spec.kind} ({scope}{share})"


def register(app: typer.Typer) -> None:
    """A subgroup of `local` (cli/local_cmd.py), joined here to keep that module ours-free."""
    from notifyctl.cli.local_cmd import local_app

    local_app.add_typer(faults_app, name="faults")
