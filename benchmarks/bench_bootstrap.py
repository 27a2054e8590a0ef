"""bootstrap costs: planning an up-to-date environment, applying from empty.

Against moto in-process (fresh mock account per apply run), through the library
(the CLI adds its start-up, see bench_startup.py). Prints the median and best of
--runs, and how many AWS calls each takes (planning: read calls only).

Run: python benchmarks/bench_bootstrap.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _count(aws: Any, services: list[str]) -> list[str]:
    calls: list[str] = []
    for service in services:
        aws.client(service).meta.events.register(
            "before-call.*.*", lambda model, **_: calls.append(model.name))
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--env", default="dev")
    args = parser.parse_args()

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    from moto import mock_aws

    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.config import load
    from notifyctl.infra import bootstrap
    from notifyctl.release.package import build

    env, _ = load(str(REPO / "config" / "notifyctl.yaml"), args.env)
    services = ["logs", "dynamodb", "sqs", "sns", "iam", "ses", "lambda", "sts"]
    code = build(None).data
    apply_s, plan_s = [], []
    apply_calls = plan_calls = 0
    for _ in range(args.runs):
        with mock_aws():
            aws = AwsClients(AwsSettings(None, "us-east-1", None, False, False))
            aws.account_id  # noqa: B018 - STS once, outside the timings
            calls = _count(aws, services)
            start = time.perf_counter()
            _, plan = bootstrap.plan(aws, env)
            bootstrap.apply(aws, plan, code=lambda: code, sleep=lambda _: None)
            apply_s.append(time.perf_counter() - start)
            apply_calls = len(calls)
            calls.clear()
            start = time.perf_counter()
            _, again = bootstrap.plan(aws, env)
            plan_s.append(time.perf_counter() - start)
            plan_calls = len(calls)
            assert again.up_to_date, again.counts()
            assert all(c.startswith(("Get", "Describe", "List")) for c in calls), calls

    def fmt(samples: list[float]) -> str:
        return (f"median {statistics.median(samples) * 1000:7.1f} ms, "
                f"best {min(samples) * 1000:7.1f} ms")

    print(f"bootstrap on moto in-process, env {env.name}, {args.runs} runs")
    print(f"  plan, up-to-date environment : {fmt(plan_s)}  ({plan_calls} read calls)")
    print(f"  plan + apply from empty      : {fmt(apply_s)}  ({apply_calls} calls, "
          f"{len(plan.changes)} steps)")


if __name__ == "__main__":
    main()
