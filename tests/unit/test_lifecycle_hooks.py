"""book_notifier.hooks with fake clients: what makes a smoke test pass or fail."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from book_notifier import hooks

APPSPEC = ('version: 0.0\nResources:\n  - BooksNotifier:\n      Type: AWS::Lambda::Function\n'
           '      Properties:\n        Name: "books-notifier"\n        Alias: "live"\n'
           '        CurrentVersion: "3"\n        TargetVersion: "4"\n')


class FakeLambda:
    def __init__(self, *, error: str | None = None, tail: str = "") -> None:
        self.error, self.tail = error, tail
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(kw)
        got: dict[str, Any] = {"LogResult": base64.b64encode(self.tail.encode()).decode(),
                               "Payload": io.BytesIO(b'{"errorMessage": "boom"}')}
        if self.error:
            got["FunctionError"] = self.error
        return got


class FakeTable:
    def __init__(self, status: str | None) -> None:
        self.status = status

    def get_item(self, **kw: Any) -> dict[str, Any]:
        return {"Item": {"status": {"S": self.status}}} if self.status else {}


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.reported: list[str] = []

    def get_deployment(self, deploymentId: str) -> dict[str, Any]:
        return {"deploymentInfo": {"revision": {"revisionType": "AppSpecContent",
                                                "appSpecContent": {"content": APPSPEC}}}}

    def put_lifecycle_event_hook_execution_status(self, **kw: Any) -> None:
        self.reported.append(kw["status"])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"TARGET_FUNCTION": "books-notifier", "TABLE_NAME": "books-dedup",
                       "LINK_BASE_URL": "https://books.example.com/books/",
                       "LINK_ALLOWED_HOSTS": "books.example.com",
                       "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:books"}.items():
        monkeypatch.setenv(key, value)


def install(monkeypatch: pytest.MonkeyPatch, **clients: Any) -> None:
    monkeypatch.setattr(hooks, "_clients", dict(clients))


def test_the_appspec_target_is_read_from_yaml_and_json() -> None:
    assert hooks.appspec_target(APPSPEC) == ("books-notifier", "4")
    doc = {"version": 0.0, "Resources": [{"F": {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": "fn", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}
    assert hooks.appspec_target(json.dumps(doc)) == ("fn", "2")


def test_a_version_that_sends_passes_and_only_the_simulator_is_written_to(
        env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    lam, cd = FakeLambda(tail='{"level": "INFO", "message": "email sent"}'), FakeCodeDeploy()
    install(monkeypatch, **{"lambda": lam, "dynamodb": FakeTable("SENT"), "codedeploy": cd})
    got = hooks.before_allow_traffic({"DeploymentId": "d-1",
                                      "LifecycleEventHookExecutionId": "h-1"}, None)
    assert got["status"] == "Succeeded" and cd.reported == ["Succeeded"]
    call = lam.calls[0]
    assert (call["FunctionName"], call["Qualifier"]) == ("books-notifier", "4")
    message = json.loads(json.loads(call["Payload"])["Records"][0]["Sns"]["Message"])
    assert message["email"] == hooks.SIMULATOR


@pytest.mark.parametrize(("lam", "status", "why"), [
    (FakeLambda(error="Unhandled"), "SENT", "raised"),
    (FakeLambda(tail='{"level": "ERROR", "message": "send failed"}'), "SENT", "logged an error"),
    (FakeLambda(), "FAILED", "is FAILED, not SENT"),
    (FakeLambda(), None, "is None, not SENT"),
])
def test_a_version_that_does_not_deliver_fails_the_hook(
        env: None, monkeypatch: pytest.MonkeyPatch, lam: FakeLambda, status: str | None,
        why: str) -> None:
    cd = FakeCodeDeploy()
    install(monkeypatch, **{"lambda": lam, "dynamodb": FakeTable(status), "codedeploy": cd})
    got = hooks.before_allow_traffic({"DeploymentId": "d-1",
                                      "LifecycleEventHookExecutionId": "h-1"}, None)
    assert got["status"] == "Failed" and why in got["reason"] and cd.reported == ["Failed"]


def test_the_after_hook_fails_on_errors_of_the_target_version(
        env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    class Metrics:
        def __init__(self, errors: float) -> None:
            self.errors = errors

        def get_metric_statistics(self, **kw: Any) -> dict[str, Any]:
            assert {"Name": "ExecutedVersion", "Value": "4"} in kw["Dimensions"]
            return {"Datapoints": [{"Sum": self.errors}]}

    for errors, status in ((0.0, "Succeeded"), (2.0, "Failed")):
        install(monkeypatch, cloudwatch=Metrics(errors), codedeploy=FakeCodeDeploy())
        got = hooks.after_allow_traffic({"DeploymentId": "d-1",
                                         "LifecycleEventHookExecutionId": "h-2"}, None)
        assert got["status"] == status
