"""Benchmark of the emulator's persistence and status counters (issue 20, items 2 and 3).

    python benchmarks/bench_emulator_state.py [--emails 10000] [--items 10000]
    python benchmarks/bench_emulator.py --persistence      (the same)

On a private emulator (`notifyctl local start` in a temporary XDG state dir):
1. bootstrap the `local` environment, then fill the outbox with --emails SES sends and the
   de-duplication table with --items items
2. /_notifyctl/status at 5,000 emails (and at the end): its time now, beside the work the
   old status did in the same run (asdict over every email in memory, to count them) and
   the issue's measurement (58 ms at 5,000)
3. `notifyctl local stop`: wall time, the snapshot's size, how long it held moto
4. `notifyctl local start` on the same state: wall time until ready (restore included),
   beside the first start of the same emulator (empty) in the same run
5. everything back: item count, outbox count, function alias
The machine is shared with other engineers' work: figures move between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ISSUE_STATUS_MS_AT_5000 = 58.0  # issue 20: /_notifyctl/status at 5,000 emails, before


def client(endpoint: str, service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=16))


def get_ms(url: str, repeat: int = 7) -> float:
    """Median wall time of GET url."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with opener.open(url, timeout=60) as resp:
            resp.read()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def old_status_work_ms(n: int) -> float:
    """What the old /_notifyctl/status did to count the outbox: asdict over every email."""
    from notifyctl.emulator.backends import CapturedEmail

    items = [CapturedEmail(f"m{i}", "notifications@example.com", [f"r{i}@example.com"], [], [],
                           f"New book {i}", "text " * 40, "<p>html</p>" * 20,
                           "2026-01-01T00:00:00.000Z") for i in range(n)]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        len([asdict(e) for e in items])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def send_emails(endpoint: str, sender: str, start: int, count: int, threads: int = 4) -> None:
    def work(offset: int) -> None:
        ses = client(endpoint, "sesv2")
        for i in range(start + offset, start + count, threads):
            ses.send_email(FromEmailAddress=sender,
                           Destination={"ToAddresses": [f"reader{i}@example.com"]},
                           Content={"Simple": {"Subject": {"Data": f"New book {i}"},
                                               "Body": {"Text": {"Data": "text " * 40}}}})
    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def put_items(endpoint: str, table: str, count: int) -> None:
    ddb = client(endpoint, "dynamodb")
    for base in range(0, count, 25):
        requests = [{"PutRequest": {"Item": {"pk": {"S": f"bench-{i}"},
                                             "status": {"S": "SENT"},
                                             "ses_message_id": {"S": f"ses-{i}"}}}}
                    for i in range(base, min(base + 25, count))]
        ddb.batch_write_item(RequestItems={table: requests})


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<52} {value:>16}   {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args(argv)

    from notifyctl.emulator import control

    state = Path(tempfile.mkdtemp(prefix="bench-emulator-state-"))
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    port = control.free_port()
    endpoint = control.endpoint_for("127.0.0.1", port)
    notifyctl = [sys.executable, "-m", "notifyctl"]
    run = dict(env=env, check=True, stdout=subprocess.PIPE)
    print(f"emulator persistence benchmark ({os.cpu_count()} CPUs, shared with other work), "
          f"endpoint {endpoint}")
    t0 = time.perf_counter()
    subprocess.run([*notifyctl, "local", "start", "--port", str(port)], **run)  # type: ignore[call-overload]
    first_start_s = time.perf_counter() - t0
    try:
        base = [*notifyctl, "--config", str(REPO / "config" / "notifyctl.yaml"), "--env", "local",
                "--endpoint-url", endpoint]
        subprocess.run([*base, "bootstrap"], **run)  # type: ignore[call-overload]
        config = json.loads(subprocess.run([*base, "-o", "json", "config", "show"],
                                           **run).stdout)  # type: ignore[call-overload]
        table, function = f"{config['prefix']}-dedup", f"{config['prefix']}-notifier"
        sender = config["sender"]

        half = min(5_000, args.emails)
        t0 = time.perf_counter()
        send_emails(endpoint, sender, 0, half)
        fill_s = time.perf_counter() - t0
        status_ms = get_ms(f"{endpoint}/_notifyctl/status")
        old_ms = old_status_work_ms(half)
        line(f"status at {half:,} emails (after)", f"{status_ms:.1f} ms",
             f"issue's before: {ISSUE_STATUS_MS_AT_5000:.0f} ms "
             f"(x{status_ms / ISSUE_STATUS_MS_AT_5000:.2f})")
        line(f"  the old count's work alone, same run ({half:,})", f"{old_ms:.1f} ms",
             "asdict over every email; now O(1)")
        send_emails(endpoint, sender, half, args.emails - half)
        put_items(endpoint, table, args.items)
        line(f"fill: {args.emails:,} SES sends, {args.items:,} items", f"{fill_s * 2:.0f} s",
             "(approx.)")
        line(f"status at {args.emails:,} emails",
             f"{get_ms(f'{endpoint}/_notifyctl/status'):.1f} ms")
        periodic = json.loads(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"{endpoint}/_notifyctl/status", timeout=60).read())["persistence"]["last_snapshot"]
        if periodic:
            line("periodic snapshot: moto held / written", f"{periodic['capture_ms']:.0f} ms / "
                 f"{periodic['write_ms']:.0f} ms", f"{periodic['bytes'] / 1e6:.1f} MB")

        t0 = time.perf_counter()
        stopped = json.loads(subprocess.run([*notifyctl, "-o", "json", "local", "stop", "--port",
                                             str(port)], **run).stdout)  # type: ignore[call-overload]
        stop_s = time.perf_counter() - t0
        snap = stopped.get("snapshot") or {}
        line("`local stop` (drain + snapshot + exit)", f"{stop_s * 1000:.0f} ms",
             f"snapshot {snap.get('bytes', 0) / 1e6:.1f} MB, moto held "
             f"{snap.get('capture_ms', 0):.0f} ms, written in {snap.get('write_ms', 0):.0f} ms")
        t0 = time.perf_counter()
        subprocess.run([*notifyctl, "local", "start", "--port", str(port)], **run)  # type: ignore[call-overload]
        restart_s = time.perf_counter() - t0
        restored = json.loads(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"{endpoint}/_notifyctl/status", timeout=60).read())["persistence"]["restored"]
        line("`local start` with the restore", f"{restart_s * 1000:.0f} ms",
             f"empty start same run: {first_start_s * 1000:.0f} ms "
             f"(x{restart_s / first_start_s:.2f}); restore itself {restored.get('seconds')} s")
        ddb = client(endpoint, "dynamodb")
        items = ddb.describe_table(TableName=table)["Table"].get("ItemCount")
        scanned = 0
        kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
        while True:
            page = ddb.scan(**kwargs)
            scanned += page["Count"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        alias = client(endpoint, "lambda").get_alias(FunctionName=function, Name="live")
        line("back after the restart: items / emails / alias",
             f"{scanned:,} / {restored.get('emails'):,} / v{alias['FunctionVersion']}",
             f"(ItemCount {items})")
    finally:
        subprocess.run([*notifyctl, "local", "stop", "--port", str(port)], env=env,
                       stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
