"""`notifyctl deploy-lambda`, `notifyctl versions`, `notifyctl rollback`.

Thin commands over `notifyctl.release` (package, deploy, versions, rollback).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from notifyctl.cli import context
from notifyctl.cli.options import WAIT_TIMEOUT

if TYPE_CHECKING:
    from rich.console import Console



def deploy_lambda(
    ctx: typer.Context,
    source: Path | None = typer.Option(
        None, "--source", file_okay=False, help="The function's source: lambda_src/ or its "
        "book_notifier/ folder (default: the book_notifier package installed with notifyctl)."),
    package_only: bool = typer.Option(False, "--package-only",
                                      help="Only build the zip (no AWS calls); see --out."),
    out_path: Path | None = typer.Option(None, "--out", dir_okay=False,
                                         help="Write the zip here (default with "
                                              "--package-only: ./book_notifier.zip)."),
    force: bool = typer.Option(
        False, "--force", help="Publish a new version even if nothing changed. Lambda does not "
        "publish a version of unchanged code and configuration, so this stamps the function's "
        "Description first (a configuration change); code and settings stay the same."),
    appspec: Path | None = typer.Option(None, "--appspec", dir_okay=False,
                                        help="Also write the CodeDeploy AppSpec (YAML) of "
                                             "this release here."),
    publish_only: bool = typer.Option(
        False, "--publish-only", help="Publish the version but leave the live alias where it "
        "is (let CodeDeploy shift traffic with --appspec)."),
    prune: int | None = typer.Option(None, "--prune", min=1, metavar="KEEP",
                                     help="Afterwards delete versions beyond the newest KEEP "
                                          "(never one an alias points at)."),
    plan: bool = typer.Option(False, "--plan", help="Show the steps a deploy would take; "
                                                    "change nothing."),
    strategy: str | None = typer.Option(
        None, "--strategy", "-s", metavar="S",
        help="How traffic moves to the new version: all-at-once (move live at once), "
             "canary10-5m, linear10-1m, ... or a CodeDeploy deployment config name "
             "(default: the environment's release.strategy)."),
    stop_on_interrupt: bool = typer.Option(
        False, "--stop-on-interrupt", help="Ctrl-C stops the deployment with rollback "
        "instead of detaching from it."),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Skip the check that the package imports and its handler "
        "resolves in a clean interpreter before uploading."),
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Deploy the notifier function: upload, publish a version, move `live` to it.

    Compares the package's CodeSha256 and the managed configuration with the version
    `live` points at (in AWS, not a local cache); when nothing differs it says
    "unchanged" and publishes nothing. Before uploading, the package is imported in
    a clean interpreter (of the function's runtime when installed): a package that
    does not import, or whose handler does not resolve, is refused with exit 2. With a
    canary or linear strategy, CodeDeploy shifts `live` and the release is watched live
    until it succeeds (exit 0) or is rolled back (exit 1, with the alarm or hook that
    stopped it).
    """
    from notifyctl.cli.output_files import check_output_file
    from notifyctl.release.package import build

    app = context.get(ctx)
    check_output_file(out_path, "--out")
    check_output_file(appspec, "--appspec")
    package = build(source)
    if package_only:
        target = out_path or Path("book_notifier.zip")
        package.write(target)
        data = {"path": str(target), "package_bytes": package.size,
                "code_sha256": package.sha256_b64, "files": list(package.files)}

        def render_pkg(con: Console) -> None:
            con.print(f"wrote {target}: {package.size:,} bytes, {len(package.files)} files, "
                      f"CodeSha256 {package.sha256_b64}")

        app.out.result(data, render_pkg)
        return
    if out_path is not None:
        package.write(out_path)

    from notifyctl.cli.progress import StepSpinner
    from notifyctl.infra import ownership
    from notifyctl.release import deployments
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.strategy import config_name

    env = app.env
    config = config_name(strategy or env.release.strategy)
    # A function of our name that is not ours (Terraform's, before `bootstrap --adopt`)
    # is refused, as are the hooks and CodeDeploy application a release uses.
    ownership.check(app.aws, env, ownership.FUNCTION,
                    *((ownership.HOOK_FUNCTION, ownership.CODEDEPLOY_APP) if config else ()))
    if not plan and not no_verify:
        from notifyctl.cli.package_check import check_package_imports

        check_package_imports(app, package.data)
    release_target = (deployments.target_for(env, config, app.aws.client("lambda"))
                      if config else None)
    with StepSpinner(app.out) as spinner:
        result = deploy(app.aws.client("lambda"), env.function_name, env.alias_name, package,
                        desired_function_config(env), force=force,
                        move_alias=not publish_only, prune_keep=prune, appspec_path=appspec,
                        plan_only=plan, reporter=spinner, deployment=release_target,
                        codedeploy=app.aws.client("codedeploy") if release_target else None,
                        wait_timeout=wait_timeout)
    if result.deployment_id:
        _watch_release(app, result, stop_on_interrupt)
        return

    def render(con: Console) -> None:
        where = f"{result.function}:{result.alias}"
        if plan:
            if not result.planned:
                con.print(f"unchanged, version {result.version} is live ({where}); "
                          "nothing to do")
            for i, text in enumerate(result.planned, 1):
                con.print(f"{i}. {text}")
            if result.changes:
                con.print(f"[dim]differs from the live version: {', '.join(result.changes)}"
                          "[/dim]")
            return
        if result.unchanged:
            con.print(f"unchanged, version {result.version} is live ({where})")
        elif result.reused_version:
            con.print(f"nothing new to publish: version [bold]{result.version}[/bold] "
                      f"already has this code and configuration "
                      f"({', '.join(result.changes) or 'forced'} vs live)")
        else:
            con.print(f"published version [bold]{result.version}[/bold] "
                      f"({', '.join(result.changes) or 'forced'})")
            if result.alias_moved:
                con.print(f"{where}: {result.previous_version or '(new alias)'} -> "
                          f"{result.version}")
            else:
                con.print(f"{where} left at {result.previous_version}")
        con.print(f"[dim]package {result.package_bytes:,} bytes, CodeSha256 "
                  f"{result.code_sha256}[/dim]")
        if result.pruned is not None:
            _render_prune(con, result.pruned.to_dict())
        if result.appspec:
            con.print(f"AppSpec written to {result.appspec}")

    app.out.result(result.to_dict(), render)


