"""`--plan` and the plan shown before applying: the same Plan, rendered, nothing called."""

from __future__ import annotations

from typing import Any

from notifyctl.plans.executor import ExecutionResult
from notifyctl.plans.model import Plan, summarize_changes

SYMBOLS = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!"}
STYLES = {"create": "green", "update": "yellow", "unchanged": "dim", "conflict": "bold red"}


class DisplayExecutor:
    """Walks the same plan and describes it instead of calling AWS."""

    def __init__(self, console: Any, *, show_calls: bool = False,
                 hide_unchanged: bool = False) -> None:
        self.console = console
        self.show_calls = show_calls
        self.hide_unchanged = hide_unchanged

    def execute(self, plan: Plan) -> ExecutionResult:
        from rich.markup import escape
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("", "resource", "name", "changes"):
            table.add_column(col, overflow="fold", no_wrap=col not in ("detail", "changes"))
        shown = [s for s in plan.steps if not (self.hide_unchanged and s.action == "unchanged")]
        for step in shown:
            style = STYLES[step.action]
            changes = summarize_changes(step)
            if step.note and step.action in ("conflict",):
                changes = step.note
            table.add_row(f"[{style}]{SYMBOLS[step.action]} {step.action}[/{style}]",
                          step.resource, escape(step.name), escape(changes))
            if self.show_calls:
                for call in step.calls:
                    table.add_row("", "", f"[dim]  {call.service}.{call.method}[/dim]", "")
        if shown:
            self.console.print(table)
        counts = plan.counts()
        self.console.print(
            f"[bold]plan:[/bold] {counts['create']} to create, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged"
            + (f", [bold red]{counts['conflict']} conflict(s)[/bold red]"
               if counts["conflict"] else ""))
        return ExecutionResult()


