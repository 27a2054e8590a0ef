"""`notifyctl export terraform`: the environment as a Terraform module.

Thin command over `notifyctl.export.module`; no AWS calls.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

export_app = typer.Typer(help="Export the environment's infrastructure for other tools.",
                         no_args_is_help=True)


class TerraformFormat(StrEnum):
    hcl = "hcl"
    json = "json"


@export_app.command("terraform")
def terraform(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", file_okay=False,
                                    help="Directory to write (default: ./terraform-<env>)."),
    fmt: TerraformFormat = typer.Option(TerraformFormat.hcl, "--format",
                                        help="hcl (.tf, `terraform fmt` style) or json (.tf.json)."),
    source: Path | None = typer.Option(
        None, "--source", file_okay=False,
        help="The function's source: lambda_src/ or its book_notifier/ folder "
             "(default: the installed package)."),
) -> None:
    """Write a Terraform module equal to what `bootstrap` creates for the environment.

    Same resources, names, tags and policy documents, the function from the
    reproducible package (written beside the module), variables for what differs
    per environment, outputs for the topic, the publisher policy and the DNS
    records. `deploy-lambda` and `rollback` keep owning releases: the module
    ignores later changes of the function's code and of the `live` alias.
    No AWS calls.
    """
    from notifyctl.export.module import export_terraform

    app = context.get(ctx)
    env = app.env
    result = export_terraform(env, out or Path(f"terraform-{env.name}"), fmt.value, source)

    def render(con: Console) -> None:
        from rich.markup import escape

        con.print(f"wrote {len(result.files)} file(s) and {result.package_file} to "
                  f"{escape(str(result.directory))}: {len(result.resources)} resources "
                  f"of environment {env.name!r}")
        con.print(f"next: terraform -chdir={escape(str(result.directory))} init && "
                  f"terraform -chdir={escape(str(result.directory))} apply")

    app.out.result({"environment": env.name, **result.as_dict()}, render)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
