"""How fast `publish-book` publishes, beside what boto3 alone achieves, on the emulator.

    /work/venv/bin/python benchmarks/bench_publish.py [--count 2000] [--repeat 3]

Part 1 — throughput (a topic with NO subscription: this measures publishing, not the
function; SNS accepts a message before any delivery happens, on AWS as here):
  * ceiling:      bare boto3 PublishBatch, 10 per call, 8 threads, one shared client,
                  bodies serialised in advance (the best this machine gives)
  * single:       a plain boto3 loop of Publish, one event per call
  * publish-book: `notifyctl publish-book --count N` run in-process through the CLI
                  entry point (`notifyctl.cli.main.run`: config, clients, topic check,
                  event building through the contract, output) — no interpreter start-up
  * library:      `notifyctl.publish.job.publish_book()` with an AwsClients kept
                  between runs (what `notifyctl demo` calls)
Runs are interleaved (ceiling, publish-book, library, ceiling, ...) and the median of --repeat
runs is reported, with the ratio publish-book / ceiling (goal >= 0.8).

Part 2 — end to end: bootstrap the `local` environment (own prefix) on the same
emulator, then `publish-book --count 500 --wait`: sent/s (publish start → last
outcome read) and the publish → sent latency percentiles.

Part 3 — the SES feedback loop (issue 17), same environment: `--wait --until sent`
and `--wait --until delivered` of --delivered-count (1,000) events each to
success@simulator.amazonses.com (publish-book's default recipient), interleaved
--repeat times: delivered/s beside sent/s, both latency percentiles, and the ratio
(the goal: the feedback path does not halve the pipeline's throughput, ratio >= 0.5).

Falls back to moto's ThreadedMotoServer for part 1 when the emulator is unavailable
(part 2 is then skipped with a message).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
PREFIX = "books-bench"  # the end-to-end part's environment (bootstrapped)
THROUGHPUT_PREFIX = "books-benchtp"  # the throughput part's bare topic (not bootstrapped)


@contextlib.contextmanager
def endpoint() -> Iterator[tuple[str, bool]]:
    """(endpoint URL, is it the notifyctl emulator)."""
    try:
        from notifyctl.emulator.control import private_emulator
    except ImportError as exc:
        print(f"# emulator unavailable ({exc}); using moto's ThreadedMotoServer")
    else:
        with private_emulator() as info:
            yield info.endpoint, True
        return
    from moto.server import ThreadedMotoServer

    from notifyctl.emulator.control import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", False
    finally:
        server.stop()


def client(url: str, service: str) -> Any:
    """A boto3 client configured like notifyctl's (pool of 32, standard retries)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 2},
                      max_pool_connections=32))


def bodies(n: int) -> list[str]:
    return [json.dumps({"book_id": str(uuid.uuid4()), "email": "success@simulator.amazonses.com",
                        "link": "http://localhost:8000/books/x", "title": "Bench"},
                       separators=(",", ":")) for _ in range(n)]


ATTRS = {"event_type": {"DataType": "String", "StringValue": "book.created"}}


def ceiling(sns: Any, topic_arn: str, n: int, threads: int = 8) -> float:
    """Bare PublishBatch with `threads` threads; returns events/s."""
    msgs = bodies(n)
    batches = [msgs[i:i + 10] for i in range(0, n, 10)]
    lock = threading.Lock()
    it = iter(batches)

    def work() -> None:
        while True:
            with lock:
                batch = next(it, None)
            if batch is None:
                return
            resp = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[
                {"Id": str(i), "Message": b, "MessageAttributes": ATTRS}
                for i, b in enumerate(batch)])
            assert not resp.get("Failed"), resp["Failed"]

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return n / (time.perf_counter() - started)


def singles(sns: Any, topic_arn: str, n: int) -> float:
    msgs = bodies(n)
    started = time.perf_counter()
    for body in msgs:
        sns.publish(TopicArn=topic_arn, Message=body, MessageAttributes=ATTRS)
    return n / (time.perf_counter() - started)


def cli(*argv: str) -> tuple[int, str, str]:
    from notifyctl.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(argv))
    return code, out.getvalue(), err.getvalue()


