"""Startup cost of `notifyctl --help` beside `aws --version`, as whole processes.

Goal (issue 2): notifyctl's median at most 0.3 x the AWS CLI's, same machine, same run.
Run: python benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, check=False)  # warm the page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("notifyctl")
    notifyctl = [str(exe)] if exe.exists() else [sys.executable, "-m", "notifyctl"]
    ours = _time([*notifyctl, "--help"], args.runs)
    show = _time([*notifyctl, "config", "show"], args.runs)
    print(f"notifyctl --help       median {ours * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"notifyctl config show  median {show * 1000:7.1f} ms")
    aws = shutil.which("aws")
    if not aws:
        print("aws CLI not installed: no reference to compare with")
        return 0
    ref = _time([aws, "--version"], args.runs)
    print(f"aws --version          median {ref * 1000:7.1f} ms")
    ratio = ours / ref
    print(f"ratio notifyctl/aws    {ratio:.2f}  (goal <= 0.30: {'met' if ratio <= 0.3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