def _watch_release(app: Any, result: Any, stop_on_interrupt: bool) -> None:
    """Follow the deployment deploy-lambda started; print the outcome; exit 1 unless it
    succeeded."""
    from notifyctl.cli import release_view

    app.out.info(f"published version {result.version}; deployment {result.deployment_id} "
                 "shifts live (Ctrl-C detaches)")
    snap = release_view.watch(app, result.deployment_id, stop_on_interrupt=stop_on_interrupt)
    app.out.result({**result.to_dict(), "deployment": snap.to_dict()},
                   lambda con: release_view.render_final(con, snap))
    release_view.outcome(app, snap)


def _render_prune(con: Console, pruned: dict[str, Any]) -> None:
    deleted = ", ".join(pruned["deleted"]) or "none"
    con.print(f"pruned versions: {deleted}")
    reasons = pruned.get("protected_reasons", {})
    for version in pruned["protected"]:
        con.print(f"[dim]kept version {version}: {reasons.get(version) or 'protected'}[/dim]")
    for item in pruned["failed"]:
        con.print(f"[yellow]could not delete version {item['version']}: {item['reason']}"
                  "[/yellow]")


def versions(
    ctx: typer.Context,
    prune: int | None = typer.Option(None, "--prune", min=1, metavar="KEEP",
                                     help="Delete versions beyond the newest KEEP (never one an "
                                          "alias points at, nor live's recorded previous)."),
) -> None:
    """List the function's published versions, newest first, and where aliases point."""
    from notifyctl.release import versions as lib

    app = context.get(ctx)
    env = app.env
    report = lib.versions_report(app.aws.client("lambda"), env.function_name, prune)
    pruned, found = report.pruned, report.versions

    def render(con: Console) -> None:
        from rich.table import Table

        if pruned is not None:
            _render_prune(con, pruned.to_dict())
        if not found:
            con.print(f"{env.function_name}: no published versions")
            return
        table = Table(title=env.function_name, title_justify="left")
        table.add_column("version", justify="right", no_wrap=True)
        table.add_column("aliases", no_wrap=True)
        table.add_column("modified (UTC)", no_wrap=True)
        table.add_column("bytes", justify="right", no_wrap=True)
        table.add_column("CodeSha256", no_wrap=True)
        table.add_column("description")
        for v in found:
            # The full hash is in --output json; the description's own sha= repeats it.
            description = lib.short_description(v.description)
            table.add_row(v.version, ", ".join(v.aliases),
                          v.last_modified[:16].replace("T", " "), f"{v.code_size:,}",
                          v.code_sha256[:12] + "…", description)
        con.print(table)

    app.out.result(report.to_dict(), render)


def rollback(
    ctx: typer.Context,
    to_version: int | None = typer.Option(None, "--to-version", min=1, metavar="N",
                                          help="Move live to version N instead."),
) -> None:
    """Move `live` back one release, or to version N.

    Back from a deploy is the version live had before it; a second rollback goes
    further back through the release history (never forward to the version just
    left: undo a rollback with the --to-version it prints). During a CodeDeploy
    release, stops it with rollback instead (live goes back to the version it served
    before the release)."""
    from notifyctl.infra import ownership
    from notifyctl.release import deployments
    from notifyctl.release.rollback import rollback as run_rollback

    app = context.get(ctx)
    env = app.env
    ownership.check(app.aws, env, ownership.ALIAS)
    running = deployments.running_release(app.aws.client("codedeploy"), env)
    if running is not None:
        from notifyctl.cli import release_view

        message = deployments.stop(app.aws.client("codedeploy"), running)
        app.out.info(f"deployment {running} in progress: stopping it with rollback ({message})")
        snap = release_view.watch(app, running)
        app.out.result({"stopped_deployment": running, "deployment": snap.to_dict()},
                       lambda con: release_view.render_final(con, snap))
        return
    result = run_rollback(app.aws.client("lambda"), env.function_name, env.alias_name,
                          to_version)

    def render(con: Console) -> None:
        where = f"{result.function}:{result.alias}"
        if result.changed:
            con.print(f"{where}: {result.from_version} -> {result.to_version}")
            con.print(f"[dim]undo: notifyctl rollback --to-version {result.from_version}[/dim]")
        else:
            con.print(f"{where} already at version {result.to_version}; nothing to do")

    app.out.result(result.to_dict(), render)


def register(app: typer.Typer) -> None:
    app.command("deploy-lambda")(deploy_lambda)
    app.command("versions")(versions)
    app.command("rollback")(rollback)
