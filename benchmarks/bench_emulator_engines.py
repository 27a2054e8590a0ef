"""Benchmark of the emulator's background engines (issue 20, slice f): the CPU they take from
the SERVING process, beside a reference tree (e.g. main) in the same run.

    python benchmarks/bench_emulator_engines.py --reference DIR [--emails 6000] [--items 5000]

Each tree runs in its own subprocess (PYTHONPATH = the tree), in process, no emulator:
1. alarm engine: a pipeline's metrics (18 datapoints per delivered email: Invocations, Errors,
   Duration for the function, its alias and the executed version, for the notifier and the
   feedback function) put into moto's CloudWatch backend; every 5 emails (0.25 s at 20
   emails/s) one engine tick and three alarms' reads of their window (`MotoAlarmStore.tick`
   / `.samples`; WINDOW_S: a 60 s alarm's window at the default time scale).
   Reported: CPU of the ticks and reads per email (process time, so the machine's load
   moves it little), past the steady state where compaction rolls datapoints up.
2. snapshot: a DynamoDB table of --items de-duplication items (moto, in process); one periodic
   snapshot's CPU in the serving thread: pickled in process (`state.capture`), and, where the
   tree has it, forked (`state.capture_forked`: the parent's part, the child's CPU apart).
The machine is shared with other engineers' work: run both sides in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ACCOUNT, REGION = "123456789012", "us-east-1"
WINDOW_S = 3.0  # what a 60 s alarm reads at the default time scale (0.01): 5 periods, scaled


def _metrics(function: str, duration: float, stamp: datetime) -> list[dict[str, Any]]:
    dims = [[{"Name": "FunctionName", "Value": function}],
            [{"Name": "FunctionName", "Value": function},
             {"Name": "Resource", "Value": f"{function}:live"}],
            [{"Name": "FunctionName", "Value": function},
             {"Name": "Resource", "Value": f"{function}:live"},
             {"Name": "ExecutedVersion", "Value": "1"}]]
    return [point for dim in dims for point in (
        {"MetricName": "Invocations", "Value": 1.0, "Unit": "Count", "Dimensions": dim,
         "Timestamp": stamp},
        {"MetricName": "Errors", "Value": 0.0, "Unit": "Count", "Dimensions": dim,
         "Timestamp": stamp},
        {"MetricName": "Duration", "Value": duration, "Unit": "Milliseconds",
         "Dimensions": dim, "Timestamp": stamp})]


def alarm_engine(emails: int) -> dict[str, float]:
    from moto.cloudwatch.models import cloudwatch_backends

    from notifyctl.emulator.patches.cloudwatch import MotoAlarmStore

    backend = cloudwatch_backends[ACCOUNT][REGION]
    store = MotoAlarmStore(lambda seconds: seconds * 0.01)  # the default time scale
    specs = [SimpleNamespace(account_id=ACCOUNT, region=REGION, namespace="AWS/Lambda",
                             metric_name=name, dimensions=(("FunctionName", fn),))
             for name, fn in (("Errors", "notifier"), ("Duration", "notifier"),
                              ("Errors", "feedback"))]
    start = time.time()
    cpu = 0.0
    read = 0
    for n in range(emails):
        now = start + n * 0.05
        stamp = datetime.fromtimestamp(now, tz=UTC).replace(tzinfo=None)
        backend.put_metric_data("AWS/Lambda", _metrics("notifier", 40.0 + n % 7, stamp)
                                + _metrics("feedback", 3.0 + n % 5, stamp))
        if n % 5 == 4:
            t0 = time.process_time()
            store.tick(now)
            for spec in specs:
                read += len(store.samples(spec, now - WINDOW_S))  # type: ignore[arg-type]
            cpu += time.process_time() - t0
    return {"alarm_ms_per_email": cpu * 1000 / emails, "datapoints_kept":
            float(len(backend.metric_data)), "samples_read": float(read)}


def snapshot(items: int) -> dict[str, float]:
    import boto3

    from notifyctl.emulator import state

    table = boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="dedup", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    del table
    ddb = boto3.client("dynamodb", region_name=REGION)
    for n in range(items):
        ddb.put_item(TableName="dedup", Item={
            "pk": {"S": f"event:{n:036d}"}, "status": {"S": "SENT"},
            "lease_until": {"N": "1795910845"}, "claim_token": {"S": f"{n:032x}"},
            "attempts": {"N": "1"}, "expires_at": {"N": "1796515604"},
            "claimed_at": {"N": "1795910804945"}, "message_id": {"S": f"m-{n:032d}"},
            "request_id": {"S": f"r-{n:032d}"}, "event_id": {"S": f"{n:036d}"},
            "book_id": {"S": f"b-{n:032d}"}, "recipient": {"S": "s***@example.com"},
            "published_at": {"S": "2026-11-29T00:06:25.523Z"},
            "sent_at": {"N": "1795910805017"}, "ses_message_id": {"S": f"s-{n:050d}"}})
    hub = SimpleNamespace(dispatcher=SimpleNamespace(saved_events=list), alarms=None,
                          deployments=None)
    out: dict[str, float] = {}
    t0 = time.thread_time()
    payload, _, _ = state.capture(hub, nullcontext)
    out["in_process_ms"] = (time.thread_time() - t0) * 1000
    out["bytes"] = float(len(payload))
    if hasattr(state, "capture_forked"):
        import moto

        path = Path(tempfile.mkdtemp(prefix="bench-engines-")) / state.FILE_NAME
        t0 = time.thread_time()
        pid, _, held_ms = state.capture_forked(hub, nullcontext, path,
                                               state.Header.current(moto.__version__))
        out["forked_parent_ms"] = (time.thread_time() - t0) * 1000
        _, status, usage = os.wait4(pid, 0)
        out["forked_child_cpu_ms"] = (usage.ru_utime + usage.ru_stime) * 1000
        out["forked_hold_ms"] = held_ms
        out["forked_ok"] = float(os.waitstatus_to_exitcode(status) == 0)
    return out


def side(emails: int, items: int) -> dict[str, float]:
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        return {**alarm_engine(emails), **snapshot(items)}


def run(tree: Path, emails: int, items: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--side", "--emails", str(emails),
                           "--items", str(items)], env=env, capture_output=True, text=True,
                          check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", type=Path, help="the tree to compare with (e.g. main)")
    parser.add_argument("--emails", type=int, default=6000)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.emails, args.items)))
        return 0
    here = Path(__file__).resolve().parent.parent
    print(f"emulator engines benchmark, load average {os.getloadavg()[0]:.1f}")
    this = run(here, args.emails, args.items)
    ref = run(args.reference, args.emails, args.items) if args.reference else {}
    for key, value in this.items():
        before = ref.get(key)
        ratio = f"  x{value / before:.2f}" if before else ""
        print(f"  {key:24} {value:12.2f}   reference {before if before is not None else '-'}"
              f"{ratio}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
