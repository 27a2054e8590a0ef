"""deploy-lambda costs: package build, an unchanged re-deploy, a changed deploy, and
(issue 16) a canary release through CodeDeploy on the emulator at its default time
scale (goal < 15 s end to end, beside AWS's nominal 300 s), and the time from the
first failing invocation of a broken build to the rollback being visible on the
alias (beside one alarm period at that scale).

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


BROKEN = (
    "\n_working_handler = handler\n\n\ndef handler(event, context):\n"
    "    if event.get('Records'):\n        raise RuntimeError('broken build')\n"
    "    return _working_handler(event, context)\n")


def _bootstrapped(endpoint: str, work: Path, prefix: str) -> tuple[Any, Any, Path]:
    from emulator_configs import emulator_config
    from release_helpers import source_tree

    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.config.loader import load
    from notifyctl.infra import bootstrap

    path = work / f"{prefix}.yaml"
    path.write_text(emulator_config(endpoint, prefix, canary=True), encoding="utf-8")
    env = load(str(path), "local")[0]
    clients = AwsClients(AwsSettings(None, "us-east-1", endpoint, True, True))
    src = source_tree(work / prefix)
    _, plan = bootstrap.plan(clients, env, source=src)
    bootstrap.apply(clients, plan, source=src)
    return env, clients, src


def _start(env: Any, clients: Any, src: Path, config: str, *, hooks: bool) -> str:
    """Start a release; with `hooks`, the lifecycle hooks bootstrap created run too (the
    alarm measure leaves them out: the smoke test would catch that build first)."""
    from notifyctl.release import deployments
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build

    result = deploy(clients.client("lambda"), env.function_name, env.alias_name, build(src),
                    desired_function_config(env),
                    deployment=deployments.target_for(
                        env, config, clients.client("lambda") if hooks else None),
                    codedeploy=clients.client("codedeploy"))
    assert result.deployment_id
    return result.deployment_id


def bench_canary(time_scale: float) -> None:
    from release_helpers import change_one_line

    from notifyctl.emulator.control import private_emulator
    from notifyctl.release.watch import Watcher, follow

    with tempfile.TemporaryDirectory() as tmp, private_emulator(time_scale=time_scale) as emu:
        env, clients, src = _bootstrapped(emu.endpoint, Path(tmp), "bench-canary")
        change_one_line(src, "canary-good")
        start = time.perf_counter()
        deployment = _start(env, clients, src, "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                            hooks=True)
        final = follow(Watcher(clients.client, deployment, time_scale=time_scale),
                       lambda _: None, poll_s=0.1)
        took = time.perf_counter() - start
        hooks = " ".join(f"{h.name}={h.status}" for h in final.hooks)
        print(f"canary10-5m release (deploy + hooks + CodeDeploy + watch) {took:6.2f} s  "
              f"[{hooks}]  "
              f"status {final.status}; AWS nominal 300 s -> ratio 1/{300 / took:.0f}; "
              f"goal < 15 s: {'met' if took < 15 and final.succeeded else 'NOT met'}")

        env, clients, src = _bootstrapped(emu.endpoint, Path(tmp), "bench-broken")
        with (src / "book_notifier" / "handler.py").open("a") as fh:
            fh.write(BROKEN)
        deployment = _start(env, clients, src,
                            "CodeDeployDefault.LambdaCanary10Percent30Minutes", hooks=False)
        lam = clients.client("lambda")
        event = (REPO / "tests" / "events" / "sns_book_created.json").read_bytes()
        first_failure: float | None = None
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            got = lam.invoke(FunctionName=f"{env.function_name}:live", Payload=event)
            if got.get("FunctionError") and first_failure is None:
                first_failure = time.perf_counter()
            if first_failure is not None:
                alias = lam.get_alias(FunctionName=env.function_name, Name="live")
                if alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}
                                                            ).get("AdditionalVersionWeights"):
                    lag = time.perf_counter() - first_failure
                    period = 60 * time_scale
                    status = clients.client("codedeploy").get_deployment(
                        deploymentId=deployment)["deploymentInfo"]["status"]
                    print(f"first failing invocation -> rollback visible on the alias "
                          f"{lag * 1000:7.0f} ms  (deployment {status}); one alarm period "
                          f"here {period * 1000:.0f} ms -> ratio {lag / period:.2f}")
                    return
        print("broken build: no rollback seen within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-emulator", action="store_true")
    parser.add_argument("--only-canary", action="store_true",
                        help="only the CodeDeploy release measures (issue 16)")
    parser.add_argument("--time-scale", type=float, default=0.01,
                        help="the emulator's clock for the canary (default: its default)")
    args = parser.parse_args()
    if args.only_canary:
        bench_canary(args.time_scale)
        return 0

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
            bench_canary(args.time_scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
