"""`notifyctl deployments list | show ID | watch ID | stop ID`: the environment's
CodeDeploy releases. Thin commands over `release.deployments` and `release.watch`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from notifyctl.cli import context

if TYPE_CHECKING:
    from rich.console import Console

deployments_app = typer.Typer(help="CodeDeploy releases of the function: list, show, watch, "
                                   "stop.", no_args_is_help=True)


@deployments_app.command("list")
def list_cmd(
    ctx: typer.Context,
    limit: int = typer.Option(10, "--limit", min=1, max=100, help="At most this many."),
) -> None:
    """The environment's deployments, newest first."""
    from notifyctl.release import deployments

    app = context.get(ctx)
    found = deployments.list_deployments(app.aws.client("codedeploy"), app.env, limit=limit)

    def render(con: Console) -> None:
        from rich.table import Table

        if not found:
            con.print(f"no deployments in {app.env.deployment_group_name}")
            return
        table = Table(title=app.env.deployment_group_name, title_justify="left")
        for column in ("id", "status", "config", "created", "description / error"):
            table.add_column(column, no_wrap=column != "description / error")
        for d in found:
            table.add_row(d.deployment_id, d.status, d.config.replace("CodeDeployDefault.", ""),
                          d.created.replace("T", " ")[:19], d.error or d.description)
        con.print(table)

    app.out.result([d.to_dict() for d in found], render)


@deployments_app.command("show")
def show(ctx: typer.Context,
         deployment_id: str = typer.Argument(..., metavar="ID", help="d-XXXXXXXXX")) -> None:
    """One deployment now: status, traffic split, hooks, alarms, errors per version."""
    from notifyctl.cli import release_view
    from notifyctl.release.watch import Watcher

    app = context.get(ctx)
    snap = Watcher(app.aws.client, deployment_id,
                   time_scale=release_view.time_scale(app)).snapshot()
    app.out.result(snap.to_dict(), lambda con: con.print(release_view.panel(snap)))


@deployments_app.command("watch")
def watch(
    ctx: typer.Context,
    deployment_id: str = typer.Argument(..., metavar="ID", help="d-XXXXXXXXX"),
    stop_on_interrupt: bool = typer.Option(False, "--stop-on-interrupt",
                                           help="Ctrl-C stops it with rollback instead of "
                                                "detaching."),
) -> None:
    """Follow a deployment until it ends; exit 0 if it succeeded, 1 otherwise."""
    from notifyctl.cli import release_view

    app = context.get(ctx)
    snap = release_view.watch(app, deployment_id, stop_on_interrupt=stop_on_interrupt)
    app.out.result(snap.to_dict(), lambda con: release_view.render_final(con, snap))
    release_view.outcome(app, snap)


@deployments_app.command("stop")
def stop(ctx: typer.Context,
         deployment_id: str = typer.Argument(..., metavar="ID", help="d-XXXXXXXXX")) -> None:
    """Stop a deployment and roll live back to the version it served before."""
    from notifyctl.infra import ownership
    from notifyctl.release import deployments

    app = context.get(ctx)
    # Stopping with rollback moves `live` back: the function must be ours.
    ownership.check(app.aws, app.env, ownership.ALIAS)
    message = deployments.stop(app.aws.client("codedeploy"), deployment_id)
    app.out.result({"deployment_id": deployment_id, "stopping": True, "message": message},
                   lambda con: con.print(f"{deployment_id}: {message} (rollback on); follow "
                                         f"it with `notifyctl deployments watch "
                                         f"{deployment_id}`"))


def register(app: typer.Typer) -> None:
    app.add_typer(deployments_app, name="deployments")
