"""How a CodeDeploy release looks while it runs (deploy-lambda --strategy, deployments watch).

On a terminal: a live panel redrawn every poll (traffic bar per version, hooks,
alarms, errors per version, time left). Piped: one line per change on stderr.
With --output json: quiet until the final snapshot. The watching itself is the
library's (`release.watch.follow`); this module only draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from notifyctl.cli.context import AppContext
    from notifyctl.release.watch import Snapshot

BAR = 20
STATE_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "dim",
               "Succeeded": "green", "Failed": "bold red", "Stopped": "bold red",
               "InProgress": "yellow", "Pending": "dim", "Skipped": "dim"}


def _styled(text: str) -> str:
    style = STATE_STYLE.get(text)
    return f"[{style}]{text}[/{style}]" if style else text


def _time_left(snap: Snapshot) -> str:
    if snap.time_left_s is None:
        return "?"
    minutes, seconds = divmod(int(snap.time_left_s), 60)
    return f"{minutes}m{seconds:02d}s"


def one_line(snap: Snapshot) -> str:
    """The piped form: everything on one line, no colour."""
    traffic = " ".join(f"v{t.version}={t.weight:.0%}({t.errors}err/{t.invocations})"
                       for t in snap.traffic)
    hooks = " ".join(f"{h.name}={h.status}" for h in snap.hooks)
    alarms = " ".join(f"{a.name}={a.state}" for a in snap.alarms)
    return (f"{snap.deployment_id} {snap.status} {traffic} | hooks {hooks} | alarms {alarms} "
            f"| left {_time_left(snap)}")


def panel(snap: Snapshot) -> RenderableType:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    table.add_row("[bold]deployment[/bold]", f"{snap.deployment_id}  {_styled(snap.status)}  "
                                             f"{snap.config}  time left {_time_left(snap)}")
    table.add_row("function", f"{snap.function}:{snap.alias}  "
                              f"{snap.current_version} -> {snap.target_version}")
    for t in snap.traffic:
        filled = round(t.weight * BAR)
        table.add_row(f"  version {t.version}",
                      f"{'█' * filled}{'░' * (BAR - filled)} {t.weight:>4.0%}  "
                      f"{t.invocations} invocations, {t.errors} errors")
    table.add_row("hooks", "  ".join(f"{h.name} {_styled(h.status)}" for h in snap.hooks)
                  or "none")
    table.add_row("alarms", "  ".join(f"{a.name} {_styled(a.state)}" for a in snap.alarms)
                  or "none")
    if snap.error_code:
        table.add_row("error", f"[red]{snap.error_code}: {snap.error_message}[/red]")
    return table


def render_final(con: Console, snap: Snapshot) -> None:
    con.print(panel(snap))
    if snap.succeeded:
        con.print(f"{snap.function}:{snap.alias} now at version {snap.target_version}")


def time_scale(app: AppContext) -> float:
    """The emulator's clock (real seconds per AWS second); 1.0 on AWS."""
    env = app.env
    if not env.is_local or not env.endpoint_url:
        return 1.0
    from notifyctl.emulator import control

    health = control.health(env.endpoint_url) or {}
    return float(health.get("time_scale") or 1.0)


def watch(app: AppContext, deployment_id: str, *, stop_on_interrupt: bool = False,
          poll_s: float | None = None) -> Snapshot:
    """Follow a deployment to its end, drawing it; Ctrl-C detaches (release.watch.Detached)
    or, with `stop_on_interrupt`, stops it with rollback and keeps watching."""
    from contextlib import ExitStack

    from notifyctl.release import deployments
    from notifyctl.release import watch as lib

    out = app.out
    watcher = lib.Watcher(app.aws.client, deployment_id, time_scale=time_scale(app))
    kwargs: dict[str, Any] = {} if poll_s is None else {"poll_s": poll_s}
    with ExitStack() as stack:
        live: Any = None
        if out.interactive and not out.json:
            from rich.live import Live

            live = stack.enter_context(Live(console=out.err, refresh_per_second=4,
                                            transient=True))

        def changed(snap: Snapshot) -> None:
            if live is None and not out.json:
                out.info(one_line(snap))

        def tick(snap: Snapshot) -> None:
            if live is not None:
                live.update(panel(snap))

        try:
            return lib.follow(watcher, changed, on_tick=tick, **kwargs)
        except lib.Detached:
            if not stop_on_interrupt:
                raise
        out.info(f"stopping {deployment_id} with rollback: "
                 f"{deployments.stop(app.aws.client('codedeploy'), deployment_id)}")
        return lib.follow(watcher, changed, on_tick=tick, **kwargs)


def outcome(app: AppContext, snap: Snapshot) -> None:
    """Exit 1 with the reason unless the release succeeded (a failed hook's log lines
    included)."""
    from notifyctl.release import watch as lib

    details: list[str] = []
    if snap.hooks_failed:
        env = app.env
        functions = dict(zip(("BeforeAllowTraffic", "AfterAllowTraffic"),
                             env.hook_function_names, strict=True))
        details = lib.hook_log_lines(app.aws.client("logs"), snap, functions)
    lib.outcome(snap, details)
