"""Fixtures shared by every tier.

Every test runs with AWS and notifyctl settings isolated: a developer's own
~/.aws, AWS_* variables and NOTIFYCTL_* variables never leak in.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS_*, NOTIFYCTL_* or BOTO_* setting of the developer's; dummy credentials.
    (Also used by the module-scoped fixtures that start before `isolated_env`.)"""
    for name in list(os.environ):
        if name.startswith(("AWS_", "NOTIFYCTL_", "BOTO_")) or name in ("NO_COLOR",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_models() -> Iterator[None]:
    """Every botocore session in the test process shares one loader (the parsed
    service models). Each CLI invocation builds a new session, as a real run does,
    and re-reading the JSON models was most of a moto-backed command's time; the
    models are read-only data, so sharing them isolates nothing less."""
    import botocore.loaders
    import botocore.session

    loaders: dict[object, botocore.loaders.Loader] = {}

    def register(self: botocore.session.Session) -> None:
        def create() -> botocore.loaders.Loader:
            path = self.get_config_variable("data_path")
            if path not in loaders:
                loaders[path] = botocore.loaders.create_loader(path)
            return loaders[path]
        self._components.lazy_register_component("data_loader", create)

    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session.Session, "_register_data_loader", register)
    yield
    patch.undo()


@pytest.fixture
def repo_config(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point notifyctl at the repository's config/notifyctl.yaml."""
    path = REPO / "config" / "notifyctl.yaml"
    monkeypatch.setenv("NOTIFYCTL_CONFIG", str(path))
    return path


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        """The `--output json` document of a command that must have succeeded."""
        assert self.exit_code == 0, self.output
        return json.loads(self.stdout)


@pytest.fixture
def cli() -> object:
    """Run notifyctl in-process: `cli("config", "show")` -> CliResult.

    The invocations of one test share their AWS clients (one AwsClients per
    resolved settings), as commands in one process would; `clients=` replaces the
    factory (e.g. one that hands out failing clients)."""
    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.cli.main import run

    built: dict[tuple[AwsSettings, float | None], AwsClients] = {}

    def shared(settings: AwsSettings, *, read_timeout: float | None = None) -> AwsClients:
        key = (settings, read_timeout)
        if key not in built:
            built[key] = AwsClients(settings, read_timeout=read_timeout)
        return built[key]

    def invoke(*args: str, clients: Callable[..., Any] | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = run(list(args), clients=clients or shared)
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke


_SESV2_INSTALLED = False


def install_sesv2() -> None:
    """The emulator's SESv2 operations moto lacks (GetAccount, the account's
    suppression attributes and list, configuration-set options and event
    destinations): bootstrap reconciles them, so the functional tier needs them too.
    The SES account state lives in emulator/ses_account.py: reset per test."""
    global _SESV2_INSTALLED
    from notifyctl.emulator import ses_account
    from notifyctl.emulator.patches import sesv2

    if not _SESV2_INSTALLED:
        sesv2.apply()
        _SESV2_INSTALLED = True
    ses_account._accounts.clear()


@pytest.fixture
def moto_aws() -> Iterator[None]:
    """moto in-process for the duration of the test, with the emulator's CodeDeploy
    resource operations moto lacks (UpdateDeploymentGroup, Delete*) and its SESv2
    account and configuration-set operations."""
    from moto import mock_aws

    from notifyctl.emulator.patches.codedeploy import install_resources

    install_resources()
    install_sesv2()

    with mock_aws():
        yield


@pytest.fixture
def aws_clients(moto_aws: None) -> object:
    """An AwsClients backed by moto in-process (no endpoint)."""
    from notifyctl.aws.session import AwsClients, AwsSettings

    return AwsClients(AwsSettings(None, "us-east-1", None, False, False))


def pytest_report_header() -> str:
    return f"notifyctl tests on Python {sys.version.split()[0]}"


PIPELINE_CONFIG = """\
project: books
defaults:
  profile: null
  region: us-east-1
  endpoint_url: null
  prefix: %(prefix)s
  sender: notifications@example.com
  sending_domain: null
  link_base_url: https://books.example.com/books/
  link_allowed_hosts: [books.example.com]
  allow_http_links: false
  function: {runtime: python3.12, memory_mb: %(memory)d, timeout_s: 30,
             log_retention_days: %(retention)d, log_level: INFO}
  dedup: {retention_hours: 168, point_in_time_recovery: %(pitr)s,
          deletion_protection: %(protect)s}
environments:
  dev: {}
  other: {}
  mail:
    prefix: %(prefix)s-mail
    sender: notifications@books.example.com
    sending_domain: books.example.com
"""


@pytest.fixture
def pipeline_config(tmp_path: Path) -> Callable[..., str]:
    """A config file for the AWS-facing tests: `pipeline_config("t-books", memory=512)`
    -> its path. Environments: dev, other (same prefix, another env tag) and mail
    (a sending domain)."""
    def write(prefix: str, *, memory: int = 256, retention: int = 30, pitr: bool = True,
              protect: bool = False, name: str | None = None) -> str:
        path = tmp_path / (name or f"{prefix}-{memory}-{retention}-{pitr}-{protect}.yaml")
        path.write_text(PIPELINE_CONFIG % {"prefix": prefix, "memory": memory,
                                           "retention": retention,
                                           "pitr": "true" if pitr else "false",
                                           "protect": "true" if protect else "false"},
                        encoding="utf-8")
        return str(path)
    return write

