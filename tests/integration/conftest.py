"""The integration tier: one embedded emulator per test session.

    def test_something(emulator):
        sns = emulator.client("sns")          # boto3 client on the emulator (dummy creds)
        clients = emulator.aws_clients()       # notifyctl's AwsClients on the emulator
        emulator.wait_until(lambda: ..., what="the email")   # bounded polling, no fixed sleeps
        emulator.subscribe_function(topic_arn, alias_arn)     # add_permission for SNS + subscribe

SNS delivers to a function only if its resource policy allows sns.amazonaws.com for the
exact (qualified) ARN subscribed, as on AWS.

Each test creates its own uniquely named resources (`emulator.unique("topic")`).
The emulator's clock runs at 1/1000 of AWS's (a 1-minute retry wait is 60 ms, a
1-minute alarm period 60 ms, a 1-hour hook timeout 3.6 s).
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from notifyctl.emulator import control

REPO = Path(__file__).resolve().parents[2]

T = TypeVar("T")
TIME_SCALE = 0.001  # emulator/clock.py: real seconds per AWS second
REGION = "us-east-1"
ACCOUNT = "123456789012"

LAMBDA_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})


def boto_client(endpoint: str, service: str) -> Any:
    """A boto3 client on the emulator: dummy credentials, few retries, short timeouts."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 2},
                      connect_timeout=5, read_timeout=60),
    )


def zip_source(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


@dataclass
class Emulator:
    endpoint: str
    info: control.EmulatorInfo
    state_dir: Path
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _role_arn: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto_client(self.endpoint, service)
        return self._clients[service]

    def aws_clients(self) -> Any:
        from notifyctl.aws.session import AwsClients, AwsSettings

        return AwsClients(AwsSettings(None, REGION, self.endpoint, True, True))

    @staticmethod
    def unique(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def wait_until(check: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.02,
                   what: str = "the condition") -> T:
        """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def status(self) -> dict[str, Any]:
        return control.status(self.info.host, self.info.port, self.state_dir.parent).details

    def role_arn(self) -> str:
        """An IAM role functions can use (created once per session)."""
        if self._role_arn is None:
            iam = self.client("iam")
            name = self.unique("emulator-test-role")
            self._role_arn = iam.create_role(RoleName=name,
                                             AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        return self._role_arn

    def role_with(self, policy: dict[str, Any]) -> str:
        """A new role whose one inline policy is `policy` (the emulator enforces IAM for
        functions: a function calling AWS needs its role to allow the calls)."""
        iam = self.client("iam")
        name = self.unique("emulator-test-role")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
        return str(arn)

    def allow_sns(self, function: str, topic_arn: str, qualifier: str | None = None) -> None:
        """The resource policy SNS needs to invoke `function`[:qualifier] from the topic."""
        kwargs: dict[str, Any] = {"Qualifier": qualifier} if qualifier else {}
        self.client("lambda").add_permission(
            FunctionName=function, StatementId=self.unique("sns"),
            Action="lambda:InvokeFunction", Principal="sns.amazonaws.com", SourceArn=topic_arn,
            **kwargs)

    def subscribe_function(self, topic_arn: str, function_arn: str, **kwargs: Any) -> str:
        """Allow SNS to invoke the function (or version/alias) ARN, then subscribe it."""
        parts = function_arn.split(":")
        self.allow_sns(parts[6], topic_arn, parts[7] if len(parts) > 7 else None)
        return str(self.client("sns").subscribe(TopicArn=topic_arn, Protocol="lambda",
                                                Endpoint=function_arn,
                                                **kwargs)["SubscriptionArn"])

    def create_function(self, source: str | dict[str, str], *, name: str | None = None,
                        handler: str = "app.handler", timeout: int = 3,
                        environment: dict[str, str] | None = None, publish: bool = False,
                        memory: int = 128, role: str | None = None) -> dict[str, Any]:
        """Create a Python function from source (app.py, or a {path: text} dict); its
        role defaults to one without policies."""
        files = {"app.py": source} if isinstance(source, str) else source
        spec: dict[str, Any] = {
            "FunctionName": name or self.unique("fn"), "Runtime": "python3.11",
            "Role": role or self.role_arn(), "Handler": handler, "Timeout": timeout,
            "MemorySize": memory, "Code": {"ZipFile": zip_source(files)}, "Publish": publish,
        }
        if environment:
            spec["Environment"] = {"Variables": environment}
        created = self.client("lambda").create_function(**spec)
        self.wait_for_function(created["FunctionName"])
        return created

    def wait_for_function(self, name: str) -> None:
        """Wait as on AWS: State Active (after create) and LastUpdateStatus Successful
        (after an update), with boto3's own waiters polling every 20 ms."""
        config = {"Delay": 0.02, "MaxAttempts": 500}
        lam = self.client("lambda")
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=config)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=config)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator as a subprocess on a free loopback port, for the whole session."""
    root = tmp_path_factory.mktemp("emulator")
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root, time_scale=TIME_SCALE)
    try:
        yield Emulator(endpoint=info.endpoint, info=info, state_dir=Path(info.state_dir or root))
    finally:
        control.stop("127.0.0.1", port, state_dir=root)


@pytest.fixture
def local_config(tmp_path: Path) -> Callable[[str], str]:
    """The repository's config with the `local` environment renamed to `prefix`, so
    tests sharing the session's emulator never touch each other's resources."""
    def write(prefix: str) -> str:
        text = (REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8")
        assert "prefix: books-local" in text
        path = tmp_path / f"{prefix}.yaml"
        path.write_text(text.replace("prefix: books-local", f"prefix: {prefix}"),
                        encoding="utf-8")
        return str(path)
    return write


@pytest.fixture
def bootstrapped(local_config: Callable[[str], str], cli: Any,
                 emulator: Emulator) -> Callable[[str], list[str]]:
    """`bootstrapped(prefix)`: the `local` environment renamed to `prefix`, bootstrapped on
    the session's emulator; the global options that address it."""
    def build(prefix: str) -> list[str]:
        options = ["--config", local_config(prefix), "--env", "local",
                   "--endpoint-url", emulator.endpoint]
        result = cli(*options, "bootstrap", "--yes")
        assert result.exit_code == 0, result.output
        return options
    return build


