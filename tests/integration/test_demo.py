"""`notifyctl demo` as a newcomer runs it: a separate process, from a directory with
no config (the packaged default applies), its own private emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def run_demo(cwd: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", **extra_env)
    return subprocess.run([sys.executable, "-m", "notifyctl", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=110)


def test_demo_delivers_one_email_and_skips_the_redelivery(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "demo", "--email", "newcomer@example.com")

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "To:      newcomer@example.com" in out
    assert "Subject: New book: The Left Hand of Darkness" in out
    assert "email sent" in out and "duplicate delivery skipped" in out
    # The record's column width follows its longest field, which depends on whether SES's
    # Delivery event has already reached the feedback function when the demo reads it.
    assert re.search(r"^\s+status\s+SENT$", out, re.MULTILINE), out
    assert "same MessageId again → duplicate; 1 email(s) in the outbox" in out
    assert "Traceback" not in result.stderr


def test_demo_json_report_holds_every_step_and_the_email(tmp_path: Path) -> None:
    # A profile this machine does not have must not matter: the demo never uses AWS.
    result = run_demo(tmp_path, "--output", "json", "demo", AWS_PROFILE="no-such-profile")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert [s["step"] for s in report["steps"]] == [
        "start emulator", "bootstrap", "deploy", "publish + deliver", "read outbox",
        "read logs", "read de-dup record", "redeliver same message"]
    assert report["email"]["to"] == ["reader@example.com"]
    assert report["book_id"] in report["email"]["html"]
    assert report["dedup_record"]["message_id"] == report["message_id"]
    assert report["dedup_record"]["pk"] == "event:" + report["dedup_record"]["event_id"]
    assert report["dedup_record"]["status"] == "SENT"
    assert report["redelivery_outcome"] == "duplicate"
    assert report["emails_after_redelivery"] == 1
    outcomes = [block["outcome"] for block in report["logs"]]
    assert outcomes == ["sent", "duplicate"]


def test_demo_refuses_a_bad_recipient_before_starting_anything(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "demo", "--email", "not-an-address")

    assert result.returncode == 2
    assert "--email" in result.stderr
    assert "start emulator" not in result.stdout


def test_demo_canary_catches_the_broken_build_and_loses_no_email(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--output", "json", "demo", "--canary")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    canary = report["canary"]
    assert canary["ok"] is True
    assert canary["deployment"]["status"] in ("Failed", "Stopped")
    assert canary["live_before"] == canary["live_after"]
    assert canary["delivered"] == canary["emails"] == len(canary["published"]) == 3
    assert "broken for real events" in canary["reason"]
    assert report["steps"][-1]["step"] == "canary: broken build"
