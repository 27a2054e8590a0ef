"""Release strategies and the deployment watch, without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl.errors import UsageError
from notifyctl.release import appspec
from notifyctl.release.strategy import config_name
from notifyctl.release.watch import (
    Alarm,
    Detached,
    Hook,
    Snapshot,
    VersionTraffic,
    appspec_target,
    follow,
    outcome,
)


@pytest.mark.parametrize(("strategy", "config"), [
    ("all-at-once", None),
    ("canary10-5m", "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
    ("canary10-30m", "CodeDeployDefault.LambdaCanary10Percent30Minutes"),
    ("linear10-1m", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ("linear10-10m", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"),
    ("CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.LambdaAllAtOnce"),
    ("my-team-canary", "my-team-canary"),
])
def test_strategy_names_map_to_codedeploy_configs(strategy: str, config: str | None) -> None:
    assert config_name(strategy) == config


def test_a_short_name_codedeploy_does_not_predefine_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as err:
        config_name("canary20-5m")
    assert "canary10-5m" in err.value.message and err.value.hint


def test_the_appspec_round_trips_with_hooks() -> None:
    text = appspec.render("books-notifier", "live", "3", "4",
                          hooks={"BeforeAllowTraffic": "books-hook"})
    got = appspec_target(text)
    assert (got.function, got.alias, got.current_version, got.target_version) == (
        "books-notifier", "live", "3", "4")
    assert '- BeforeAllowTraffic: "books-hook"' in text


def snap(status: str = "InProgress", weight: float = 0.1, **kw: Any) -> Snapshot:
    return Snapshot("d-1", status, "cfg", "app", "grp", "fn", "live", "1", "2",
                    traffic=(VersionTraffic("1", 1 - weight, 0, 0),
                             VersionTraffic("2", weight, 0, 0)), **kw)


class FakeWatcher:
    deployment_id = "d-1"

    def __init__(self, snaps: list[Snapshot]) -> None:
        self.snaps = snaps

    def snapshot(self) -> Snapshot:
        return self.snaps.pop(0)


def test_follow_reports_changes_only_and_returns_the_final_snapshot() -> None:
    seen: list[Snapshot] = []
    ticks: list[Snapshot] = []
    final = follow(FakeWatcher([snap(), snap(), snap(weight=1.0),
                                snap("Succeeded", 1.0)]),  # type: ignore[arg-type]
                   seen.append, on_tick=ticks.append, sleep=lambda _: None)
    assert final.succeeded
    assert [s.weight("2") for s in seen] == [0.1, 1.0, 1.0]
    assert len(ticks) == 4


def test_ctrl_c_while_following_detaches_with_how_to_resume() -> None:
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Detached) as detached:
        follow(FakeWatcher([snap()]), lambda s: None, sleep=interrupt)  # type: ignore[arg-type]
    assert detached.value.exit_code == 130
    assert "notifyctl deployments watch d-1" in (detached.value.hint or "")
    assert detached.value.snapshot is not None


def test_a_stopped_release_names_the_alarm_and_the_version_that_stays() -> None:
    stopped = snap("Stopped", 0.0, alarms=(Alarm("errs", "ALARM"), Alarm("thr", "OK")),
                   hooks=(Hook("BeforeAllowTraffic", "Succeeded"),),
                   error_code="ALARM_ACTIVE", error_message="alarm errs fired")
    with pytest.raises(Exception) as err:
        outcome(stopped)
    assert err.value.exit_code == 1  # type: ignore[attr-defined]
    text = str(err.value)
    assert "ALARM_ACTIVE" in text and "errs" in text and "thr" not in text
    assert "stays at version 1" in text
    outcome(snap("Succeeded", 1.0))  # no error
