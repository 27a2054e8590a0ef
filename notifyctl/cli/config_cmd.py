"""`notifyctl config show`: the resolved configuration of one environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the resolved configuration for the chosen environment (no secrets)."""
    app = context.get(ctx)
    env = app.env
    data = {"environment": env.name, "config_file": app.config_path, **env.to_dict()}

    def render(con: Console) -> None:
        con.print(f"[bold]environment[/bold] {env.name}  [dim]({app.config_path})[/dim]")
        for key, value in env.to_dict().items():
            if isinstance(value, dict):
                con.print(f"[bold]{key}[/bold]")
                for k, v in value.items():
                    con.print(f"  {k}: {v}")
            elif key != "name":
                con.print(f"[bold]{key}[/bold]: {value}")

    app.out.result(data, render)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
