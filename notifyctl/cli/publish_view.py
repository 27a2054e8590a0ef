"""How `publish-book` looks: its progress bars and its report (the library is
notifyctl.publish; this is rendering only)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from notifyctl.publish.report import SHOWN_PROBLEMS

if TYPE_CHECKING:
    from rich.console import Console

    from notifyctl.publish.report import PublishReport


class RichProgress:
    """A ProgressSink over a rich Progress (see Output.progress)."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def task(self, label: str, total: int | None) -> Callable[[int], None]:
        task_id = self._progress.add_task(label, total=total)

        def advance(n: int) -> None:
            self._progress.advance(task_id, n)

        return advance


def progress_context(out: Any) -> AbstractContextManager[Any]:
    """out.progress() on a terminal, else a no-op context (yielding None)."""
    if out.interactive and not out.json:
        return out.progress()  # type: ignore[no-any-return]
    return nullcontext(None)


def render_publish(report: PublishReport, con: Console) -> None:
    from rich.markup import escape

    if report.published == 1 and not report.failed and report.wait is None:
        # One event: the message id alone, easy to copy or capture.
        con.print(report.message_ids[0])
        return
    colour = "green" if not report.failed else "red"
    con.print(f"[{colour}]published {report.published}[/{colour}], failed {report.failed} "
              f"in {report.elapsed_s:.2f} s ({report.events_per_s:.0f} events/s)")
    if report.published == 1:
        con.print(f"message id: {report.message_ids[0]}")
    for bad in report.invalid[:SHOWN_PROBLEMS]:
        con.print(f"  line {bad.line}: {escape(bad.error)}")
    if len(report.invalid) > SHOWN_PROBLEMS:
        con.print(f"  … and {len(report.invalid) - SHOWN_PROBLEMS} more invalid lines")
    for code, n in report.failure_codes.most_common():
        con.print(f"  {n} × {escape(code)}")
    if report.failed_out:
        con.print(f"failed events written to {escape(report.failed_out)} "
                  f"(resend with `notifyctl publish-book --file {escape(report.failed_out)}`)")
    if report.interrupted:
        con.print("[yellow]interrupted[/yellow]: the rest was not sent")
    if report.resume_flags:
        rest = (f"{report.not_attempted} events were" if report.not_attempted is not None
                else "the rest of the file was")
        con.print(f"{rest} never attempted; send them with: "
                  f"notifyctl publish-book {escape(report.resume_flags)} (and the same "
                  "other options)")
    if report.wait is not None:
        _render_wait(report, con)

def _render_wait(report: PublishReport, con: Console) -> None:
    from rich.markup import escape

    w = report.wait
    assert w is not None
    colour = "green" if w.sent == report.published else "red"
    con.print(f"[{colour}]sent {w.sent}[/{colour}], rejected {w.rejected}, "
              f"failed {w.failed}, pending {w.pending}"
              + (f" (in progress {w.in_progress}, not seen {w.unseen})" if w.pending else "")
              + f" after {w.elapsed_s:.2f} s of waiting")
    if w.until == "delivered":
        colour = "green" if w.delivered == report.published else "red"
        con.print(f"SES: [{colour}]delivered {w.delivered}[/{colour}], bounced {w.bounced}, "
                  f"complained {w.complained}, rejected by SES {w.rejected_by_ses}, "
                  f"delayed {w.delayed}, pending {w.pending}")
    if w.interrupted:
        con.print("[yellow]interrupted[/yellow] while waiting: the counts above are "
                  "what was known then")
    if w.error:
        con.print(f"[red]{escape(w.error)}[/red]: the counts above are what was known")
    if w.timed_out:
        con.print(f"[yellow]timed out[/yellow] after {report.wait_timeout_s:g} s "
                  "with messages still pending")
        for line in report.diagnosis.lines() if report.diagnosis else ():
            con.print(f"  {escape(line)}")
    latency = w.latency_percentiles()
    if latency:
        con.print(f"publish → {w.until} latency: " + ", ".join(
            f"{k} {v:.0f} ms" for k, v in latency.items()))
    if report.total_s > 0 and w.until == "delivered" and w.delivered:
        con.print(f"end to end: {w.delivered / report.total_s:.1f} delivered/s")
    elif report.total_s > 0 and w.sent:
        con.print(f"end to end: {w.sent / report.total_s:.1f} sent/s")
    for reason, n in w.reasons.most_common(SHOWN_PROBLEMS):
        con.print(f"  {n} × {escape(reason)}")
