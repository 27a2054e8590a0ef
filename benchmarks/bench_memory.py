"""Where the emulator's memory goes under sustained load (issue 20 item 2).

    python benchmarks/bench_memory.py [--deliveries 10000] [--step 1000] [--trace 0] [--top 25]

Starts an emulator, bootstraps the `local` environment with the real function and
warms it with 1,000 deliveries (as bench_emulator.py part 8), then delivers
--deliveries more in batches of --step, each drained (emails in the outbox and SES's
events through the feedback function) before the next. After warm-up and after each
batch it prints the emulator's RSS and `GET /_notifyctl/memory`'s census: records the
user can read back through AWS's API ("stored": table items, log events, metric
datapoints, queue messages: allowed to grow) and records moto or the emulator keep
for themselves ("kept": must stay bounded). With --trace N the emulator starts
tracing allocations (N frames; slower) once warm, and the end prints the --top
tracebacks whose allocations grew most since. The reference is the warm figure of
the same run: growth is printed as a ratio of it, with the load average (2 shared
cores: RSS is steady under load, time is not). Each step also prints the stored data's
size (the census's `stored_mb`: the newest records of each kind deep-sized, times the
count) and how far RSS grew beyond it (issue 20's goal: < 10 % of warm); the last step
is taken after a full garbage collection (`?collect=1`), so what remains is live.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_emulator import cli, emulator_pid, load, rss_mb  # noqa: E402


def get(endpoint: str, path: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(f"{endpoint}/_notifyctl/{path}", method=method,
                                     data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=120) as response:
        return dict(json.loads(response.read()))


def show(label: str, pid: int, census: dict[str, Any], warm: dict[str, Any] | None,
         rss_warm: float | None) -> None:
    rss = rss_mb(pid)
    growth = f" ({(rss - rss_warm) / rss_warm * 100:+.1f} % of warm)" if rss_warm else ""
    print(f"\n{label}: RSS {rss:.0f} MB{growth}; {load()}")
    stored = sum(census["stored_mb"].values())
    sizes = ", ".join(f"{k} {v:,.1f}" for k, v in census["stored_mb"].items())
    if warm is not None and rss_warm:
        added = stored - sum(warm["stored_mb"].values())
        beyond = (rss - rss_warm) - added
        print(f"  stored data {stored:,.1f} MB ({added:+,.1f} MB since warm: {sizes}); "
              f"RSS growth beyond it {beyond:+,.1f} MB = {beyond / rss_warm * 100:+.1f} % "
              f"of warm (goal < 10 %)")
    else:
        print(f"  stored data {stored:,.1f} MB ({sizes})")
    for kind in ("stored", "kept"):
        parts = []
        for name, value in census[kind].items():
            delta = f" ({value - warm[kind][name]:+,})" if warm else ""
            parts.append(f"{name} {value:,}{delta}")
        print(f"  {kind}: " + ", ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--step", type=int, default=1_000)
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="run the emulator under tracemalloc with this many frames")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    from notifyctl.emulator import control

    state = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    port = control.free_port()
    notifyctl = [sys.executable, "-m", "notifyctl"]
    subprocess.run([*notifyctl, "local", "start", "--port", str(port), "--timeout", "300"],
                   env=env, check=True,
                   stdout=subprocess.DEVNULL)
    endpoint = control.endpoint_for("127.0.0.1", port)
    try:
        pid = emulator_pid(env, port)
        print(f"emulator memory benchmark ({os.cpu_count()} CPUs), pid {pid}, "
              f"tracemalloc {args.trace or 'off'}; {load()}")
        run(endpoint, pid, args)
    finally:
        subprocess.run([*notifyctl, "local", "stop", "--port", str(port)], env=env,
                       stdout=subprocess.DEVNULL)
    return 0


def run(endpoint: str, pid: int, args: argparse.Namespace) -> None:
    cfg_dir = Path(tempfile.mkdtemp(prefix="bench-memory-cfg-"))
    cfg = cfg_dir / "notifyctl.yaml"
    cfg.write_text((REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8"))
    base = ["--config", str(cfg), "--env", "local", "--endpoint-url", endpoint]
    print(f"RSS at start: {rss_mb(pid):.0f} MB")
    code, _, err = cli(*base, "bootstrap", "--yes")
    if code != 0:
        raise SystemExit(f"bootstrap failed ({code}): {err.strip()[-500:]}")

    def deliver(count: int) -> None:
        target = int(get(endpoint, "status")["outbox"]) + count
        code, _, err = cli(*base, "-o", "json", "publish-book", "--count", str(count))
        if code != 0:
            raise SystemExit(f"publish-book failed ({code}): {err.strip()[-500:]}")
        deadline = time.monotonic() + 900
        while True:
            status = get(endpoint, "status")
            queue = status.get("async") or {}
            if int(status["outbox"]) >= target and not queue.get("pending") \
                    and not queue.get("in_flight"):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"not drained: {status['outbox']} of {target} emails")
            time.sleep(0.5)

    deliver(1_000)
    warm = get(endpoint, "memory")
    rss_warm = rss_mb(pid)
    show("warm (bootstrap + 1,000 deliveries)", pid, warm, None, None)
    if args.trace:
        get(endpoint, f"memory/mark?frames={args.trace}", "POST")
    done = 0
    while done < args.deliveries:
        step = min(args.step, args.deliveries - done)
        deliver(step)
        done += step
        show(f"after {done:,} more deliveries", pid, get(endpoint, "memory"), warm, rss_warm)
    collected = get(endpoint, "memory?collect=1")
    gc_run = collected["gc"]
    show(f"after a full garbage collection ({gc_run['collected']:,} objects freed in "
         f"{gc_run['ms']:.0f} ms; RSS was {gc_run['rss_before_mb']:.0f} MB)", pid, collected,
         warm, rss_warm)
    if args.trace:
        report = get(endpoint, f"memory?top={args.top}")["tracemalloc"]
        print(f"\ntracemalloc: traced {report['traced_mb']} MB (peak {report['peak_mb']} MB); "
              f"the {args.top} tracebacks that grew most since warm:")
        for row in report["top"]:
            print(f"\n{row['size_kb']:+,.0f} KB in {row['count']:+,} blocks")
            print("\n".join(row["traceback"]))


if __name__ == "__main__":
    raise SystemExit(main())
