"""Benchmark of the embedded emulator, against the goals of its issue.

    python benchmarks/bench_emulator.py [--warm 300] [--cold 5] [--publishes 60] [--burst 100]
    python benchmarks/bench_emulator.py --persistence [--emails 10000] [--items 10000]

1. start: `notifyctl local start` (a fresh process) until it returns (it waits for readiness)
2. cold invoke: a new function's first Invoke, client round trip, and the REPORT's
   Init Duration (interpreter start + module import in the worker)
3. warm invoke: Invoke of a trivial function, client round trip (boto3 included);
   "runtime overhead" is the same without HTTP/moto: Runtime.invoke in-process; and a
   cold start in-process with the isolated runtime (private /tmp, read-only task root)
   beside the same without isolation (the ratio is the price of isolation)
4. SNS Publish -> handler started: the handler logs time.time() at entry; the
   publisher sent its own time.time() as the message (same clock), median and p95
5. throughput: 4 threads publishing --burst messages each; invocations per second
   until the last handler ran
6. CodeDeploy: wall time of a CodeDeployDefault.LambdaCanary10Percent5Minutes deployment
   (CreateDeployment until GetDeployment says Succeeded) at the default time scale, beside
   AWS's nominal 5 minutes (goal < 10 s)
7. alarm lag: from a failing Invoke's return (the breaching Errors datapoint) until
   DescribeAlarms says ALARM, beside one 60-second period of emulated time (goal < 1 period)
8. pipeline (issue 20), the `local` environment bootstrapped with the REAL function
   (lambda_src/book_notifier: DynamoDB de-dup + SES) on the same emulator:
   * publish -> sent p50/p95 at 100 events/s offered (`publish-book --rate 100 --wait`,
     latency from the de-duplication table's sent_at; goal p95 < 1 s)
   * sustained delivered/s: `publish-book --rate R` for --duration seconds at rising R;
     delivered = the emulator's outbox count (`/_notifyctl/status`) sampled each second
     (not SES's SentLast24Hours: mailbox-simulator mail, publish-book's default recipient,
     does not count toward the daily quota, as on AWS); a rate is
     sustained when the backlog (published - delivered) at the end is under one
     second's worth and delivery kept up over the second half (goal >= 200/s)
   * emulator RSS (/proc/PID/status VmRSS) at start, after warm-up (1,000 deliveries),
     after 10,000 more deliveries and after idling --idle seconds (goal < 10 % growth
     after warm-up, beyond the stored data)
   * CPU per delivered email: the emulator process's user+system CPU (/proc/PID/stat)
     and its workers' (its descendants'), over --cpu deliveries after warm-up, divided
     by the deliveries; the figure to compare on a loaded machine (wall time is not)
   --pipeline-only skips parts 2-7; --cpu-only N measures the CPU per delivery over N
   deliveries after warm-up and stops there. The machine's load average is printed with each part.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TRIVIAL = "def handler(event, context):\n    return {'ok': True}\n"
STAMPER = """
import json, time

def handler(event, context):
    t1 = time.time()
    t0 = float(event["Records"][0]["Sns"]["Message"])
    print("LAT " + json.dumps({"t0": t0, "t1": t1}))
    return None
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def zip_of(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


def client(endpoint: str, service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 2}, max_pool_connections=16))


