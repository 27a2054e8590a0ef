"""The root command: its global options, on a Typer app that has no command yet.

`notifyctl.cli.app` joins every command group to it (the CLI); `main.run` joins
only the named command for the few that must start fast (`commands.SOLO`).
"""

from __future__ import annotations

from enum import StrEnum

import typer

from notifyctl import __version__
from notifyctl.cli.context import AppContext, GlobalOptions, Invocation
from notifyctl.cli.output import Output


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"notifyctl {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    env: str | None = typer.Option(None, "--env", "-e", envvar="NOTIFYCTL_ENV",
                                   help="Environment from the config file (default: local)."),
    config: str | None = typer.Option(None, "--config", "-c", envvar="NOTIFYCTL_CONFIG",
                                      help="Config file (default: ./config/notifyctl.yaml, "
                                           "else the packaged default)."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile (wins over AWS_PROFILE)."),
    region: str | None = typer.Option(None, "--region", help="AWS Region (wins over AWS_REGION)."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url",
                                            help="Override the endpoint (like the AWS CLI's flag)."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o",
                                        help="text for people, json for scripts."),
    read_timeout: float | None = typer.Option(
        None, "--read-timeout", min=1, metavar="S",
        help="Give up on an AWS call unanswered after S seconds, per attempt (default 60)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail; tracebacks on crashes."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    opts = GlobalOptions(env=env, config=config, profile=profile, region=region,
                         endpoint_url=endpoint_url, output=output.value, verbose=verbose,
                         read_timeout=read_timeout)
    invocation = ctx.obj if isinstance(ctx.obj, Invocation) else Invocation()
    ctx.obj = AppContext(opts, Output(opts.output, verbose), invocation=invocation)


def new_app() -> typer.Typer:
    """The root command with its global options and no command registered yet."""
    app = typer.Typer(
        name="notifyctl",
        help="Operate the book-notification pipeline: SNS -> Lambda -> DynamoDB de-dup -> SES.\n\n"
             "Global options may also follow the command.\n\n"
             "Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error, "
             "130 interrupted.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain click help: rich help formatting costs ~40 ms per start
        pretty_exceptions_show_locals=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    return app
