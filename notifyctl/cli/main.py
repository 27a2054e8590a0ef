"""The one boundary where errors become messages and exit codes.

0 success · 1 an operation failed · 2 usage or configuration error · 130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import TYPE_CHECKING, NoReturn, TextIO

from notifyctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, NotifyctlError

if TYPE_CHECKING:
    from collections.abc import Callable

    import typer

    from notifyctl.cli.context import ClientsFactory

BUG_REPORT = "This is a bug in notifyctl; please report it with the output of `-v`."


def _print_error(message: str, hint: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False,
                  soft_wrap=True)
    err.print(f"[bold red]error:[/bold red] {escape(message)}")
    if hint:
        err.print(f"[dim]hint:[/dim] {escape(hint)}")


def _verbose(argv: list[str]) -> bool:
    return "-v" in argv or "--verbose" in argv


# The root command's options, as users of the AWS CLI expect them: accepted after
# the command too (`notifyctl config show --output json`).
GLOBAL_WITH_VALUE = frozenset({"--env", "-e", "--config", "-c", "--profile", "--region",
                               "--endpoint-url", "--output", "-o", "--read-timeout"})
GLOBAL_FLAGS = frozenset({"--verbose", "-v"})


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options found after the command to the front, keeping their order.

    Subcommands do not reuse these names (a contract test checks it); `--` ends
    the scan."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        name = token.split("=", 1)[0]
        attached = name.startswith("--") and name != token  # --output=json
        if token in GLOBAL_FLAGS or (attached and name in GLOBAL_WITH_VALUE):
            front.append(token)
        elif token in GLOBAL_WITH_VALUE and i + 1 < len(argv):
            front.extend(argv[i:i + 2])
            i += 1
        else:
            rest.append(token)
        i += 1
    return front + rest


def command_word(argv: list[str]) -> str | None:
    """The command argv names once the global options are hoisted to its front; None
    for none, or for the root's own --help / --version."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--", "-h", "--help", "--version"):
            return None
        if token in GLOBAL_WITH_VALUE:
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            return token
    return None


def app_for(command: str | None) -> typer.Typer:
    """The whole CLI; for a command of `commands.SOLO`, the root with that command alone."""
    from notifyctl.cli import commands

    if command in commands.SOLO:
        from notifyctl.cli.root import new_app

        app = new_app()
        commands.register_solo(app, command)
        return app
    from notifyctl.cli.app import app as whole

    return whole


def _click_exceptions() -> tuple[type[BaseException], type[Exception]]:
    """Typer >= 0.29 vendors click as typer._click; older releases use click itself."""
    from typer import Abort

    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - older typer
        from click.exceptions import ClickException  # type: ignore[assignment,no-redef]
    return Abort, ClickException


def run(argv: list[str] | None = None, *, clients: ClientsFactory | None = None,
        whole_process: bool = False) -> int:
    """Run the CLI and return its exit code (used by `main` and by tests).

    `clients` builds the AWS client factory from the resolved settings (default
    `AwsClients`); tests pass one that shares moto-backed or failing clients.
    `whole_process`: the caller is `main` (see `Invocation.whole_process`)."""
    import typer.main

    abort, click_exception = _click_exceptions()

    from notifyctl.cli.context import Invocation

    argv = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app_for(command_word(argv)))
    invocation = Invocation(clients, whole_process=whole_process)
    try:
        rv = command.main(args=argv, prog_name="notifyctl", standalone_mode=False,
                          obj=invocation)
        if rv == EXIT_INTERRUPTED:  # typer turns Ctrl-C into a silent Exit(130): say it
            sys.stderr.write("\ninterrupted\n")
        return rv if isinstance(rv, int) else 0
    except NotifyctlError as exc:
        _print_error(exc.message, exc.hint)
        return exc.exit_code
    except abort:  # Ctrl-C or end of input at a prompt
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except click_exception as exc:
        exc.show()  # type: ignore[attr-defined]
        return getattr(exc, "exit_code", 0) or EXIT_USAGE
    except Exception as exc:  # the last line of defence
        from notifyctl.aws.errors import translate
        from notifyctl.cli.mistakes import explain

        translated = (explain(exc, invocation.endpoint_url)
                      or translate(exc, invocation.endpoint_url))
        if translated is not None:
            _print_error(translated.message, translated.hint)
            return translated.exit_code
        if _verbose(argv):
            traceback.print_exception(type(exc), exc, exc.__traceback__, limit=8)
        _print_error(f"unexpected {type(exc).__name__}: {exc}",
                     None if _verbose(argv) else "Run again with -v for a traceback. " + BUG_REPORT)
        return EXIT_FAILED


def exit_now(code: int, streams: tuple[TextIO, ...] | None = None,
             exit_process: Callable[[int], object] | None = None) -> NoReturn:
    """Flush stdout and stderr, then end the process without the interpreter's teardown.

    Teardown frees every module and object one by one: after a 10,000-event
    `logs` read, ~0.05-0.1 s of CPU that shows nothing to anyone. Only for
    `commands.SOLO`: they start no threads or child processes and register no atexit
    work, so flushing the two streams is all that teardown would have done for them.
    A reader that left (`| head`) makes the flush fail: the exit code stays the
    command's, as `logs` itself treats a closed pipe as a normal end.
    """
    for stream in (sys.stdout, sys.stderr) if streams is None else streams:
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    (exit_process or os._exit)(code)
    raise SystemExit(code)  # only reached when a test stands in for os._exit


def main() -> None:
    argv = sys.argv[1:]
    code = run(argv, whole_process=True)
    from notifyctl.cli import commands

    if command_word(hoist_global_options(argv)) in commands.SOLO:
        exit_now(code)
    sys.exit(code)
