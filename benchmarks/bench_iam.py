"""What IAM enforcement costs a function's AWS calls on the emulator.

    python benchmarks/bench_iam.py [--calls 200] [--runs 5]

The reference is the same emulator with enforcement off, measured in the same run:
two private emulators (`NOTIFYCTL_EMULATOR_ENFORCE_IAM=functions` and `off`), one
function each whose role allows exactly what it does (bootstrap's least-privilege
shape), which makes `--calls` DynamoDB GetItem calls and reports the time they took
(inside the function: boto3 + HTTP + moto + the check). Median of `--runs` warm
invocations, per call, and the ratio enforced / off. Also the evaluator alone
(`iam_policy.evaluate` on the function's policy), per decision.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROBE = """
import time, boto3

ddb = boto3.client("dynamodb")

def handler(event, context):
    t0 = time.perf_counter()
    for _ in range(event["calls"]):
        ddb.get_item(TableName=event["table"], Key={"pk": {"S": "x"}})
    return {"seconds": time.perf_counter() - t0}
"""


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


class Setup:
    """A private emulator in one enforcement mode with the probe function created."""

    def __init__(self, mode: str, calls: int) -> None:
        from notifyctl.emulator import control, iam_enforce

        self.root = Path(tempfile.mkdtemp(prefix=f"bench-iam-{mode}-"))
        self.port = control.free_port()
        info = control.start("127.0.0.1", self.port, state_dir=self.root,
                             extra_env={iam_enforce.ENV_MODE: mode})
        self.lam = _create(info.endpoint)
        self.payload = json.dumps({"calls": calls, "table": "bench"}).encode()
        self.calls = calls
        self.lam.invoke(FunctionName="b", Payload=self.payload)  # cold start + warm-up

    def per_call(self) -> float:
        resp = json.loads(self.lam.invoke(FunctionName="b", Payload=self.payload)["Payload"].read())
        return float(resp["seconds"]) / self.calls

    def close(self) -> None:
        from notifyctl.emulator import control

        control.stop("127.0.0.1", self.port, state_dir=self.root)


def _create(endpoint: str) -> Any:
    """The table, the least-privilege role and the probe function; the Lambda client."""
    import boto3

    from notifyctl.infra.policies import function_policy

    def client(service: str) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing")

    arn = "arn:aws:{}:us-east-1:123456789012:{}"
    client("dynamodb").create_table(
        TableName="bench", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    iam = client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam.create_role(RoleName="bench",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="bench", PolicyName="p", PolicyDocument=json.dumps(
        function_policy(log_streams_arn=arn.format("logs", "log-group:/aws/lambda/b:*"),
                        table_arn=arn.format("dynamodb", "table/bench"),
                        queue_arn=arn.format("sqs", "q"),
                        ses_identity_arns=[arn.format("ses", "identity/example.com")],
                        sender="a@example.com")))
    lam = client("lambda")
    lam.create_function(FunctionName="b", Runtime="python3.11", Role=role,
                        Handler="app.handler", Timeout=300, Code={"ZipFile": _zip(PROBE)})
    return lam


def evaluator_alone(n: int = 20_000) -> float:
    from notifyctl.emulator.iam_policy import Policy, Request, evaluate
    from notifyctl.infra.policies import function_policy

    arn = "arn:aws:{}:us-east-1:123456789012:{}"
    policy = Policy.parse(function_policy(
        log_streams_arn=arn.format("logs", "log-group:/aws/lambda/b:*"),
        table_arn=arn.format("dynamodb", "table/bench"), queue_arn=arn.format("sqs", "q"),
        ses_identity_arns=[arn.format("ses", "identity/example.com")], sender="a@example.com"))
    request = Request("dynamodb:GetItem", arn.format("dynamodb", "table/bench"))
    t0 = time.perf_counter()
    for _ in range(n):
        evaluate(request, [policy])
    return (time.perf_counter() - t0) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setups = {mode: Setup(mode, args.calls) for mode in ("off", "functions")}
    try:  # interleaved, so a change in the machine's load hits both alike
        samples: dict[str, list[float]] = {mode: [] for mode in setups}
        for _ in range(args.runs):
            for mode, setup in setups.items():
                samples[mode].append(setup.per_call())
    finally:
        for setup in setups.values():
            setup.close()
    off, on = samples["off"], samples["functions"]
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"GetItem from a function, per call (median of {args.runs} x {args.calls}):")
    print(f"  enforcement off (reference): {m_off * 1000:.2f} ms")
    print(f"  enforcement on (functions):  {m_on * 1000:.2f} ms")
    print(f"  ratio on/off: {m_on / m_off:.2f}  (+{(m_on - m_off) * 1000:.2f} ms per call)")
    print(f"evaluator alone, per decision: {evaluator_alone() * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
