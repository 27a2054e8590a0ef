"""`--plan` and the plan shown before applying: the same Plan, rendered, nothing called."""

from __future__ import annotations

from typing import Any

from notifyctl.plans.executor import ExecutionResult
from notifyctl.plans.model import Plan, summarize_changes

SYMBOLS = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!", "adopt": "&"}
STYLES = {"create": "green", "update": "yellow", "unchanged": "dim", "conflict": "bold red",
          "adopt": "cyan"}


class DisplayExecutor:
    """Walks the same plan and describes it instead of calling AWS."""

    def __init__(self, console: Any, *, show_calls: bool = False,
                 hide_unchanged: bool = False) -> None:
        self.console = console
        self.show_calls = show_calls
        self.hide_unchanged = hide_unchanged

    def execute(self, plan: Plan) -> ExecutionResult:
        from rich.markup import escape

        from notifyctl.cli.tables import resource_table

        rows: list[list[str]] = []
        plain: list[list[str]] = []
        shown = [s for s in plan.steps if not (self.hide_unchanged and s.action == "unchanged")]
        for step in shown:
            style = STYLES[step.action]
            changes = summarize_changes(step)
            if step.note and step.action in ("conflict",):
                changes = step.note
            label = f"{SYMBOLS[step.action]} {step.action}"
            rows.append([f"[{style}]{label}[/{style}]", step.resource, escape(step.name),
                         escape(changes)])
            plain.append([label, step.resource, step.name, changes])
            if self.show_calls:
                for call in step.calls:
                    rows.append(["", "", f"[dim]  {call.service}.{call.method}[/dim]", ""])
                    plain.append(["", "", f"  {call.service}.{call.method}", ""])
        if shown:
            self.console.print(resource_table(("", "resource", "name", "changes"), rows, plain))
        counts = plan.counts()
        self.console.print(
            f"[bold]plan:[/bold] {counts['create']} to create, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged"
            + (f", {counts['adopt']} to adopt" if counts["adopt"] else "")
            + (f", [bold red]{counts['conflict']} conflict(s)[/bold red]"
               if counts["conflict"] else ""))
        return ExecutionResult()
