"""Safe releases on the emulator: `deploy-lambda --strategy canary...` through CodeDeploy.

Each test bootstraps its own environment (its own prefix, lifecycle hooks included) on
this module's emulator, which runs at the emulator's default time scale, 1/100: the
session's 1/1000 would give a lifecycle hook 3.6 s (CodeDeploy's hour), less than two
cold starts on a loaded machine. Here a 5-minute canary lasts 3 s, a hook may take 36 s,
a 60-second alarm period is 0.6 s.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_configs import emulator_config

from notifyctl.emulator import control
from tests.integration.conftest import Emulator
from tests.release_helpers import change_one_line, source_tree

pytestmark = pytest.mark.integration
TIME_SCALE = 0.01


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    root = tmp_path_factory.mktemp("release-emulator")
    port = control.free_port()
    info = control.start("127.0.0.1", port, state_dir=root, time_scale=TIME_SCALE)
    try:
        yield Emulator(endpoint=info.endpoint, info=info,
                       state_dir=Path(info.state_dir or root))
    finally:
        control.stop("127.0.0.1", port, state_dir=root)


# Appended to handler.py: imports fine, raises for every real (SNS) event.
BROKEN_FOR_REAL_EVENTS = '''

_working_handler = handler


def handler(event, context):
    if event.get("Records"):
        raise RuntimeError("broken build: fails on real events")
    return _working_handler(event, context)
'''

# Appended to handler.py: passes the smoke test (its message ids start with
# notifyctl-smoke-), fails for the real traffic that follows.
BROKEN_UNDER_TRAFFIC = '''

_working_handler = handler


def handler(event, context):
    for record in event.get("Records", []):
        if not record["Sns"]["MessageId"].startswith("notifyctl-smoke-"):
            raise RuntimeError("broken build: fails under real traffic")
    return _working_handler(event, context)
'''

RECIPIENT = "success@simulator.amazonses.com"
EVENTS = Path(__file__).resolve().parents[1] / "events"


class Release:
    def __init__(self, cli: Any, emulator: Any, tmp_path: Path) -> None:
        self.emulator = emulator
        self.prefix = f"rl-{uuid.uuid4().hex[:8]}"
        self.config = tmp_path / "notifyctl.yaml"
        self.config.write_text(emulator_config(emulator.endpoint, self.prefix, canary=True),
                               encoding="utf-8")
        self._cli = cli
        self.src = source_tree(tmp_path / "checkout")
        from notifyctl.config import load

        self.env = load(str(self.config), "local")[0]

    def run(self, *args: str) -> Any:
        return self._cli("--config", str(self.config), "--env", "local", *args)

    def live(self) -> str:
        return str(self.emulator.client("lambda").get_alias(
            FunctionName=self.env.function_name, Name="live")["FunctionVersion"])

    def deploy(self, *args: str) -> Any:
        return self.run("--output", "json", "deploy-lambda", "--source", str(self.src), *args)

    def publish(self, title: str) -> str:
        message = {"book_id": f"b-{uuid.uuid4().hex[:6]}", "email": RECIPIENT,
                   "link": "http://localhost:8000/books/b-1", "title": title}
        topic = (f"arn:aws:sns:us-east-1:123456789012:{self.env.topic_name}")
        got = self.emulator.client("sns").publish(
            TopicArn=topic, Message=json.dumps(message),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "book_created"},
                               "schema_version": {"DataType": "Number", "StringValue": "1"}})
        return str(got["MessageId"])

    def record_status(self, message_id: str) -> str | None:
        got = self.emulator.client("dynamodb").get_item(
            TableName=self.env.table_name, Key={"pk": {"S": message_id}}, ConsistentRead=True)
        return (got.get("Item") or {}).get("status", {}).get("S")


@pytest.fixture
def release(cli: Any, emulator: Any, tmp_path: Path) -> Release:
    r = Release(cli, emulator, tmp_path)
    boot = r.run("bootstrap")
    assert boot.exit_code == 0, boot.output
    assert r.live() == "1"
    return r


def test_a_good_canary_release_moves_live_and_exits_zero(release: Release) -> None:
    change_one_line(release.src, "release-2")
    result = release.deploy("--strategy", "canary10-5m")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == "2"
    deployment = data["deployment"]
    assert deployment["status"] == "Succeeded"
    assert deployment["config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert (deployment["current_version"], deployment["target_version"]) == ("1", "2")
    assert [a["name"] for a in deployment["alarms"]] == list(release.env.alarm_names)
    assert deployment["hooks"] == [{"name": "BeforeAllowTraffic", "status": "Succeeded"},
                                   {"name": "AfterAllowTraffic", "status": "Succeeded"}]
    assert release.live() == "2"
    # the release shows in the group's history; rollback afterwards goes back to 1
    listed = release.run("--output", "json", "deployments", "list")
    assert listed.exit_code == 0, listed.output
    assert [d["deployment_id"] for d in json.loads(listed.stdout)] == [
        deployment["deployment_id"]]
    assert release.run("rollback").exit_code == 0
    assert release.live() == "1"


def test_a_build_failing_under_traffic_is_stopped_by_the_alarm_and_rolled_back(
        release: Release) -> None:
    with (release.src / "book_notifier" / "handler.py").open("a") as fh:
        fh.write(BROKEN_UNDER_TRAFFIC)
    published: list[str] = []
    stop = threading.Event()
    sync_event = json.loads((EVENTS / "sns_book_created.json").read_text())
    lam = release.emulator.client("lambda")

    def traffic() -> None:
        # Real events published to the topic (delivered asynchronously, retried), and
        # direct invocations of the alias: the emulator's async deliveries are slow on
        # a loaded machine, the synchronous ones make the canary's traffic.
        while not stop.is_set():
            if len(published) < 10:
                published.append(release.publish(f"during the canary {len(published)}"))
            record = sync_event["Records"][0]["Sns"]
            record["MessageId"] = str(uuid.uuid4())
            record["Message"] = json.dumps({"book_id": "b-1", "email": RECIPIENT,
                                            "link": "http://localhost:8000/books/b-1",
                                            "title": "direct"})
            lam.invoke(FunctionName=f"{release.env.function_name}:live",
                       Payload=json.dumps(sync_event).encode())

    sender = threading.Thread(target=traffic, daemon=True)
    sender.start()
    try:
        result = release.deploy("--strategy", "canary10-5m")
    finally:
        stop.set()
        sender.join(timeout=10)
    assert result.exit_code == 1, result.output
    assert "ALARM" in result.stderr or "alarm" in result.stderr, result.stderr
    assert release.env.alarm_names[0] in result.stderr
    assert "stays at version 1" in result.stderr
    data = json.loads(result.stdout)
    assert data["deployment"]["status"] == "Stopped"
    assert data["deployment"]["error"]["code"] == "ALARM_ACTIVE"
    # the smoke test passed: the alarm, not the hook, caught it
    assert {"name": "BeforeAllowTraffic", "status": "Succeeded"} in data["deployment"]["hooks"]
    assert release.live() == "1"
    # every event published during the canary is delivered, once (the retries
    # reach version 1 after the rollback; the de-dup record is SENT)
    assert published
    release.emulator.wait_until(
        lambda: all(release.record_status(m) == "SENT" for m in published), timeout=30,
        what="every event published during the canary to be SENT")
    from notifyctl.emulator import outbox

    titles = [e.subject for e in outbox.read(release.emulator.endpoint)
              if "during the canary" in (e.subject or "")]
    assert len(titles) == len(published) == len(set(titles)), titles


def test_a_build_failing_on_real_events_is_caught_by_the_hook(release: Release) -> None:
    with (release.src / "book_notifier" / "handler.py").open("a") as fh:
        fh.write(BROKEN_FOR_REAL_EVENTS)
    result = release.deploy("--strategy", "canary10-5m")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)["deployment"]
    assert data["status"] == "Failed"
    assert data["error"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert {"name": "BeforeAllowTraffic", "status": "Failed"} in data["hooks"]
    assert "BeforeAllowTraffic" in result.stderr
    # the hook's own log line says why
    assert "broken build: fails on real events" in result.stderr, result.stderr
    assert "stays at version 1" in result.stderr
    assert release.live() == "1"
    assert data["traffic"][1]["invocations"] == 0  # no user traffic reached version 2


def test_detach_then_watch_and_show(release: Release) -> None:
    from notifyctl.release import deployments, watch
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build

    change_one_line(release.src, "release-2")
    clients = release.emulator.aws_clients()
    env = release.env
    started = deploy(clients.client("lambda"), env.function_name, env.alias_name,
                     build(release.src), desired_function_config(env),
                     deployment=deployments.target_for(
                         env, "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                         clients.client("lambda")),
                     codedeploy=clients.client("codedeploy"))
    assert started.deployment_id and not started.alias_moved

    def ctrl_c(_snapshot: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(watch.Detached) as detached:
        watch.follow(watch.Watcher(clients.client, started.deployment_id,
                                   time_scale=TIME_SCALE), ctrl_c)
    assert f"notifyctl deployments watch {started.deployment_id}" in (
        detached.value.hint or "")
    assert detached.value.exit_code == 130

    shown = release.run("--output", "json", "deployments", "show", started.deployment_id)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["target_version"] == "2"

    watched = release.run("--output", "json", "deployments", "watch", started.deployment_id)
    assert watched.exit_code == 0, watched.output
    assert json.loads(watched.stdout)["status"] == "Succeeded"
    assert release.live() == "2"


def test_rollback_during_a_release_stops_it_with_rollback(release: Release) -> None:
    from notifyctl.release import deployments
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build

    change_one_line(release.src, "release-2")
    clients = release.emulator.aws_clients()
    env = release.env
    started = deploy(clients.client("lambda"), env.function_name, env.alias_name,
                     build(release.src), desired_function_config(env),
                     deployment=deployments.target_for(
                         env, "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"),
                     codedeploy=clients.client("codedeploy"))
    result = release.run("--output", "json", "rollback")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stopped_deployment"] == started.deployment_id
    assert data["deployment"]["status"] == "Stopped"
    assert release.live() == "1"
