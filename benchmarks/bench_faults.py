"""Delivery under faults (issue 12): emails per event, duplicates, lost, recovered.

    python benchmarks/bench_faults.py [--events 20] [--kill-events 300] [--kills 20]

A private emulator at its default retry scale (0.01: retries meet the de-dup lease as
on AWS, emulator/delivery.py retry_delay), the `local` environment bootstrapped with a
10 s function timeout (a crashed attempt's lease ends 20 s later) and warmed up. For each fault:

=============================  ===========================================================
row                            how
=============================  ===========================================================
SES answer lost once           ses SendEmail --lost-response --count 1, --events events
SES answer always lost         ses SendEmail --lost-response, --events events
PublishBatch answer lost       sns PublishBatch --lost-response --count 1 --all-clients,
                               10 events (botocore re-sends the batch: new MessageIds)
SendingPaused 10 s, redriven   ses SendEmail --error SendingPausedException for 10 s while
                               --events events go; then resumed, `failures redrive --all`
marking SENT fails             dynamodb UpdateItem --error InternalServerError, --events
                               events, then the producer sends them all again
SES throttling at 50 %         ses SendEmail --error TooManyRequestsException --percent 50,
                               --events events; leftovers redriven
worker kills                   --kill-events events, --kills SIGKILLs of the function's
                               workers spread over the run, AWS retry timing
=============================  ===========================================================

Columns: events, emails, duplicates (emails beyond one per event), lost (events with no
email at the end), recovered (events sent by `failures redrive`), and for the kill row
the kills; every row: the takeovers of unreleased claims the function logged
(possible_duplicate: a timeout on a loaded machine is a crash too). Goal: 0 lost,
0 duplicates, except worker kills, where duplicates ≤ takeovers ≤ kills. The issue's
"today" figures (measured on the code before this change) are printed beside each row
for reference; this script measures the current code only. The machine is shared:
times vary, the counts do not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FUNCTION_TIMEOUT_S = 10  # a loaded 2-core machine needs seconds for a cold start
_BOOK_RE = re.compile(r"Book id: (\S+)")
TODAY = {
    "SES answer lost once": "2 emails for 1 event",
    "SES answer always lost": "9 emails for 1 event, then the failure queue",
    "PublishBatch answer lost": "20 emails for 10 events; --wait said sent 10",
    "SendingPaused 10 s, redriven": "FAILED, never retried: lost",
    "SES throttling at 50 %": "(not measured)",
    "marking SENT fails": "IN_PROGRESS, lease 40 s: a redelivery sends again",
    "worker kills": "4 duplicates per 20 kills in 1,000 events, not counted",
}


@dataclass
class Row:
    name: str
    events: int
    emails: int
    duplicates: int
    lost: int
    recovered: int
    seconds: float
    extra: str = ""


class Bench:
    def __init__(self, endpoint: str, config: Path) -> None:
        from notifyctl.aws.session import AwsClients, AwsSettings
        from notifyctl.config import load

        self.endpoint = endpoint
        self.base = ["--config", str(config), "--env", "local", "--endpoint-url", endpoint]
        self.env = load(str(config), "local")[0]
        self.clients = AwsClients(AwsSettings(None, self.env.region, endpoint, True, True))
        self.run = uuid.uuid4().hex[:6]
        self.seq = 0

    def cli(self, *args: str) -> tuple[int, str]:
        from notifyctl.cli.main import run

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run([*self.base, *args])
        return code, out.getvalue() + err.getvalue()

    def fault(self, service: str, operation: str, **kwargs: Any) -> None:
        from notifyctl.emulator import faults

        faults.add(self.endpoint, faults.FaultSpec.create(service, operation, **kwargs))

    def clear(self) -> None:
        from notifyctl.emulator import faults

        faults.clear(self.endpoint)

    def books(self, n: int) -> list[str]:
        out = [f"{self.run}-{self.seq + i}" for i in range(n)]
        self.seq += n
        return out

    def publish(self, books: list[str], *, wait: bool = False, concurrency: int = 4,
                event_ids: list[str] | None = None) -> Any:
        from notifyctl.publish.events import EventFactory
        from notifyctl.publish.job import PublishRequest, publish_book

        ids, given = iter(books), iter(event_ids or [])
        factory = EventFactory.for_env(self.env, new_id=lambda: next(ids),
                                       **({"new_event_id": lambda: next(given)}
                                          if event_ids else {}))
        request = PublishRequest(count=len(books), wait=wait, timeout_s=120 if wait else None,
                                 concurrency=concurrency)
        return publish_book(self.clients, self.env, request, factory=factory)

    def emails(self, books: list[str]) -> dict[str, int]:
        from notifyctl.emulator import outbox

        counts = dict.fromkeys(books, 0)
        for email in outbox.read(self.endpoint):
            match = _BOOK_RE.search(email.text or "")
            if match and match.group(1) in counts:
                counts[match.group(1)] += 1
        return counts

    def statuses(self, books: list[str]) -> dict[str, str]:
        from book_notifier.dedup import plain

        wanted, out = set(books), dict.fromkeys(books, "NONE")
        kwargs: dict[str, Any] = {"TableName": self.env.table_name}
        ddb = self.clients.client("dynamodb")
        while True:
            page = ddb.scan(**kwargs)
            for item in page.get("Items", []):
                record = plain(item)
                if record.get("book_id") in wanted:
                    out[record["book_id"]] = str(record.get("status"))
            if not page.get("LastEvaluatedKey"):
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def queued(self, books: list[str]) -> list[Any]:
        from notifyctl.failures.source import list_failures

        return [f for f in list_failures(self.clients, self.env).queue if f.book_id in books]

    def settle(self, books: list[str], timeout: float = 180.0) -> None:
        """Until every event has a final record or sits in the failure queue."""
        final = {"SENT", "UNCONFIRMED", "FAILED", "REJECTED"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.statuses(books)
            pending = [b for b, s in statuses.items() if s not in final]
            if not pending or {f.book_id for f in self.queued(pending)} >= set(pending):
                return
            time.sleep(0.5)
        print(f"#   settle: gave up after {timeout:.0f} s", file=sys.stderr)

    def redrive(self, books: list[str]) -> int:
        """`failures redrive --all --yes`; the events it sent."""
        before = self.emails(books)
        if not self.queued(books):
            return 0
        code, output = self.cli("-o", "json", "failures", "redrive", "--all", "--yes")
        if code != 0:
            print(f"#   redrive exit {code}: {output[:300]}", file=sys.stderr)
        self.settle(books)
        after = self.emails(books)
        return sum(1 for b in books if before[b] == 0 and after[b] > 0)

    def row(self, name: str, books: list[str], started: float, recovered: int,
            extra: str = "", since_ms: int | None = None) -> Row:
        counts = self.emails(books)
        if since_ms is not None:
            takeovers = self.possible_duplicates(since_ms)
            extra = (extra + ", " if extra else "") + f"takeovers {takeovers}"
        return Row(name, len(books), sum(counts.values()),
                   sum(max(0, n - 1) for n in counts.values()),
                   sum(1 for n in counts.values() if n == 0), recovered,
                   time.monotonic() - started, extra)

    def possible_duplicates(self, since_ms: int) -> int:
        logs = self.clients.client("logs")
        kwargs: dict[str, Any] = {"logGroupName": self.env.log_group_name,
                                  "startTime": since_ms, "filterPattern": "possible_duplicate"}
        count = 0
        while True:
            page = logs.filter_log_events(**kwargs)
            count += sum(1 for e in page.get("events", [])
                         if '"outcome": "possible_duplicate"' in e["message"])
            if not page.get("nextToken"):
                return count
            kwargs["nextToken"] = page["nextToken"]

    def kill_a_worker(self, rng: random.Random) -> bool:
        """SIGKILL one execution environment of the function, chosen at random (Linux:
        found by its AWS_LAMBDA_FUNCTION_NAME)."""
        marker = f"AWS_LAMBDA_FUNCTION_NAME={self.env.function_name}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
        if not pids:
            return False
        try:
            os.kill(rng.choice(pids), signal.SIGKILL)
        except OSError:
            return False
        return True


def simple_row(bench: Bench, name: str, events: int, setup: Callable[[], None],
               *, wait: bool = False) -> Row:
    bench.clear()
    setup()
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    books = bench.books(events)
    bench.publish(books, wait=wait)
    bench.settle(books)
    bench.clear()
    recovered = bench.redrive(books)
    return bench.row(name, books, started, recovered, since_ms=since_ms)


def paused_row(bench: Bench, events: int) -> Row:
    bench.clear()
    bench.fault("ses", "SendEmail", error="SendingPausedException")
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    books = bench.books(events)
    bench.publish(books)
    time.sleep(max(0.0, 10.0 - (time.monotonic() - started)))  # the pause lasts 10 s
    bench.settle(books)
    bench.clear()  # sending resumed
    recovered = bench.redrive(books)
    return bench.row("SendingPaused 10 s, redriven", books, started, recovered,
                     since_ms=since_ms)


def mark_row(bench: Bench, events: int) -> Row:
    """Marking SENT fails after SES accepted; then the producer sends every event again
    (same event ids): none may be emailed twice."""
    bench.clear()
    bench.fault("dynamodb", "UpdateItem", error="InternalServerError")
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    books = bench.books(events)
    event_ids = [f"ev-{b}" for b in books]
    bench.publish(books, event_ids=event_ids)
    bench.settle(books)
    bench.clear()
    bench.publish(books, event_ids=event_ids)  # the redeliveries
    time.sleep(2 * FUNCTION_TIMEOUT_S)  # they are duplicates: nothing to wait for but time
    return bench.row("marking SENT fails", books, started, bench.redrive(books),
                     since_ms=since_ms)


def kill_row(bench: Bench, events: int, kills: int) -> Row:
    bench.clear()
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    books = bench.books(events)
    done = threading.Event()
    landed = [0]

    def killer() -> None:
        rng = random.Random(12)
        expected_s = max(5.0, events / 20.0)  # spread the kills over the publishing
        for _ in range(kills):
            if done.wait(rng.uniform(0.2, 2 * expected_s / kills)):
                return
            landed[0] += 1 if bench.kill_a_worker(rng) else 0

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    bench.publish(books, concurrency=2)
    thread.join()
    done.set()
    bench.settle(books, timeout=FUNCTION_TIMEOUT_S + 10 + 240)
    recovered = bench.redrive(books)
    return bench.row("worker kills", books, started, recovered, extra=f"kills {landed[0]}",
                     since_ms=since_ms)


def bootstrap(endpoint: str, tmp: Path) -> Path:
    text = (REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8")
    text = text.replace("prefix: books-local", "prefix: books-benchfaults").replace(
        "timeout_s: 30", f"timeout_s: {FUNCTION_TIMEOUT_S}")
    config = tmp / "notifyctl.yaml"
    config.write_text(text, encoding="utf-8")
    bench = Bench(endpoint, config)
    code, output = bench.cli("bootstrap", "--yes")
    if code != 0:
        raise SystemExit(f"bootstrap failed: {output}")
    return config


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    from notifyctl.emulator.control import private_emulator

    with private_emulator() as info:  # default retry scale: AWS's order with leases
        yield info.endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--kill-events", type=int, default=300,
                        help="events of the worker-kill row (the issue's 1,000 takes too "
                             "long on a shared 2-core machine)")
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

    rows: list[Row] = []
    with emulator() as endpoint, tempfile.TemporaryDirectory() as tmp:
        bench = Bench(endpoint, bootstrap(endpoint, Path(tmp)))
        warm = bench.books(8)  # cold starts out of the measured rows
        bench.publish(warm)
        bench.settle(warm)
        n = args.events
        rows.append(simple_row(bench, "SES answer lost once", n, lambda: bench.fault(
            "ses", "SendEmail", lost_response=True, count=1)))
        rows.append(simple_row(bench, "SES answer always lost", n, lambda: bench.fault(
            "ses", "SendEmail", lost_response=True)))
        rows.append(simple_row(bench, "PublishBatch answer lost", 10, lambda: bench.fault(
            "sns", "PublishBatch", lost_response=True, count=1, all_clients=True), wait=True))
        rows.append(paused_row(bench, n))
        rows.append(mark_row(bench, n))
        rows.append(simple_row(bench, "SES throttling at 50 %", max(n, 50), lambda: bench.fault(
            "ses", "SendEmail", error="TooManyRequestsException", percent=50)))
        rows.append(kill_row(bench, args.kill_events, args.kills))

    print("| fault | events | emails | duplicates | lost | recovered by redrive | time | "
          "notes | before (issue 12) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.name} | {r.events} | {r.emails} | {r.duplicates} | {r.lost} | "
              f"{r.recovered} | {r.seconds:.0f} s | {r.extra} | {TODAY[r.name]} |")
    print(json.dumps({"rows": [r.__dict__ for r in rows]}), file=sys.stderr)


if __name__ == "__main__":
    main()
