"""`notifyctl local faults` and `failures` against the session's emulator, from a
directory outside the repository (the packaged default config applies)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifyctl.emulator import faults

pytestmark = pytest.mark.integration

CALLER = '''
import boto3
def handler(event, context):
    try:
        boto3.client("sqs").list_queues()
        return {"ok": True}
    except Exception as exc:
        return {"error": getattr(exc, "response", {}).get("Error", {}).get("Code", repr(exc))}
'''


@pytest.fixture
def clean(emulator: Any) -> Iterator[None]:
    faults.clear(emulator.endpoint)
    yield
    faults.clear(emulator.endpoint)


def notifyctl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFYCTL_")}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "notifyctl", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_local_faults_add_list_clear_from_outside_the_repo(
    emulator: Any, clean: None, tmp_path: Path
) -> None:
    url = ["--endpoint-url", emulator.endpoint]
    added = notifyctl(tmp_path, *url, "-o", "json", "local", "faults", "add", "sesv2",
                      "SendEmail", "--lost-response", "--count", "1")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["service"] == "ses"

    listed = notifyctl(tmp_path, *url, "local", "faults", "list")
    assert "ses SendEmail from functions: lost response (next 1 call(s)), 0 hit(s)" \
        in listed.stdout

    bad = notifyctl(tmp_path, *url, "local", "faults", "add", "ses", "SendEmail")
    assert bad.returncode == 2 and "choose exactly one" in bad.stderr

    cleared = notifyctl(tmp_path, *url, "-o", "json", "local", "faults", "clear")
    assert json.loads(cleared.stdout) == {"cleared": 1}


def test_a_fault_hits_the_functions_calls_and_spares_other_clients(
    emulator: Any, clean: None
) -> None:
    fn = emulator.create_function(CALLER, timeout=10)["FunctionName"]
    faults.add(emulator.endpoint, faults.FaultSpec.create("sqs", "ListQueues",
                                                          error="AccessDeniedException"))

    response = emulator.client("lambda").invoke(FunctionName=fn)
    assert json.loads(response["Payload"].read()) == {"error": "AccessDeniedException"}
    emulator.client("sqs").list_queues()  # notifyctl, tests, your app: untouched

    faults.clear(emulator.endpoint)
    faults.add(emulator.endpoint, faults.FaultSpec.create(
        "sqs", "ListQueues", error="AccessDeniedException", all_clients=True, count=1))
    with pytest.raises(Exception, match="AccessDeniedException"):
        emulator.client("sqs").list_queues()
    emulator.client("sqs").list_queues()  # spent


def test_failures_list_on_a_fresh_environment_is_empty(
    bootstrapped: Any, cli: Any
) -> None:
    base = bootstrapped("books-failtest")
    result = cli(*base, "-o", "json", "failures", "list")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["failures"] == []
    redrive = cli(*base, "failures", "redrive", "--all", "--yes")
    assert redrive.exit_code == 0 and "Nothing to redrive" in redrive.stdout
