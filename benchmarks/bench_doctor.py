"""doctor and trace, beside status, on a private emulator (CLI processes, as a user runs them).

Bootstraps the `local` environment on a private emulator, publishes one book event
and waits for it, then runs `notifyctl doctor`, `notifyctl trace BOOK_ID` and the
reference `notifyctl status` (the nearest existing read-only report) interleaved,
--runs times each, and prints the medians and each one's ratio to status. Every run
must exit 0 (doctor: nothing fails; trace: the event was found).

Run: python benchmarks/bench_doctor.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _cli(endpoint: str, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "NO_COLOR": "1"})
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "notifyctl", "--env", "local",
                           "--endpoint-url", endpoint, *args],
                          env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"notifyctl {' '.join(args)} exited {done.returncode}:\n"
                         f"{done.stdout}{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from notifyctl.emulator.control import private_emulator

    book_id = f"bench-{uuid.uuid4().hex[:8]}"
    with private_emulator() as info:
        _cli(info.endpoint, "bootstrap", "--yes")
        _cli(info.endpoint, "publish-book", "--email", "reader@example.com",
             "--book-id", book_id, "--wait", "--timeout", "60")
        commands = {"status (reference)": ["status"], "doctor": ["doctor"],
                    "trace": ["trace", book_id]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(_cli(info.endpoint, *argv))
    reference = statistics.median(times["status (reference)"])
    print(f"on a private emulator, {args.runs} interleaved runs each (CLI process wall time)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<20} median {median * 1000:7.0f} ms, best {min(samples) * 1000:7.0f} ms,"
              f"  ratio to status {median / reference:4.2f}")


if __name__ == "__main__":
    main()
