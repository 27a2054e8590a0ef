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
    from notifyctl.emulator.patches import models

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
        "moto_model_registry": models.registry_size(),
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


_LEAF = (str, bytes, int, float, bool, type(None))


def _deep_size(root: Any, seen: set[int]) -> int:
    """Bytes of `root` and what it refers to through containers and instance
    attributes (classes, functions and modules are not followed; `seen` counts an
    object shared between records once)."""
    total, stack = 0, [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, Callable)):  # type: ignore[arg-type]
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, _LEAF):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.append(vars(obj))
    return total


def stored_mb(sample: int = 200) -> dict[str, float]:
    """The size of what a user stored, per kind: the newest `sample` records measured
    (moto's objects, deeply), times the count. An estimate: records of one kind are
    alike in the pipeline (a de-dup item, a log line, a datapoint). Like census(), it
    holds no lock; it reads every record once (a diagnostic, not a hot path)."""
    kinds: dict[str, Callable[[], Iterator[Any]]] = {
        "dynamodb_items": lambda: (item for b in _backends("moto.dynamodb.models",
                                                           "dynamodb_backends")
                                   for t in list(b.tables.values())
                                   for v in list(t.items.values())
                                   for item in (list(v.values()) if t.has_range_key else [v])),
        "log_events": lambda: (e for b in _backends("moto.logs.models", "logs_backends")
                               for g in list(b.groups.values())
                               for st in list(g.streams.values()) for e in list(st.events)),
        "metric_datapoints": lambda: (d for b in _backends("moto.cloudwatch.models",
                                                           "cloudwatch_backends")
                                      for d in list(b.metric_data)),
        "sqs_messages": lambda: (m for b in _backends("moto.sqs.models", "sqs_backends")
                                 for q in list(b.queues.values()) for m in list(q._messages)),
    }
    out: dict[str, float] = {}
    for kind, records in kinds.items():
        count, newest = 0, []
        for count, record in enumerate(records(), 1):  # noqa: B007 - count is the result
            newest.append(record)
            if len(newest) > 2 * sample:
                del newest[:sample]
        newest = newest[-sample:]
        seen: set[int] = set()
        sizes = []
        for record in newest:
            try:
                sizes.append(_deep_size(record, seen))
            except RuntimeError:  # changed by a request while measured (no lock held)
                continue
        each = sum(sizes) / len(sizes) if sizes else 0.0
        out[kind] = round(count * each / 2**20, 1)
    return out


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


def collect() -> dict[str, Any]:
    """A full garbage collection, then free pages back to the OS: what is left is live.
    Stops the world for as long as the collection takes (reported)."""
    import gc
    import time

    from notifyctl.emulator import allocator

    before = rss_mb()
    started = time.perf_counter()
    found = gc.collect()
    took = (time.perf_counter() - started) * 1000
    allocator.release()
    return {"collected": found, "ms": round(took, 1), "rss_before_mb": before}


def report(top: int = 0, full_collection: bool = False) -> dict[str, Any]:
    gc_report = collect() if full_collection else None
    out: dict[str, Any] = {"rss_mb": rss_mb(), **census(), "stored_mb": stored_mb()}
    if gc_report is not None:
        out["gc"] = gc_report
    if top:
        out["tracemalloc"] = growth(top)
    return out
