"""What the emulator's memory holds: `GET /_notifyctl/memory` (a diagnostic).

Issue 20 asks for memory that stays flat under load "beyond the data the user
stored". To tell the two apart, `census()` counts, per moto service, the records a
user can read back through AWS's API (table items, queue messages, log events,
alarms: they may grow) beside the records moto or the emulator keeps for itself
(histories, receipt handles, assumed-role sessions, caches: they must stay bounded).
`benchmarks/bench_memory.py` reads it before and after thousands of deliveries.

`POST /_notifyctl/memory/mark?frames=N` starts tracing allocations (tracemalloc, N
frames each; off until then, it costs CPU) or, when already tracing (e.g. under
`PYTHONTRACEMALLOC`), takes the snapshot later reports compare with; then
`GET /_notifyctl/memory?top=N` adds the N tracebacks whose allocated size grew most
since the mark. Marking after a warm-up traces only what the load adds.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

_mark: Any = None  # tracemalloc.Snapshot taken by mark()
_mark_lock = threading.Lock()


def _backends(module: str, attr: str) -> Iterator[Any]:
    """Every region backend of an imported moto service (never imports one)."""
    found = sys.modules.get(module)
    backend_dict = getattr(found, attr, None) if found is not None else None
    if backend_dict is None:
        return
    for regions in list(backend_dict.values()):
        yield from list(regions.values())


def _sum(module: str, attr: str, count: Callable[[Any], int]) -> int:
    return sum(count(b) for b in _backends(module, attr))


def _table_items(table: Any) -> int:
    return sum(len(v) if table.has_range_key else 1 for v in list(table.items.values()))


def census() -> dict[str, dict[str, int]]:
    """Record counts per service: "stored" is what the user's API calls can read back,
    "kept" what moto or the emulator keeps for itself. The caller holds no lock:
    counts taken while requests run are approximate (they are len() of live lists)."""
    from notifyctl.emulator import iam_enforce

    stored = {
        "dynamodb_items": _sum("moto.dynamodb.models", "dynamodb_backends", lambda b: sum(
            _table_items(t) for t in list(b.tables.values()))),
        "sqs_messages": _sum("moto.sqs.models", "sqs_backends", lambda b: sum(
            len(q._messages) for q in list(b.queues.values()))),
        "log_events": _sum("moto.logs.models", "logs_backends", lambda b: sum(
            len(s.events) for g in list(b.groups.values()) for s in list(g.streams.values()))),
        "log_streams": _sum("moto.logs.models", "logs_backends", lambda b: sum(
            len(g.streams) for g in list(b.groups.values()))),
        "metric_datapoints": _sum("moto.cloudwatch.models", "cloudwatch_backends",
                                  lambda b: len(b.metric_data)),
        "alarm_history": _sum("moto.cloudwatch.models", "cloudwatch_backends", lambda b: sum(
            len(a.history) for a in list(b.alarms.values()))),
    }
    kept = {
        "sns_sent_notifications": _sum("moto.sns.models", "sns_backends", lambda b: sum(
            len(t.sent_notifications) for t in list(b.topics.values()))),
        "ses_sent_messages": _sum("moto.ses.models", "ses_backends",
                                  lambda b: len(b.sent_messages)),
        "sqs_deleted_receipt_handles": _sum("moto.sqs.models", "sqs_backends", lambda b: sum(
            len(q.deleted_messages) for q in list(b.queues.values()))),
        "sts_assumed_roles": _sum("moto.sts.models", "sts_backends",
                                  lambda b: len(b.assumed_roles)),
        "cloudwatch_paged_results": _sum("moto.cloudwatch.models", "cloudwatch_backends",
                                         lambda b: len(b.paged_metric_data)),
        "iam_decisions_memo": iam_enforce._decide.cache_info().currsize,
    }
    return {"stored": stored, "kept": kept}


def mark(frames: int = 12) -> str:
    """Start tracing now ("started": every traced block is newer than the mark), or,
    already tracing, take the snapshot later reports compare with ("snapshot")."""
    import tracemalloc

    global _mark
    if not tracemalloc.is_tracing():
        with _mark_lock:
            _mark = None
        tracemalloc.start(max(1, frames))
        return "started"
    snapshot = tracemalloc.take_snapshot()
    with _mark_lock:
        _mark = snapshot
    return "snapshot"


def growth(top: int) -> dict[str, Any]:
    """The `top` tracebacks whose allocations grew most since mark() (since tracing
    began when mark() started it), with the traced totals."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {"tracing": False}
    current = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    traced, peak = tracemalloc.get_traced_memory()
    with _mark_lock:
        base = _mark
    if base is None:
        stats = current.statistics("traceback")
        rows = [{"size_kb": round(s.size / 1024, 1), "count": s.count,
                 "traceback": s.traceback.format(limit=12)} for s in stats[:top]]
    else:
        diffs = current.compare_to(base, "traceback")
        rows = [{"size_kb": round(s.size_diff / 1024, 1), "count": s.count_diff,
                 "traceback": s.traceback.format(limit=12)} for s in diffs[:top]]
    return {"tracing": True, "traced_mb": round(traced / 2**20, 1),
            "peak_mb": round(peak / 2**20, 1), "since_mark": base is not None, "top": rows}


def rss_mb() -> float | None:
    """The process's resident set (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for row in f:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return None


def report(top: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"rss_mb": rss_mb(), **census()}
    if top:
        out["tracemalloc"] = growth(top)
    return out
