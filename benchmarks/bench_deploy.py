"""deploy-lambda costs: package build, an unchanged re-deploy, a changed deploy.

Targets (issue 6): an unchanged re-deploy is a few read calls, well under a
second against the emulator. Measured in-process through the library (the CLI
adds its start-up, see bench_startup.py), against moto in-process and, unless
--no-emulator, against a private embedded emulator on a free port.

Run: python benchmarks/bench_deploy.py [--runs 7] [--no-emulator]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # release_helpers (test helpers, not shipped)


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, min(samples) * 1000


def _count_calls(client: Any) -> list[str]:
    calls: list[str] = []
    client.meta.events.register("before-call.lambda.*",
                                lambda model, **_: calls.append(model.name))
    return calls


def bench_package(runs: int) -> None:
    from notifyctl.release.package import build

    package = build()
    med, best = _median_ms(build, runs)
    print(f"package build            median {med:7.1f} ms  (best {best:.1f})  "
          f"{package.size:,} bytes, {len(package.files)} files")


def bench_target(label: str, clients: Any, runs: int, work: Path) -> None:
    from release_helpers import change_one_line, seed_function, source_tree

    from notifyctl.config.loader import load
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build

    env = load(str(REPO / "config" / "notifyctl.yaml"), "dev")[0]
    name = f"bench-{label}-{int(time.time())}-notifier"
    lam = clients.client("lambda")
    src = source_tree(work / label)
    wanted = desired_function_config(env)
    seed_function(lam, clients.client("iam"), name, "live", build(src), wanted,
                  role_name=f"bench-{label}-role")
    package = build(src)
    deploy(lam, name, "live", package, wanted)  # warm the connection and backends
    calls = _count_calls(lam)
    med, best = _median_ms(lambda: deploy(lam, name, "live", package, wanted), runs)
    per_run = len(calls) // runs
    print(f"{label:8} unchanged re-deploy median {med:7.1f} ms  (best {best:.1f})  "
          f"{per_run} calls: {', '.join(calls[:per_run])}")
    counter = iter(range(10_000))

    def changed() -> None:
        change_one_line(src, f"bench-{next(counter)}")
        result = deploy(lam, name, "live", build(src), wanted)
        assert not result.unchanged

    calls.clear()
    med, best = _median_ms(changed, runs)
    per_run = len(calls) // runs
    print(f"{label:8} changed deploy      median {med:7.1f} ms  (best {best:.1f})  "
          f"{per_run} calls: {', '.join(calls[:per_run])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-emulator", action="store_true")
    args = parser.parse_args()

    import os

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from moto import mock_aws

    from notifyctl.aws.session import AwsClients, AwsSettings

    bench_package(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        with mock_aws():
            clients = AwsClients(AwsSettings(None, "us-east-1", None, False, False))
            bench_target("moto", clients, args.runs, Path(tmp))
        if not args.no_emulator:
            from notifyctl.emulator.control import private_emulator

            with private_emulator() as emu:
                clients = AwsClients(AwsSettings(None, "us-east-1", emu.endpoint, True, True))
                bench_target("emulator", clients, args.runs, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
