"""What moto's DynamoDB costs per PutItem / UpdateItem, with and without the
expression cache (emulator/expression_cache.py, patches/dynamodb.py), in-process.

    python benchmarks/bench_dynamodb.py [--deliveries 300] [--rounds 4]

The workload is the real one: `book_notifier.dedup.DedupStore` (the function's code)
against moto (`mock_aws`): per delivery the notifier's claim (conditional PutItem) and
SENT write (UpdateItem), then the feedback function's Send event (a conditional
UpdateItem that fails: ConditionalCheckFailed with the old item) and Delivery event
(conditional UpdateItem, ReturnValues ALL_NEW). Timed: moto's handler methods only
(`DynamoHandler.put_item` / `update_item`: request parsing to response dict), not
boto3; CPU time of the calling thread (`time.thread_time`), steady on a loaded
machine. The reference is main's patch (the TTL expiry hook alone), measured in the same
process, rounds interleaved; the ratio is patched / reference (best round of each).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "lambda_src"))


def _own_or_inherited(obj: Any, name: str) -> Any:
    """What moto's class answers for `name`; setting it back is moto as shipped (for an
    inherited method such as DynamoResult.execute_result, the base class's function)."""
    return obj.__dict__[name] if name in obj.__dict__ else getattr(obj, name)


def _snapshot() -> list[tuple[Any, str, Any]]:
    from notifyctl.emulator.patches import dynamodb as patch

    return [(obj, name, _own_or_inherited(obj, name)) for obj, name in patch.targets()]


def _restore(saved: list[tuple[Any, str, Any]]) -> None:
    for obj, name, value in saved:
        setattr(obj, name, value)


def _timed(timings: dict[str, list[float]]) -> Callable[[], None]:
    from moto.dynamodb.responses import DynamoHandler

    saved = [(DynamoHandler, name, DynamoHandler.__dict__[name])
             for name in ("put_item", "update_item")]
    for _, name, original in saved:
        def wrapper(self: Any, _original: Any = original, _name: str = name) -> Any:
            start = time.thread_time()
            try:
                return _original(self)
            finally:
                timings[_name].append(time.thread_time() - start)
        setattr(DynamoHandler, name, wrapper)
    return lambda: _restore(saved)


def _round(client: Any, deliveries: int, tag: str) -> dict[str, float]:
    from book_notifier.dedup import ClaimInfo, DedupStore, DeliveryUpdate

    store = DedupStore("dedup", client)
    timings: dict[str, list[float]] = defaultdict(list)
    untime = _timed(timings)
    try:
        for i in range(deliveries):
            key = f"{tag}-{i}"
            claim = store.claim(key, lease_s=30, info=ClaimInfo(
                message_id=f"m-{i}", request_id=f"r-{i}", book_id="b-1",
                recipient="j***@example.com", published_at="2026-11-29T00:00:00.000Z"))
            store.mark_sent(claim, f"ses-{i}")
            store.record_delivery(key, DeliveryUpdate(None, f"ses-{i}", 1_000, "SENT"))
            store.record_delivery(key, DeliveryUpdate("DELIVERED", f"ses-{i}", 2_000, "SENT",
                                                      {"diagnostic": "250 ok"}))
    finally:
        untime()
    return {name: sum(values) / len(values) * 1000 for name, values in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    from notifyctl.emulator.patches import dynamodb as patch

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    pristine = _snapshot()
    best: dict[str, dict[str, float]] = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="dedup", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        for n in range(args.rounds):
            for variant in ("reference", "patched"):
                _restore(pristine)
                if variant == "reference":
                    Table, Backend, *_ = patch._moto()
                    patch._apply_ttl_index(Table, Backend)
                else:
                    patch.apply()
                per_call = _round(client, args.deliveries, f"{variant}-{n}")
                line = "  ".join(f"{k} {v:6.3f} ms" for k, v in sorted(per_call.items()))
                print(f"round {n + 1} {variant:<9}  {line}", flush=True)
                for k, v in per_call.items():
                    best.setdefault(variant, {})[k] = min(v, best.get(variant, {}).get(k, v))
        _restore(pristine)
    print(f"\nbest of {args.rounds} rounds x {args.deliveries} deliveries "
          f"(load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f}):")
    for op in sorted(best["reference"]):
        ref, new = best["reference"][op], best["patched"][op]
        print(f"  {op:<12} reference {ref:6.3f} ms   patched {new:6.3f} ms   ratio {new / ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
