"""DynamoDB Time to Live in the emulator: expired items deleted by a background sweep.

AWS (DynamoDB Developer Guide, "Time to Live"): an item expires when its TTL attribute,
a Number of epoch seconds, is in the past; a background process deletes it "typically
within a few days", so an expired item may still be read until then. Values that are
not Numbers, and expiry times more than five years in the past, are ignored.

The emulator sweeps every `SWEEP_INTERVAL_S` AWS seconds on the emulator's clock
(emulator/clock.py: 0.6 s at the default scale 0.01); expiry compares the attribute with
the real time, as clients write real epoch seconds. And
`POST /_notifyctl/ttl/sweep` sweeps at once (tests, `notifyctl` operators) and answers
how many items it deleted.

A sweep does not read every item (that grew with the stored data: a de-dup table of
tens of thousands of items read every 0.6 s). `ExpiryIndex` keeps, per TTL table, a
heap of the expiry times the table's writes set: moto's PutItem (and every path that
puts: batch, transaction, an UpdateItem creating the item) and UpdateItem report each
written item (`patches/dynamodb.py`), and a sweep pops only what is due, re-reading
the item as it is now before deleting it (a later write may have moved or removed its
expiry). Every FULL_SWEEP_EVERY-th background sweep, `POST .../ttl/sweep`, and the
first sweep of a table (TTL just enabled, or its attribute changed) read every item and
rebuild the heap, so an item changed some other way (restored state, moto's objects
written directly) is still deleted, later by at most that many sweep intervals: well
inside AWS's "within a few days".
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SWEEP_INTERVAL_S = 60.0
FIVE_YEARS_S = 5 * 365 * 24 * 3600
FULL_SWEEP_EVERY = 10  # background sweeps: every tenth reads every item (see above)


def expired(attribute: Any, now: float) -> bool:
    """Whether a TTL attribute value (moto's DynamoType: .type, .value) has expired."""
    if attribute is None or getattr(attribute, "type", None) != "N":
        return False
    try:
        at = float(attribute.value)
    except (TypeError, ValueError):
        return False
    return now - FIVE_YEARS_S <= at < now


def expiry(attribute: Any) -> float | None:
    """The epoch seconds a TTL attribute value says, or None when it can never expire."""
    if attribute is None or getattr(attribute, "type", None) != "N":
        return None
    try:
        return float(attribute.value)
    except (TypeError, ValueError):
        return None


def _items(table: Any) -> list[Any]:
    if table.range_key_attr is not None:
        return [item for by_range in table.items.values() for item in by_range.values()]
    return list(table.items.values())


def _current(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The item stored under these keys now, or None (no lookup error, no insertion)."""
    if table.range_key_attr is not None:
        by_range = table.items.get(hash_key)
        return by_range.get(range_key) if by_range is not None else None
    return table.items.get(hash_key)


@dataclass
class _TableExpiries:
    table: Any  # moto's Table (a deleted and re-created table is another object)
    attribute: str
    heap: list[tuple[float, int, Any, Any]] = field(default_factory=list)


class ExpiryIndex:
    """Per TTL table, the expiry times its items were given: (time, seq, hash, range)
    in a heap. An entry may be stale (the item rewritten or deleted since): a sweep
    re-reads the item before deleting. Callers hold the DynamoDB lock."""

    def __init__(self) -> None:
        self._tables: dict[int, _TableExpiries] = {}
        self._seq = itertools.count()

    def note(self, table: Any, item: Any) -> None:
        """An item was written (moto's put or update): remember when it expires."""
        entry = self._tables.get(id(table))
        if entry is None or entry.table is not table or item is None:
            return  # not indexed yet: its first sweep reads every item
        at = expiry(item.attrs.get(entry.attribute))
        if at is not None:
            heapq.heappush(entry.heap, (at, next(self._seq), item.hash_key, item.range_key))

    def sweep(self, tables: list[tuple[Any, str]], now: float, full: bool) -> int:
        """Delete the expired items of these (table, TTL attribute) pairs: by the heap,
        or reading every item (and rebuilding the heap) when `full` or not indexed."""
        deleted = 0
        seen: set[int] = set()
        for table, attribute in tables:
            seen.add(id(table))
            entry = self._tables.get(id(table))
            if full or entry is None or entry.table is not table or entry.attribute != attribute:
                entry = self._tables[id(table)] = _TableExpiries(table, attribute)
                for item in _items(table):
                    if expired(item.attrs.get(attribute), now):
                        table.delete_item(item.hash_key, item.range_key)
                        deleted += 1
                    else:
                        self.note(table, item)
                continue
            while entry.heap and entry.heap[0][0] < now:
                _, _, hash_key, range_key = heapq.heappop(entry.heap)
                item = _current(table, hash_key, range_key)
                if item is not None and expired(item.attrs.get(attribute), now):
                    table.delete_item(item.hash_key, item.range_key)
                    deleted += 1
        for gone in set(self._tables) - seen:  # deleted tables, TTL disabled
            del self._tables[gone]
        return deleted


EXPIRIES = ExpiryIndex()


def sweep_backends(now: float, full: bool = True) -> int:
    """Delete every expired item of every table with TTL enabled (reading every item
    when `full`, else only those the index says are due). Holds the DynamoDB lock."""
    from moto.dynamodb.models import dynamodb_backends

    from notifyctl.emulator.backends import MOTO_LOCK

    with MOTO_LOCK.hold("dynamodb"):
        tables: list[tuple[Any, str]] = []
        for by_region in list(dynamodb_backends.values()):
            for backend in list(by_region.values()):
                for table in list(backend.tables.values()):
                    ttl = getattr(table, "ttl", None) or {}
                    if ttl.get("TimeToLiveStatus") == "ENABLED" and ttl.get("AttributeName"):
                        tables.append((table, str(ttl["AttributeName"])))
        return EXPIRIES.sweep(tables, now, full)


class TtlSweeper:
    """A daemon thread sweeping every `interval_s` seconds (every FULL_SWEEP_EVERY-th
    reading every item); `sweep()` sweeps now, reading every item."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.time,
                 sweep: Callable[..., int] = sweep_backends) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._sweep = sweep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="ddb-ttl")

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def sweep(self) -> int:
        return self._sweep(self._clock())

    def _loop(self) -> None:
        for count in itertools.count(1):
            if self._stop.wait(self.interval_s):
                return
            try:
                self._sweep(self._clock(), full=count % FULL_SWEEP_EVERY == 0)
            except Exception as exc:  # noqa: BLE001 - the sweeper must outlive a bad table
                print(f"emulator: TTL sweep failed: {exc}", file=sys.stderr)

    def close(self) -> None:
        self._stop.set()
