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
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SWEEP_INTERVAL_S = 60.0
FIVE_YEARS_S = 5 * 365 * 24 * 3600


def expired(attribute: Any, now: float) -> bool:
    """Whether a TTL attribute value (moto's DynamoType: .type, .value) has expired."""
    if attribute is None or getattr(attribute, "type", None) != "N":
        return False
    try:
        at = float(attribute.value)
    except (TypeError, ValueError):
        return False
    return now - FIVE_YEARS_S <= at < now


def _items(table: Any) -> list[Any]:
    if table.range_key_attr is not None:
        return [item for by_range in table.items.values() for item in by_range.values()]
    return list(table.items.values())


def sweep_backends(now: float) -> int:
    """Delete every expired item of every table with TTL enabled. Holds the moto lock."""
    from moto.dynamodb.models import dynamodb_backends

    from notifyctl.emulator.backends import MOTO_LOCK

    deleted = 0
    with MOTO_LOCK.hold("dynamodb"):
        for by_region in list(dynamodb_backends.values()):
            for backend in list(by_region.values()):
                for table in list(backend.tables.values()):
                    ttl = getattr(table, "ttl", None) or {}
                    if ttl.get("TimeToLiveStatus") != "ENABLED":
                        continue
                    name = ttl.get("AttributeName")
                    for item in _items(table):
                        if expired(item.attrs.get(name), now):
                            table.delete_item(item.hash_key, item.range_key)
                            deleted += 1
    return deleted


class TtlSweeper:
    """A daemon thread sweeping every `interval_s` seconds; `sweep()` sweeps now."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.time,
                 sweep: Callable[[float], int] = sweep_backends) -> None:
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
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - the sweeper must outlive a bad table
                print(f"emulator: TTL sweep failed: {exc}", file=sys.stderr)

    def close(self) -> None:
        self._stop.set()
