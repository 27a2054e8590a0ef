"""Fixtures of the reliability tier (tests/reliability/reliability_harness.py has the
Pipeline helper and its docstring)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_harness import FUNCTION_TIMEOUT_S, REPO, Pipeline

from notifyctl.emulator import control, faults


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def reliability_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("reliability-emulator")
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root)  # default retry scale
    try:
        yield info
    finally:
        control.stop("127.0.0.1", port, state_dir=root)


@pytest.fixture(scope="session")
def pipeline_session(reliability_emulator: Any,
                     tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The local environment bootstrapped once on the reliability emulator."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from notifyctl.aws.session import AwsClients, AwsSettings
    from notifyctl.cli.main import run
    from notifyctl.config import load

    text = (REPO / "config" / "notifyctl.yaml").read_text(encoding="utf-8")
    text = text.replace("prefix: books-local", "prefix: books-reliab").replace(
        "timeout_s: 30", f"timeout_s: {FUNCTION_TIMEOUT_S}")
    config = tmp_path_factory.mktemp("reliability-config") / "notifyctl.yaml"
    config.write_text(text, encoding="utf-8")
    endpoint = reliability_emulator.endpoint
    base = ["--config", str(config), "--env", "local", "--endpoint-url", endpoint]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run([*base, "bootstrap", "--yes"])
    assert code == 0, out.getvalue() + err.getvalue()
    env = load(str(config), "local")[0]
    clients = AwsClients(AwsSettings(None, env.region, endpoint, True, True))
    return Pipeline(endpoint, env, clients, base)


@pytest.fixture
def pipeline(pipeline_session: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    pipeline_session.run = uuid.uuid4().hex[:8]
    faults.clear(pipeline_session.endpoint)
    yield pipeline_session
    faults.clear(pipeline_session.endpoint)
