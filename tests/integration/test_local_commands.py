"""Issue 14: `local start --port 0` works, and `local status/stop/outbox` find the
emulator where every other command would (--endpoint-url, AWS_ENDPOINT_URL, config)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifyctl.emulator import control

pytestmark = pytest.mark.integration


def test_port_0_starts_on_a_free_port_and_the_endpoint_finds_it(
        cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started = cli("-o", "json", "local", "start", "--port", "0", "--time-scale", "0.001")
    assert started.exit_code == 0, started.output
    info = json.loads(started.stdout)
    try:
        assert info["port"] > 0 and info["endpoint"].endswith(f":{info['port']}")
        assert control.health(info["endpoint"]) is not None

        # `export AWS_ENDPOINT_URL=...` as `local start` says: status looks there, not at 4566
        monkeypatch.setenv("AWS_ENDPOINT_URL", info["endpoint"])
        status = json.loads(cli("-o", "json", "local", "status").stdout)
        assert status["running"] and status["pid"] == info["pid"]
        monkeypatch.delenv("AWS_ENDPOINT_URL")

        by_flag = json.loads(cli("-o", "json", "--endpoint-url", info["endpoint"],
                                 "local", "outbox").stdout)
        assert by_flag == {"total": 0, "matched": 0, "shown": 0, "emails": []}

        stopped = cli("-o", "json", "--endpoint-url", info["endpoint"], "local", "stop")
        assert json.loads(stopped.stdout)["stopped"] is True
        assert control.health(info["endpoint"]) is None
    finally:
        control.stop("127.0.0.1", info["port"])
