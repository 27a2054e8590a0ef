"""Benchmark of the notifier function: init (import) time and warm per-invocation time.

    python benchmarks/bench_lambda.py [--runs 7] [--invocations 300]

Init: ``import book_notifier.handler`` in a fresh interpreter (reads the settings and
builds the DynamoDB and SES v2 clients from botocore, as a Lambda cold start does),
median of --runs, beside the reference: the same init with the clients built by
``boto3.client`` (how the function did it before issue 11), with the ratio. Warm: the
handler against moto in-process, one new SNS message per call (claim, send, mark),
then the same messages again (duplicates); medians. moto's own work dominates the warm
figures: they compare versions of this code, not AWS latency.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVENT = REPO / "tests" / "events" / "sns_book_created.json"
TABLE = "bench-dedup"
SENDER = "notifications@example.com"
FUNCTION_ENV = {
    "TABLE_NAME": TABLE,
    "SENDER": SENDER,
    "LINK_ALLOWED_HOSTS": "books.example.com",
    "ALLOW_HTTP_LINKS": "false",
    "LOG_LEVEL": "WARNING",  # per-invocation INFO lines would time the terminal
    "DEDUP_RETENTION_HOURS": "168",
}
ISOLATED_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# The reference for issue 11's "build its clients from botocore": the same handler
# module, but with its two clients built through boto3 (as before the change).
BOTO3_REFERENCE = (
    "import os, boto3; from botocore.config import Config; "
    "import book_notifier.notifier; from book_notifier.config import Settings; "
    "s = Settings.from_env(os.environ); c = Config(retries={'total_max_attempts': 3}); "
    "boto3.client('dynamodb', config=c); boto3.client('sesv2', config=c)"
)


def fresh_import_seconds(module: str, env: dict[str, str]) -> float:
    return fresh_seconds(f"import {module}", env)


def fresh_seconds(statement: str, env: dict[str, str]) -> float:
    code = (f"import time; t = time.perf_counter(); {statement}; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def measure_init(runs: int) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(ISOLATED_AWS_ENV, **FUNCTION_ENV)
        env["AWS_CONFIG_FILE"] = str(Path(home) / "none")
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(Path(home) / "none")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "lambda_src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        fresh_import_seconds("book_notifier.handler", env)  # warm the bytecode cache
        handler, reference, boto3_only, botocore_only = [], [], [], []
        for _ in range(runs):  # interleaved: the machine's load hits both alike
            handler.append(fresh_import_seconds("book_notifier.handler", env))
            reference.append(fresh_seconds(BOTO3_REFERENCE, env))
            boto3_only.append(fresh_import_seconds("boto3", env))
            botocore_only.append(fresh_import_seconds("botocore.session", env))
    return (statistics.median(handler), statistics.median(reference),
            statistics.median(boto3_only), statistics.median(botocore_only))


def measure_warm(invocations: int) -> tuple[float, float, int]:
    os.environ.update(ISOLATED_AWS_ENV, **FUNCTION_ENV)
    sys.path.insert(0, str(REPO / "lambda_src"))
    import boto3
    from moto import mock_aws
    from moto.ses.models import ses_backends

    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        from book_notifier import handler as module

        calls = 0

        def count(**_: Any) -> None:
            nonlocal calls
            calls += 1

        for client in (module.NOTIFIER.store.client, module.NOTIFIER.mailer.client):
            client.meta.events.register("before-call", count)

        template = json.loads(EVENT.read_text())
        events = []
        for n in range(invocations):
            event = copy.deepcopy(template)
            event["Records"][0]["Sns"]["MessageId"] = f"bench-{n:06d}"
            events.append(event)
        context = _Context()

        module.handler(copy.deepcopy(template), context)  # first call: moto warm-up
        calls = 0
        new, dup = [], []
        for event in events:
            t = time.perf_counter()
            module.handler(event, context)
            new.append(time.perf_counter() - t)
        calls_per_email = calls / invocations
        for event in events:
            t = time.perf_counter()
            module.handler(event, context)
            dup.append(time.perf_counter() - t)
        sent = len(ses_backends["123456789012"]["us-east-1"].sent_messages)
        assert sent == invocations + 1, f"expected {invocations + 1} emails, got {sent}"
    return statistics.median(new), statistics.median(dup), round(calls_per_email)


class _Context:
    aws_request_id = "bench"
    function_name = "bench-notifier"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def package_size() -> str:
    try:
        sys.path.insert(0, str(REPO))
        from notifyctl.release.package import build

        pkg = build(REPO / "lambda_src" / "book_notifier")
        return f"{pkg.size / 1024:.1f} KiB zip, {len(pkg.files)} files"
    except Exception as exc:  # the figure is informative only
        return f"unavailable ({exc.__class__.__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters for init")
    parser.add_argument("--invocations", type=int, default=300)
    args = parser.parse_args()

    init, reference, boto3_only, botocore_only = measure_init(args.runs)
    print(f"init: import book_notifier.handler (fresh interpreter, median of {args.runs}): "
          f"{init * 1000:.0f} ms  [botocore.session alone: {botocore_only * 1000:.0f} ms; "
          f"boto3 alone: {boto3_only * 1000:.0f} ms]")
    print(f"reference: the same init with boto3.client (before issue 11): "
          f"{reference * 1000:.0f} ms; ratio {init / reference:.2f}")
    new, dup, calls = measure_warm(args.invocations)
    print(f"warm: new message (claim+send+mark) median over {args.invocations}: "
          f"{new * 1000:.2f} ms")
    print(f"warm: duplicate delivery median over {args.invocations}: {dup * 1000:.2f} ms")
    print(f"API calls per email on the happy path: {calls}")
    print(f"package: {package_size()}")


if __name__ == "__main__":
    main()