def line(label: str, value: str, goal: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  OK" if ok else "  MISSED")
    print(f"  {label:<44} {value:>14}   {goal}{mark}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--publishes", type=int, default=60)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--pipeline-only", action="store_true")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds per offered rate in the sustained part")
    parser.add_argument("--rates", default="50,100,150,200,250,300,400",
                        help="offered rates to try, rising (stops at the first not sustained)")
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--cpu-only", type=int, default=0, metavar="N",
                        help="after warm-up, measure CPU per delivery over N deliveries, then stop")
    parser.add_argument("--persistence", action="store_true",
                        help="only snapshot/restore and status counters (bench_emulator_state.py)")
    args, rest = parser.parse_known_args()
    if args.persistence:
        from benchmarks.bench_emulator_state import main as persistence
        return persistence(rest)

    from notifyctl.emulator import control

    state = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    port = control.free_port()
    notifyctl = [sys.executable, "-m", "notifyctl"]
    t0 = time.perf_counter()
    subprocess.run([*notifyctl, "local", "start", "--port", str(port)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    start_s = time.perf_counter() - t0
    endpoint = control.endpoint_for("127.0.0.1", port)
    print(f"emulator benchmark ({os.cpu_count()} CPUs), endpoint {endpoint}, {load()}")
    try:
        line("start (`notifyctl local start` until ready)", f"{start_s * 1000:.0f} ms",
             "goal < 2000 ms", start_s < 2.0)
        if not args.pipeline_only:
            run_benchmarks(endpoint, args)
        pipeline(endpoint, emulator_pid(env, port), args)
    finally:
        subprocess.run([*notifyctl, "local", "stop", "--port", str(port)], env=env,
                       stdout=subprocess.DEVNULL)
    return 0


def run_benchmarks(endpoint: str, args: argparse.Namespace) -> None:
    lam, sns, logs = (client(endpoint, s) for s in ("lambda", "sns", "logs"))
    role = client(endpoint, "iam").create_role(
        RoleName="bench-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def subscribed_topic(name: str, function: str) -> str:
        """A topic delivering to `function`, with the permission SNS needs."""
        topic_arn = sns.create_topic(Name=name)["TopicArn"]
        lam.add_permission(FunctionName=function, StatementId="sns",
                           Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                           SourceArn=topic_arn)
        sns.subscribe(TopicArn=topic_arn, Protocol="lambda",
                      Endpoint=f"arn:aws:lambda:us-east-1:123456789012:function:{function}")
        return topic_arn

    def create(name: str, source: str) -> str:
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role,
                            Handler="app.handler", Code={"ZipFile": zip_of(source)})
        # Pending for a moment after create, as on AWS: wait for Active like a user would.
        lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.02, "MaxAttempts": 500})
        return name

    # -- cold ------------------------------------------------------------------------
    cold, init = [], []
    for i in range(args.cold):
        name = create(f"bench-cold-{i}", TRIVIAL)
        t = time.perf_counter()
        lam.invoke(FunctionName=name, Payload=b"{}")
        cold.append((time.perf_counter() - t) * 1000)
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        report = next(e["message"] for e in events if e["message"].startswith("REPORT"))
        init.append(float(report.split("Init Duration: ")[1].split(" ms")[0]))
    line("cold invoke, client round trip (median)", f"{statistics.median(cold):.1f} ms",
         "goal < 500 ms", statistics.median(cold) < 500)
    line("cold start Init Duration (median)", f"{statistics.median(init):.1f} ms")

    # -- warm ------------------------------------------------------------------------
    name = create("bench-warm", TRIVIAL)
    lam.invoke(FunctionName=name, Payload=b"{}")
    warm = []
    for _ in range(args.warm):
        t = time.perf_counter()
        lam.invoke(FunctionName=name, Payload=b"{}")
        warm.append((time.perf_counter() - t) * 1000)
    line("warm invoke, boto3 round trip (median)", f"{statistics.median(warm):.2f} ms",
         "goal < 10 ms", statistics.median(warm) < 10)
    line("warm invoke, boto3 round trip (p95)", f"{pct(warm, 0.95):.2f} ms")
    describe = []
    for _ in range(min(args.warm, 100)):
        t = time.perf_counter()
        lam.get_function_configuration(FunctionName=name)
        describe.append((time.perf_counter() - t) * 1000)
    line("  for scale: GetFunctionConfiguration (median)", f"{statistics.median(describe):.2f} ms")
    line("warm runtime overhead, no HTTP (median)", f"{runtime_overhead(args.warm):.3f} ms")
    isolated, shared = runtime_cold(max(args.cold, 9))
    line("cold start, no HTTP, isolated (median)", f"{isolated:.1f} ms",
         f"sandbox off {shared:.1f} ms, ratio {isolated / shared:.2f}")

    # -- SNS -> handler --------------------------------------------------------------
    stamper = create("bench-sns", STAMPER)
    topic = subscribed_topic("bench", stamper)
    sns.publish(TopicArn=topic, Message=str(time.time()))  # warm the environment
    wait_invocations(endpoint, stamper, 1)
    for _ in range(args.publishes):
        sns.publish(TopicArn=topic, Message=str(time.time()))
        time.sleep(0.01)
    wait_invocations(endpoint, stamper, args.publishes + 1)
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{stamper}",
                                    filterPattern="LAT")["events"]
    lat = sorted((d["t1"] - d["t0"]) * 1000 for d in
                 (json.loads(e["message"][4:]) for e in events if e["message"].startswith("LAT")))
    lat = lat[1:] if len(lat) > args.publishes else lat
    line("SNS publish -> handler started (median)", f"{statistics.median(lat):.2f} ms")
    line("SNS publish -> handler started (p95)", f"{pct(lat, 0.95):.2f} ms")

    # -- throughput --------------------------------------------------------------------
    burst = create("bench-burst", TRIVIAL)
    topic2 = subscribed_topic("bench-burst", burst)
    publishers = [client(endpoint, "sns") for _ in range(4)]
    t = time.perf_counter()

    def publish_all(c: Any) -> None:
        for i in range(args.burst):
            c.publish(TopicArn=topic2, Message=f"m{i}")

    threads = [threading.Thread(target=publish_all, args=(c,)) for c in publishers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    published_s = time.perf_counter() - t
    wait_invocations(endpoint, burst, 4 * args.burst)
    total_s = time.perf_counter() - t
    line("4 publishers: publishes/s", f"{4 * args.burst / published_s:.0f} /s")
    line("4 publishers: invocations/s (to last handler)", f"{4 * args.burst / total_s:.0f} /s")
    release_timings(endpoint, lam, create)


FAILS = "def handler(event, context):\n    raise RuntimeError('broken')\n"


def release_timings(endpoint: str, lam: Any, create: Any, lag_samples: int = 8) -> None:
    """6 and 7: a canary deployment's wall time and the alarm evaluation lag (issue 15)."""
    from notifyctl.emulator.clock import DEFAULT_TIME_SCALE

    cd, cw = client(endpoint, "codedeploy"), client(endpoint, "cloudwatch")
    name = create("bench-canary", TRIVIAL)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(TRIVIAL + "# v2\n"))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    lam.publish_version(FunctionName=name)
    cd.create_application(applicationName="bench", computePlatform="Lambda")
    cd.create_deployment_group(applicationName="bench", deploymentGroupName="bench",
                               serviceRoleArn="arn:aws:iam::123456789012:role/bench")
    spec = json.dumps({"version": 0.0, "Resources": [{"fn": {
        "Type": "AWS::Lambda::Function", "Properties": {
            "Name": name, "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]})
    t = time.perf_counter()
    deployment = cd.create_deployment(
        applicationName="bench", deploymentGroupName="bench",
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": spec}},
    )["deploymentId"]
    status = ""
    while status not in ("Succeeded", "Failed", "Stopped") and time.perf_counter() - t < 120:
        status = cd.get_deployment(deploymentId=deployment)["deploymentInfo"]["status"]
        time.sleep(0.02)
    deploy_s = time.perf_counter() - t
    line(f"Canary10Percent5Minutes deployment ({status})", f"{deploy_s:.2f} s",
         f"AWS nominal 300 s, ratio 1/{300 / deploy_s:.0f}; goal < 10 s",
         status == "Succeeded" and deploy_s < 10)

    failing = create("bench-alarm", FAILS)
    period_s = 60 * DEFAULT_TIME_SCALE  # one period of emulated time, in real seconds
    lags = []
    for i in range(lag_samples):
        alarm = f"bench-errors-{i}"
        cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/Lambda", MetricName="Errors",
                            Dimensions=[{"Name": "FunctionName", "Value": failing}],
                            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=0,
                            ComparisonOperator="GreaterThanThreshold")
        # evaluated once already (its next tick is scheduled), and the failure lands at a
        # random phase of the evaluator's schedule, not just after a tick
        time.sleep(period_s * (1 + random.random()))
        lam.invoke(FunctionName=failing, Payload=b"{}")
        t = time.perf_counter()
        while cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] != "ALARM":
            if time.perf_counter() - t > 30:
                raise SystemExit(f"alarm {alarm} never fired")
            time.sleep(0.005)
        lags.append(time.perf_counter() - t)
        cw.delete_alarms(AlarmNames=[alarm])
    for label, lag in (("median", statistics.median(lags)), ("max", max(lags))):
        line(f"alarm lag after the breaching datapoint ({label})", f"{lag * 1000:.0f} ms",
             f"1 period = {period_s * 1000:.0f} ms, ratio {lag / period_s:.2f}; goal < 1 period",
             lag < period_s)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f}"


def emulator_pid(env: dict[str, str], port: int) -> int:
    from notifyctl.emulator import control

    health = control._get_json(f"{control.endpoint_for('127.0.0.1', port)}/_notifyctl/health")
    return int(health["pid"])


def rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (/proc/PID/stat, fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (the emulator's function workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cli(*argv: str) -> tuple[int, str, str]:
    """The notifyctl CLI in-process (no interpreter start per call)."""
    import contextlib

    from notifyctl.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(argv))
    return code, out.getvalue(), err.getvalue()


def pipeline(endpoint: str, pid: int, args: argparse.Namespace) -> None:
    """Part 8: the real function end to end (see the module docstring)."""
    cfg_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    cfg = cfg_dir / "notifyctl.yaml"
    cfg.write_text((REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8"))
    base = ["--config", str(cfg), "--env", "local", "--endpoint-url", endpoint]
    print(f"\npipeline with the real function (emulator pid {pid})")
    rss_start = rss_mb(pid)
    code, _, err = cli(*base, "bootstrap", "--yes")
    if code != 0:
        raise SystemExit(f"bootstrap failed ({code}): {err.strip()[-500:]}")
    from notifyctl.emulator import control

    def stored() -> float:
        """MB of what the user stored (items, log events, datapoints, messages), as the
        emulator's memory census sizes it (emulator/memory.py stored_mb)."""
        census = control._get_json(f"{endpoint}/_notifyctl/memory", timeout=60)
        return float(sum(census["stored_mb"].values()))

    def sent() -> int:
        return int(control._get_json(f"{endpoint}/_notifyctl/status", timeout=10)["outbox"])

    def async_counts() -> dict[str, int]:
        return dict(control._get_json(f"{endpoint}/_notifyctl/status", timeout=10)
                    .get("async") or {})

    def lost(snap: dict[str, int]) -> int:
        """Events Lambda gave up on: sent to the on-failure destination, or dropped."""
        return snap.get("destinations", 0) + snap.get("dropped", 0)

    lost_before = lost(async_counts())

    def settled() -> bool:
        """No asynchronous invocation left: SES's events for the sent emails reach the
        feedback function after the email is in the outbox, and that work is part of
        each delivery's cost. An event sent to the on-failure destination will never
        be an email: the run is void, said at once rather than after the timeout."""
        snap = async_counts()
        failed = lost(snap) - lost_before
        if failed:
            raise SystemExit(f"{failed} event(s) failed for good (the failure queue, or "
                             "dropped: see `notifyctl failures list` and the emulator's "
                             "log): the run is void")
        return not snap.get("pending") and not snap.get("in_flight")

    def publish(count: int, rate: float | None, wait: bool) -> dict[str, Any]:
        argv = [*base, "-o", "json", "publish-book", "--count", str(count)]
        if rate:
            argv += ["--rate", str(rate)]
        if wait:
            argv += ["--wait", "--timeout", str(max(120, count // 20))]
        code, out, err = cli(*argv)
        if code != 0:
            raise SystemExit(f"publish-book failed ({code}): {err.strip()[-500:]}")
        return dict(json.loads(out))

    def drain(target: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while sent() < target or not settled():
            if time.monotonic() > deadline:
                raise SystemExit(f"only {sent()} of {target} emails sent (or their SES events"
                                 f" still queued) after {timeout} s")
            time.sleep(0.5)

    line("RSS at start (fresh emulator)", f"{rss_start:.0f} MB", load())
    base_sent = sent()
    publish(1000, None, False)
    drain(base_sent + 1000)
    rss_warm = rss_mb(pid)
    stored_warm = stored()
    line("RSS after bootstrap + 1,000 deliveries (warm)", f"{rss_warm:.0f} MB",
         f"stored data {stored_warm:.1f} MB; {load()}")
    after_warm = sent()
    if args.cpu_only:
        measure_cpu(pid, publish, sent, drain, args.cpu_only)
        return

    # -- publish -> sent at 100/s offered ----------------------------------------------
    report = publish(int(100 * min(args.duration, 30)), 100, True)
    lat = report.get("wait", {}).get("latency_ms") or {}
    p50, p95 = lat.get("p50", float("nan")), lat.get("p95", float("nan"))
    line("publish -> sent at 100/s offered (p50)", f"{p50:.0f} ms", load())
    line("publish -> sent at 100/s offered (p95)", f"{p95:.0f} ms", "goal < 1000 ms", p95 < 1000)

    # -- sustained ---------------------------------------------------------------------
    best: tuple[float, float] | None = None
    for rate in (float(r) for r in args.rates.split(",")):
        delivered_per_s, backlog, target = offered(publish, sent, rate, args.duration)
        ok = backlog <= rate and delivered_per_s >= 0.95 * rate
        line(f"offered {rate:.0f}/s for {args.duration:.0f} s: delivered", f"{delivered_per_s:.0f} /s",
             f"backlog at end {backlog}; {load()}", ok)
        drain(target)
        if not ok:
            break
        best = (rate, delivered_per_s)
    if best is None:
        line("sustained delivered/s", "none sustained", "goal >= 200/s", False)
    else:
        line("sustained delivered/s (highest rate kept up)", f"{best[1]:.0f} /s",
             f"offered {best[0]:.0f}/s; goal >= 200/s", best[1] >= 200)

    # -- memory ------------------------------------------------------------------------
    missing = args.deliveries - (sent() - after_warm)
    if missing > 0:
        target = sent() + missing
        publish(missing, None, False)
        drain(target)
    rss_after = rss_mb(pid)
    added = stored() - stored_warm
    growth = ((rss_after - rss_warm) - added) / rss_warm * 100
    line(f"RSS after {sent() - after_warm:,} more deliveries", f"{rss_after:.0f} MB",
         f"{rss_after - rss_warm:+.0f} MB over warm, {added:+.1f} MB of it stored data: "
         f"{growth:+.1f} % beyond it (goal < 10 %); {load()}", growth < 10)
    time.sleep(args.idle)
    line(f"RSS after idling {args.idle:.0f} s", f"{rss_mb(pid):.0f} MB", load())


def measure_cpu(pid: int, publish: Any, sent: Any, drain: Any, count: int) -> None:
    """CPU per delivered email over `count` deliveries, emulator and its workers apart."""
    workers = descendants(pid)
    cpu0, wcpu0 = cpu_s(pid), {w: cpu_s(w) for w in workers}
    start, t0 = sent(), time.monotonic()
    publish(count, None, False)
    drain(start + count)
    wall = time.monotonic() - t0
    delivered = sent() - start
    emulator_ms = (cpu_s(pid) - cpu0) * 1000 / delivered
    workers_ms = sum(cpu_s(w) - wcpu0.get(w, 0.0) for w in descendants(pid)) * 1000 / delivered
    line(f"emulator CPU per delivery ({delivered:,} deliveries)", f"{emulator_ms:.1f} ms",
         f"workers {workers_ms:.1f} ms; {delivered / wall:.0f} delivered/s; {load()}")


def offered(publish: Any, sent: Any, rate: float,
            duration: float) -> tuple[float, int, int]:
    """Offer `rate` events/s for `duration` s; (delivered/s over the second half, backlog
    at the end of publishing, the sent count once all of them are delivered)."""
    count = int(rate * duration)
    start = sent()
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def run() -> None:
        try:
            publish(count, rate, False)
        finally:
            done.set()

    publisher = threading.Thread(target=run)
    t0 = time.monotonic()
    publisher.start()
    while not done.is_set():
        samples.append((time.monotonic() - t0, sent() - start))
        done.wait(1.0)
    publisher.join()
    end_s, delivered = time.monotonic() - t0, sent() - start
    half = [s for s in samples if s[0] >= end_s / 2] or samples[-1:]
    rate_second_half = (delivered - half[0][1]) / max(end_s - half[0][0], 1e-9)
    return rate_second_half, count - delivered, start + count


def wait_invocations(endpoint: str, name: str, count: int, timeout: float = 120) -> None:
    from notifyctl.emulator import control

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        details = control._get_json(f"{endpoint}/_notifyctl/status")
        done = {f["name"]: f.get("invocations", 0) for f in details["functions"]}.get(name, 0)
        if done >= count:
            return
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {count} invocations of {name}")


def runtime_overhead(n: int) -> float:
    from notifyctl.emulator.runtime.pool import FunctionSpec, Runtime

    spec = FunctionSpec("123456789012", "us-east-1", "f", "$LATEST",
                        "arn:aws:lambda:us-east-1:123456789012:function:f", "app.handler",
                        "python3.11", 128, 3, (), "x", zip_of(TRIVIAL))
    rt = Runtime(Path(tempfile.mkdtemp()), "http://127.0.0.1:9")
    try:
        rt.invoke(spec, "{}")
        times = []
        for _ in range(n):
            t = time.perf_counter()
            rt.invoke(spec, "{}")
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)
    finally:
        rt.close()


def runtime_cold(n: int) -> tuple[float, float]:
    """Median cold invocation (a new function each time) in-process, with and without the
    private mount namespace (/tmp, read-only task root): the price of isolation. The two
    are interleaved so that load on the machine hits both alike."""
    from notifyctl.emulator.runtime.pool import FunctionSpec, Runtime

    runtimes = {True: Runtime(Path(tempfile.mkdtemp()), "http://127.0.0.1:9", sandbox=True),
                False: Runtime(Path(tempfile.mkdtemp()), "http://127.0.0.1:9", sandbox=False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        for i in range(max(n, 3)):
            for sandbox, rt in runtimes.items():
                spec = FunctionSpec("123456789012", "us-east-1", f"c{i}", "$LATEST",
                                    f"arn:aws:lambda:us-east-1:123456789012:function:c{i}",
                                    "app.handler", "python3.11", 128, 3, (), f"x{i}",
                                    zip_of(TRIVIAL))
                t = time.perf_counter()
                rt.invoke(spec, "{}")
                times[sandbox].append((time.perf_counter() - t) * 1000)
        return statistics.median(times[True]), statistics.median(times[False])
    finally:
        for rt in runtimes.values():
            rt.close()


if __name__ == "__main__":
    sys.exit(main())
