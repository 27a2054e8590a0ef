"""bootstrap / status / teardown against the embedded emulator (the issue's "done when").

Uses the session fixture `emulator` (tests/integration/conftest.py). The environment
gets its own prefix so tests sharing the emulator do not collide; its endpoint is a
loopback URL, so it is a local environment: bootstrap needs no flags and no
confirmation.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from emulator_configs import emulator_config

pytestmark = pytest.mark.integration



@pytest.fixture
def run(cli: Any, emulator: Any, tmp_path: Path) -> Any:
    prefix = f"bs-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "notifyctl.yaml"
    path.write_text(emulator_config(emulator.endpoint, prefix), encoding="utf-8")

    def invoke(*args: str) -> Any:
        return cli("--config", str(path), "--env", "local", "--endpoint-url", emulator.endpoint,
                   *args)
    invoke.prefix = prefix  # type: ignore[attr-defined]
    return invoke


def test_bootstrap_status_teardown_on_a_fresh_emulator(run: Any, emulator: Any) -> None:
    first = run("bootstrap")  # local: no --yes, no confirmation
    assert first.exit_code == 0, first.output
    assert "applied 31 change(s)" in first.stderr

    second = run("--output", "json", "bootstrap")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["changed"] is False

    status = run("--output", "json", "status")
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert {r["state"] for r in report["resources"]} == {"present"}, report["resources"]
    assert report["function"]["alias_version"] == "1"

    down = run("--output", "json", "teardown", "--yes")
    assert down.exit_code == 0, down.output
    result = json.loads(down.stdout)
    assert "dynamodb-table" in [k["resource"] for k in result["kept"]]
    assert "lambda-function" in [d["resource"] for d in result["deleted"]]
    table = f"{run.prefix}-dedup"
    assert emulator.client("dynamodb").describe_table(TableName=table)["Table"]
    assert run("status").exit_code == 1
