"""`notifyctl bootstrap`, `notifyctl status`, `notifyctl teardown`.

Thin commands over `notifyctl.infra` (specs, planner, status, teardown) and
`notifyctl.plans` (the executor); the tables they print are drawn here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from notifyctl.cli import context
from notifyctl.cli.options import WAIT_TIMEOUT

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.infra.dns_records import DnsRecord


STATE_STYLE = {"present": "green", "drifted": "yellow", "missing": "bold red",
               "not-ours": "bold red"}


def _stdin_interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _confirm(app: Any, *, yes: bool, question: str, what: str, local: bool) -> None:
    from notifyctl.errors import UsageError
    from notifyctl.infra.bootstrap import ASK, REFUSE, confirmation

    decision = confirmation(local=local, yes=yes, interactive=_stdin_interactive())
    if decision == REFUSE:
        raise UsageError(f"refusing to {what} environment {app.env.name!r} without "
                         "confirmation: stdin is not a terminal",
                         hint="Pass --yes to confirm (after reviewing the plan).")
    if decision == ASK and not typer.confirm(question, default=False, err=True):
        # "n" is an answer, not an interruption: say so, exit 1 (Ctrl-C stays 130)
        app.out.err.print("aborted, nothing changed")
        raise typer.Exit(1)


def bootstrap(
    ctx: typer.Context,
    plan_only: bool = typer.Option(False, "--plan", help="Print the plan and change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking."),
    source: Path | None = typer.Option(
        None, "--source", file_okay=False,
        help="The function's source for a first deployment: lambda_src/ or its "
             "book_notifier/ folder (default: the installed package)."),
    wait_timeout: float = WAIT_TIMEOUT,
    no_verify: bool = typer.Option(
        False, "--no-verify", help="With --source: skip the check that the package imports "
        "and its handler resolves in a clean interpreter before uploading."),
    adopt: bool = typer.Option(
        False, "--adopt", help="Adopt resources with this environment's names that "
        "notifyctl did not tag (built by Terraform or a console): show whether each is "
        "equivalent to notifyctl's, and tag the equivalent ones as ours (asks first; "
        "--yes to skip, --plan to only show). Creates and changes nothing else."),
) -> None:
    """Create or reconcile the pipeline's infrastructure (plan, then apply).

    Topic, de-dup table, log group, failure queue, IAM role and publisher policy,
    SES identity, function with alias `live`, its invoke config, the SNS permission
    and subscription. Re-running on an up-to-date environment changes nothing.
    Code is deployed only when the function is created (later code is
    `deploy-lambda`'s); drift of the managed function settings (memory, timeout,
    environment...) of the version `live` serves is corrected and published as a
    new version of the same code.
    """
    from notifyctl.cli.plan_view import DisplayExecutor
    from notifyctl.cli.progress import StepProgress
    from notifyctl.infra import bootstrap as lib

    app = context.get(ctx)
    out = app.out
    if adopt:
        _adopt(app, plan_only=plan_only, yes=yes)
        return
    with out.status("planning ..."):
        specs, the_plan = lib.plan(app.aws, app.env, source=source)
    if plan_only:
        def render_plan(con: Console) -> None:
            DisplayExecutor(con, show_calls=out.verbose).execute(the_plan)

        out.result(the_plan.describe(), render_plan)
        return
    if not out.json:
        DisplayExecutor(out.console, show_calls=out.verbose,
                        hide_unchanged=not out.verbose).execute(the_plan)
    lib.refuse_conflicts(the_plan, app.env.name)
    result_applied: list[str] = []
    if the_plan.up_to_date:
        out.info(f"no changes: environment {app.env.name!r} is up to date")
    else:
        local = app.env.is_local or app.aws.settings.is_local
        _confirm(app, yes=yes, local=local, what="change",
                 question=f"Apply {len(the_plan.changes)} change(s) to environment "
                          f"{app.env.name!r}?")
        if source is not None and not no_verify:
            from notifyctl.cli.package_check import check_package_imports
            from notifyctl.release.package import build as build_package

            check_package_imports(app, build_package(source).data)
        with out.progress() as progress:
            task = progress.add_task("applying", total=len(the_plan.changes))
            result = lib.apply(app.aws, the_plan, source=source,
                               reporter=StepProgress(out, progress, task),
                               wait_timeout=wait_timeout)
        result_applied = [s.title for s in result.applied]
        out.info(f"applied {len(result_applied)} change(s) to environment {app.env.name!r}")
    outputs = lib.outputs(app.aws, specs)
    data = {"environment": app.env.name, "changed": bool(result_applied),
            "plan": the_plan.describe(), "applied": result_applied,
            "outputs": outputs.as_dict()}

    def render(con: Console) -> None:
        con.print(f"publisher policy (attach to the web app's role): "
                  f"[bold]{outputs.publisher_policy_arn}[/bold]")
        con.print(f"topic: {outputs.topic_arn}")
        con.print(f"function alias: {outputs.alias_arn}")
        if outputs.dns_records:
            render_dns_records(con, outputs.dns_records)

    out.result(data, render)


def _adopt(app: Any, *, plan_only: bool, yes: bool) -> None:
    """`bootstrap --adopt`: the adoption plan, consent, then only its tag calls.
    Exit 1 when a resource stays a conflict (not equivalent, or another
    environment's)."""
    from notifyctl.cli.plan_view import DisplayExecutor
    from notifyctl.infra import bootstrap as lib
    from notifyctl.infra.diff import step_diff

    out = app.out
    with out.status("comparing ..."):
        _specs, full = lib.plan(app.aws, app.env, adopt=True)
    the_plan = lib.adoption(full)
    pending = lib.pending_after_adoption(full)

    def render_plan(con: Console) -> None:
        from rich.markup import escape

        if the_plan.steps:
            DisplayExecutor(con, show_calls=out.verbose).execute(the_plan)
        else:
            con.print("nothing to adopt: every resource with this environment's names "
                      "is ours or missing")
        for step in the_plan.conflicts:
            lines = step_diff(step)
            if lines:
                con.print(f"[bold]{step.resource} {escape(step.name)}[/bold] differs:")
                for line in lines:
                    con.print(f"  {escape(line)}", highlight=False)

    data: dict[str, Any] = {"environment": app.env.name, "plan": the_plan.describe(),
                            "adopted": [], "conflicts": [s.describe()
                                                         for s in the_plan.conflicts],
                            "pending_changes": pending}
    if plan_only or not the_plan.changes:
        out.result(data, render_plan)
        if the_plan.conflicts and not plan_only:
            raise typer.Exit(1)
        return
    if not out.json:
        render_plan(out.console)
    _confirm(app, yes=yes, local=False, what="adopt resources of",
             question=f"Tag {len(the_plan.changes)} resource(s) as environment "
                      f"{app.env.name!r}'s? (teardown then deletes them too)")
    result = lib.apply(app.aws, the_plan)
    data["adopted"] = [f"{s.resource} {s.name}" for s in result.applied]

    def render(con: Console) -> None:
        from rich.markup import escape

        for step in result.applied:
            con.print(f"[cyan]adopted[/cyan] {step.resource} {escape(step.name)}")
        if pending:
            con.print(f"{pending} other change(s) remain: run `notifyctl bootstrap`")

    out.result(data, render)
    if the_plan.conflicts:
        raise typer.Exit(1)


def status(ctx: typer.Context) -> None:
    """Show every resource (present / missing / drifted), the function's versions and
    where `live` points, SES verification, DKIM, quota and sandbox, the account's
    bounce and complaint rates against AWS's review (5 % / 0.1 %) and pause (10 % /
    0.5 %) thresholds, and the failure queue's depth. Exit 1 if anything required is
    missing or a rate is past the review threshold."""
    from notifyctl.infra import status as lib

    app = context.get(ctx)
    with app.out.status("reading the environment ..."):
        report = lib.collect(app.aws, app.env)

    def render(con: Console) -> None:
        from rich.markup import escape

        from notifyctl.cli.tables import resource_table

        table = resource_table(
            ("state", "resource", "name", "detail"),
            [[f"[{STATE_STYLE.get(r.state, '')}]{r.state}[/{STATE_STYLE.get(r.state, '')}]",
              r.resource, escape(r.name), escape(r.detail)] for r in report.resources],
            [[r.state, r.resource, r.name, r.detail] for r in report.resources])
        con.print(f"[bold]environment[/bold] {report.environment}")
        con.print(table)
        fn = report.function
        if fn:
            versions = ", ".join(v.version for v in fn.versions) or "none"
            con.print(f"function versions: {versions}; {fn.alias} -> "
                      f"{fn.alias_version or 'missing'}")
        ses = report.ses
        quota = ses.quota
        quota_text = (quota if isinstance(quota, str) else
                      f"{quota.sent_last_24h or 0:,.0f}/{quota.max_24h or 0:,.0f} in 24 h, "
                      f"{quota.max_per_second or 0:g}/s")
        sandbox = ses.sandbox
        sandbox_text = sandbox if isinstance(sandbox, str) else ("yes" if sandbox else "no")
        con.print(f"SES {ses.kind} identity {escape(ses.identity)}: verification "
                  f"{ses.verification}, DKIM {ses.dkim}; quota {quota_text}; "
                  f"sandbox {sandbox_text}")
        if report.queue:
            con.print(f"failure queue {report.queue.name}: {report.queue.depth} "
                      f"message(s) waiting")
        _render_reputation(con, report.reputation)
        if any(r.state == "not-ours" for r in report.resources):
            con.print("[bold red]not ours:[/bold red] resources with this environment's "
                      "names lack its tags; see `notifyctl bootstrap --adopt`")
        elif not report.ok:
            con.print("[bold red]incomplete:[/bold red] run `notifyctl bootstrap`")

    app.out.result(report.as_dict(), render)
    if not report.ok or not report.reputation_ok:
        raise typer.Exit(1)


def _render_reputation(con: Console, rep: object) -> None:
    from notifyctl.infra import reputation as r

    if not isinstance(rep, r.Reputation):
        con.print(f"SES bounce/complaint rates: {rep}")
        return

    def pct(v: float | None) -> str:
        return "no data" if v is None else f"{v * 100:.2f} %"

    if rep.source == r.NO_DATA:
        con.print(f"SES bounce/complaint rates: no sends in the last 2 weeks (AWS reviews at "
                  f"{r.REVIEW_BOUNCE:.0%} / {r.REVIEW_COMPLAINT:.1%}, may pause at "
                  f"{r.PAUSE_BOUNCE:.0%} / {r.PAUSE_COMPLAINT:.1%})")
        return

    con.print(f"SES bounce rate {pct(rep.bounce_rate)} (review {r.REVIEW_BOUNCE:.0%}, pause "
              f"{r.PAUSE_BOUNCE:.0%}), complaint rate {pct(rep.complaint_rate)} (review "
              f"{r.REVIEW_COMPLAINT:.1%}, pause {r.PAUSE_COMPLAINT:.1%}); from {rep.source}")
    if rep.level == r.PAUSE:
        con.print("[bold red]warning:[/bold red] past AWS's PAUSE threshold: SES may stop "
                  "this account's sending")
    elif rep.level == r.REVIEW:
        con.print("[bold yellow]warning:[/bold yellow] past AWS's review threshold: SES may "
                  "put the account under review (see `notifyctl suppression list`)")


def teardown(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking."),
    delete_data: bool = typer.Option(False, "--delete-data",
                                     help="Also delete the de-duplication table and its data."),
) -> None:
    """Delete this environment's resources: every one tagged as this environment's,
    whoever created it (bootstrap, or Terraform/a console then `bootstrap --adopt`).

    Untagged resources with our names are left alone. Keeps the de-duplication table
    unless --delete-data, and the SES identity.
    """
    from notifyctl.infra import teardown as lib

    app = context.get(ctx)
    out = app.out
    with out.status("reading the environment ..."):
        items = lib.plan_teardown(app.aws, app.env, delete_data=delete_data)
    to_delete = [i for i in items if i.action == lib.DELETE]
    if to_delete:
        if not out.json:
            out.info(f"will delete every resource tagged as environment {app.env.name!r}'s, "
                     "whoever created it (including adopted ones):")
            for i in to_delete:
                out.info(f"  - {i.resource} {i.name}")
        _confirm(app, yes=yes, local=False, what="tear down",
                 question=f"Delete {len(to_delete)} resource(s) tagged as environment "
                          f"{app.env.name!r}'s?")
    result = lib.execute(items, app.env,
                         on_item=lambda i: out.debug(f"{i.action}: {i.resource} {i.name}"))

    def render(con: Console) -> None:
        from rich.markup import escape

        if not result.deleted:
            con.print("nothing to delete")
        for i in result.deleted:
            con.print(f"[red]deleted[/red] {i.resource} {escape(i.name)}")
        for i in result.kept:
            con.print(f"[green]kept[/green]    {i.resource} {escape(i.name)}: "
                      f"{escape(i.reason)}")

    out.result({"environment": app.env.name, **result.as_dict()}, render)


def render_dns_records(console: Console, records: list[DnsRecord]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="DNS records to publish", show_header=True, header_style="bold",
                  title_justify="left")
    for col in ("name", "type", "value", "purpose"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(escape(r.name), r.type, escape(r.value), escape(r.purpose))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("bootstrap")(bootstrap)
    app.command("status")(status)
    app.command("teardown")(teardown)
