"""Issue 20: the emulator's state survives `local stop` / `local start` (emulator/state.py).

Each test runs its own emulator (not the session's: it is stopped and started again)
on a free port, in its own state directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifyctl.emulator import control
from tests.integration.conftest import TIME_SCALE, Emulator, boto_client

pytestmark = pytest.mark.integration

PREFIX = "persist"


@dataclass
class Restartable:
    root: Path
    port: int
    info: control.EmulatorInfo

    @property
    def endpoint(self) -> str:
        return self.info.endpoint

    def stop(self, timeout: float = 10.0) -> control.StopReport:
        report = control.stop("127.0.0.1", self.port, state_dir=self.root, timeout=timeout)
        assert report is not None
        return report

    def start(self, *, fresh: bool = False) -> None:
        self.info = control.start("127.0.0.1", self.port, state_dir=self.root,
                                  time_scale=TIME_SCALE, fresh=fresh)

    def client(self, service: str) -> Any:
        return boto_client(self.endpoint, service)  # a new one: the old connections died


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    root = tmp_path / "state"
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root, time_scale=TIME_SCALE)
    emulator = Restartable(root, port, info)
    try:
        yield emulator
    finally:
        control.stop("127.0.0.1", port, state_dir=root)


def fresh_clients(settings: Any, *, read_timeout: float | None = None) -> Any:
    """Commands after a restart get new clients (the pooled connections are gone)."""
    from notifyctl.aws.session import AwsClients

    return AwsClients(settings, read_timeout=read_timeout)


def test_a_bootstrapped_environment_survives_stop_and_start(
        cli: Any, restartable: Restartable, local_config: Any) -> None:
    config = local_config(PREFIX)

    def run(*args: str) -> Any:
        return cli("--config", config, "--env", "local", "--endpoint-url",
                   restartable.endpoint, *args, clients=fresh_clients)

    assert run("bootstrap").exit_code == 0
    published = run("-o", "json", "publish-book", "--count", "3", "--wait", "--timeout", "60")
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["wait"]["sent"] == 3
    table, function = f"{PREFIX}-dedup", f"{PREFIX}-notifier"
    before_items = sorted(i["pk"]["S"] for i in
                          restartable.client("dynamodb").scan(TableName=table)["Items"])
    before_versions = [v["Version"] for v in restartable.client("lambda").list_versions_by_function(
        FunctionName=function)["Versions"]]
    assert len(before_items) == 3

    report = restartable.stop()
    assert report.snapshot is not None and report.unfinished == 0
    restartable.start()

    status = run("-o", "json", "status")
    assert status.exit_code == 0, status.output
    resources = json.loads(status.stdout)["resources"]
    assert {r["state"] for r in resources} == {"present"}, resources
    assert sorted(i["pk"]["S"] for i in
                  restartable.client("dynamodb").scan(TableName=table)["Items"]) == before_items
    lam = restartable.client("lambda")
    assert [v["Version"] for v in lam.list_versions_by_function(
        FunctionName=function)["Versions"]] == before_versions
    alias = lam.get_alias(FunctionName=function, Name="live")
    code = lam.get_function(FunctionName=function, Qualifier=alias["FunctionVersion"])
    assert code["Code"]["Location"].startswith(restartable.endpoint)
    outbox = json.loads(run("-o", "json", "local", "outbox", "--limit", "0").stdout)
    assert outbox["total"] == 3

    # a publish after the restart is delivered, once
    again = run("-o", "json", "publish-book", "--count", "1", "--wait", "--timeout", "60")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["wait"]["sent"] == 1
    Emulator.wait_until(lambda: len(restartable.client("dynamodb").scan(
        TableName=table)["Items"]) == 4, what="the new de-dup item")
    assert json.loads(run("-o", "json", "local", "outbox", "--limit", "0").stdout)["total"] == 4
    # The notifier once, and the feedback function once for SES's Delivery event (the
    # feedback subscription filters Send out): nothing retried, nothing left queued.
    def async_stats() -> dict[str, int]:
        return dict(control.status("127.0.0.1", restartable.port,
                                   restartable.root).details["async"])
    Emulator.wait_until(lambda: async_stats()["succeeded"] >= 2, what="the feedback invocation")
    stats = async_stats()
    assert (stats["succeeded"], stats["retries"], stats["pending"]) == (2, 0, 0)


def test_fresh_starts_empty_and_reset_empties_a_running_emulator(
        restartable: Restartable) -> None:
    sqs = restartable.client("sqs")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    restartable.stop()
    restartable.start()
    got = restartable.client("sqs").receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["hello"]

    restartable.stop()
    restartable.start(fresh=True)
    assert restartable.client("sqs").list_queues().get("QueueUrls", []) == []

    restartable.client("sqs").create_queue(QueueName="gone")
    assert control.reset(restartable.endpoint)["emails"] == 0
    assert restartable.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_snapshot_from_another_version_is_refused_with_the_way_out(
        restartable: Restartable) -> None:
    from notifyctl.emulator import state
    from notifyctl.errors import OperationError

    restartable.stop()
    snapshot = Path(restartable.info.state_dir or "") / state.FILE_NAME
    header, _, rest = snapshot.read_bytes().partition(b"\n")
    doc = json.loads(header)
    doc["moto"] = "0.0.1"
    snapshot.write_bytes(json.dumps(doc).encode() + b"\n" + rest)
    with pytest.raises(OperationError, match="--fresh"):
        restartable.start()
    restartable.start(fresh=True)
    assert control.health(restartable.endpoint) is not None


def test_stop_refuses_an_emulator_of_another_state_directory(
        restartable: Restartable, tmp_path: Path) -> None:
    from notifyctl.errors import OperationError

    with pytest.raises(OperationError, match=f"pid {restartable.info.pid}"):
        control.stop("127.0.0.1", restartable.port, state_dir=tmp_path / "someone-else")
    assert control.health(restartable.endpoint) is not None


def _warm(emulator: Emulator, name: str) -> int:
    return sum(f["warm"] for f in emulator.status()["functions"] if f["name"] == name)


def test_updated_and_deleted_functions_workers_are_retired_at_once(emulator: Emulator) -> None:
    name = emulator.create_function("def handler(event, context):\n    return 1\n")["FunctionName"]
    lam = emulator.client("lambda")
    lam.invoke(FunctionName=name, Payload=b"{}")
    assert _warm(emulator, name) == 1

    lam.update_function_configuration(FunctionName=name, Timeout=5)
    assert _warm(emulator, name) == 0  # not after 15 idle minutes
    emulator.wait_for_function(name)
    lam.invoke(FunctionName=name, Payload=b"{}")
    assert _warm(emulator, name) == 1

    lam.delete_function(FunctionName=name)
    assert _warm(emulator, name) == 0
