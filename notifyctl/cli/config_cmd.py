"""`notifyctl config show`: the effective configuration of one environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)

# Settings the command line and AWS_* variables can change (see README "Precedence").
OVERRIDABLE = ("profile", "region", "endpoint_url")


def _shown(value: Any) -> str:
    """YAML/JSON spelling for people: null, true/false, lists as [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective configuration of the chosen environment (no secrets).

    The file's values merged over the packaged defaults, with --profile, --region,
    --endpoint-url and AWS_PROFILE / AWS_REGION / AWS_ENDPOINT_URL applied: what
    every other command will use. `overridden` lists what differs from the file.
    """
    app = context.get(ctx)
    env = app.env
    settings = app.settings
    values = env.to_dict()
    effective = {"profile": settings.profile, "region": settings.region,
                 "endpoint_url": settings.endpoint_url}
    overridden = {k: {"file": values[k], "effective": effective[k]}
                  for k in OVERRIDABLE if values[k] != effective[k]}
    values.update(effective)
    data = {"environment": env.name, "config_file": app.config_path, **values,
            "overridden": overridden}

    def render(con: Console) -> None:
        con.print(f"[bold]environment[/bold] {env.name}  [dim]({app.config_path})[/dim]")
        for key, value in values.items():
            if isinstance(value, dict):
                con.print(f"[bold]{key}[/bold]")
                for k, v in value.items():
                    con.print(f"  {k}: {_shown(v)}", markup=False)
            elif key != "name":
                note = (f"  [dim](file: {_shown(overridden[key]['file'])})[/dim]"
                        if key in overridden else "")
                con.print(f"[bold]{key}[/bold]: {_shown(value)}{note}")

    app.out.result(data, render)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