def publish_book(base: list[str], n: int) -> float:
    started = time.perf_counter()
    code, out, err = cli(*base, "-o", "json", "publish-book", "--count", str(n))
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"publish-book failed ({code}): {err}")
    assert json.loads(out)["published"] == n
    return n / elapsed


def config_file(tmpdir: str, prefix: str) -> str:
    text = (REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8")
    path = Path(tmpdir) / f"{prefix}.yaml"
    path.write_text(text.replace("prefix: books-local", f"prefix: {prefix}"), encoding="utf-8")
    return str(path)


def library_call(url: str, cfg: str, n: int) -> float:
    """publish_book() with a ready AwsClients (like the ceiling's warm client)."""
    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.config import load
    from notifyctl.publish.job import PublishRequest
    from notifyctl.publish.job import publish_book as run

    clients = _LIB_CLIENTS.setdefault(url, AwsClients(AwsSettings(None, REGION, url, True, True)))
    env = load(cfg, "local")[0]
    started = time.perf_counter()
    report = run(clients, env, PublishRequest(count=n))
    elapsed = time.perf_counter() - started
    assert report.published == n, report.to_dict()
    return n / elapsed


_LIB_CLIENTS: dict[str, Any] = {}


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--single-count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wait-count", type=int, default=500)
    parser.add_argument("--skip-wait", action="store_true")
    parser.add_argument("--delivered-count", type=int, default=1000)
    parser.add_argument("--skip-delivered", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, endpoint() as (url, is_emulator):
        cfg = config_file(tmp, THROUGHPUT_PREFIX)
        base = ["--config", cfg, "--env", "local", "--endpoint-url", url]
        sns = client(url, "sns")
        topic_arn = sns.create_topic(Name=f"{THROUGHPUT_PREFIX}-book-events")["TopicArn"]
        print(f"# endpoint {url} ({'notifyctl emulator' if is_emulator else 'moto server'}), "
              f"topic without subscription: {topic_arn}")
        # Warm up both paths (lazy backends, connection pools, imports).
        ceiling(sns, topic_arn, 200)
        publish_book(base, 200)
        library_call(url, cfg, 200)

        ceil_runs: list[float] = []
        pb_runs: list[float] = []
        lib_runs: list[float] = []
        for _ in range(args.repeat):
            ceil_runs.append(ceiling(sns, topic_arn, args.count))
            pb_runs.append(publish_book(base, args.count))
            lib_runs.append(library_call(url, cfg, args.count))
        single = singles(sns, topic_arn, args.single_count)
        ceil = statistics.median(ceil_runs)
        pb = statistics.median(pb_runs)
        lib = statistics.median(lib_runs)
        print(f"\nthroughput, {args.count} events (median of {args.repeat}; runs in brackets)")
        print(f"  bare boto3 PublishBatch x8 threads (ceiling) {ceil:8.0f} events/s  "
              f"{[round(v) for v in ceil_runs]}")
        print(f"  notifyctl publish-book --count {args.count:<6}     {pb:8.0f} events/s  "
              f"{[round(v) for v in pb_runs]}  ratio {pb / ceil:.2f} of the ceiling")
        print(f"  library publish_book(), warm clients          {lib:8.0f} events/s  "
              f"{[round(v) for v in lib_runs]}  ratio {lib / ceil:.2f} of the ceiling")
        print(f"  plain boto3 Publish loop ({args.single_count} events)   {single:8.0f} events/s  "
              f"ratio {single / ceil:.2f} of the ceiling")
        sys.stdout.flush()

        if args.skip_wait:
            return 0
        if not is_emulator:
            print("\n# end-to-end part skipped: needs the notifyctl emulator (function runtime)")
            return 0
        base = ["--config", config_file(tmp, PREFIX), "--env", "local", "--endpoint-url", url]
        code, out, err = cli(*base, "bootstrap", "--yes")
        if code != 0:
            print(f"\n# end-to-end part skipped: bootstrap failed ({code}): "
                  f"{err.strip().splitlines()[-1:]}")
            return 0
        # Warm the function (first invocation starts a worker).
        cli(*base, "publish-book", "--wait", "--timeout", "60")
        started = time.perf_counter()
        code, out, err = cli(*base, "-o", "json", "publish-book", "--count",
                             str(args.wait_count), "--wait", "--timeout", "300")
        total = time.perf_counter() - started
        data = json.loads(out) if out.strip() else {}
        wait = data.get("wait", {})
        print(f"\nend to end, publish-book --count {args.wait_count} --wait (exit {code})")
        print(f"  published {data.get('published')} in {data.get('elapsed_s')} s; "
              f"sent {wait.get('sent')}, rejected {wait.get('rejected')}, "
              f"failed {wait.get('failed')}, pending {wait.get('pending')}")
        print(f"  {wait.get('sent', 0) / total:.1f} sent/s over {total:.2f} s "
              "(command start → last outcome read)")
        print(f"  publish → sent latency ms: {wait.get('latency_ms')}")
        if not args.skip_delivered:
            feedback_loop(base, args.delivered_count, args.repeat)
    return 0


def _timed_wait(base: list[str], n: int, until: str) -> tuple[float, dict[str, Any]]:
    """One `publish-book --count n --wait --until <until>`: (events/s end to end, wait)."""
    started = time.perf_counter()
    code, out, err = cli(*base, "-o", "json", "publish-book", "--count", str(n), "--wait",
                         "--until", until, "--timeout", "600")
    total = time.perf_counter() - started
    wait = (json.loads(out) if out.strip() else {}).get("wait", {})
    done = wait.get("delivered" if until == "delivered" else "sent") or 0
    if code != 0:
        print(f"  (--until {until}: exit {code}; {err.strip().splitlines()[-1:]})")
    return done / total, wait


def drain(endpoint: str, timeout: float = 900.0) -> float:
    """Wait until the emulator's asynchronous deliveries are done (the previous run's
    feedback invocations: `--until sent` returns while SES's events for its emails are
    still queued), so each run is measured on its own work. Seconds waited."""
    import urllib.request

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with urllib.request.urlopen(endpoint + "/_notifyctl/status", timeout=10) as resp:
            snap = json.loads(resp.read()).get("async") or {}
        if not snap.get("pending") and not snap.get("in_flight"):
            break
        time.sleep(1.0)
    return time.perf_counter() - started


def feedback_loop(base: list[str], n: int, repeat: int) -> None:
    """Part 3: --until delivered beside --until sent, interleaved, medians; the
    emulator's queue drained before each run."""
    endpoint = base[base.index("--endpoint-url") + 1]
    sent_runs: list[float] = []
    delivered_runs: list[float] = []
    last: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        drained = drain(endpoint)
        rate, last["sent"] = _timed_wait(base, n, "sent")
        sent_runs.append(rate)
        drained += drain(endpoint)
        rate, last["delivered"] = _timed_wait(base, n, "delivered")
        delivered_runs.append(rate)
        print(f"  (waited {drained:.0f} s for the emulator's queue to drain between runs)")
    sent, delivered = statistics.median(sent_runs), statistics.median(delivered_runs)
    d = last["delivered"]
    print(f"\nSES feedback loop, {n} events to success@simulator.amazonses.com "
          f"(median of {repeat}; runs in brackets)")
    print(f"  --until sent       {sent:8.1f} sent/s       {[round(v, 1) for v in sent_runs]}  "
          f"latency ms {last['sent'].get('latency_ms')}")
    print(f"  --until delivered  {delivered:8.1f} delivered/s  "
          f"{[round(v, 1) for v in delivered_runs]}  latency ms {d.get('latency_ms')}")
    print(f"  last delivered run: delivered {d.get('delivered')}, bounced {d.get('bounced')}, "
          f"complained {d.get('complained')}, delayed {d.get('delayed')}, "
          f"pending {d.get('pending')}")
    ratio = delivered / sent if sent else 0.0
    print(f"  ratio delivered/s ÷ sent/s = {ratio:.2f} (goal >= 0.5: the feedback path must "
          "not halve the throughput)")


if __name__ == "__main__":
    sys.exit(main())
