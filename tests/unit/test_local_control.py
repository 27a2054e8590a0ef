"""Issue 14: emulator options checked before anything starts; `local status` patient
with a slow emulator; the outbox paged and filtered."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClock

from notifyctl.emulator import control
from notifyctl.emulator.outbox import AcceptedEmail, select
from notifyctl.errors import UsageError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("port", "scale", "message"), [
    (70000, None, "--port: expected 0 to 65535 (0: any free port), got 70000"),
    (-1, None, "--port: expected 0 to 65535 (0: any free port), got -1"),
    (4566, -1.0, "--time-scale: expected a number > 0 (1 = AWS's real delays), got -1"),
    (4566, 0.0, "--time-scale: expected a number > 0 (1 = AWS's real delays), got 0"),
])
def test_bad_start_options_are_usage_errors_before_anything_starts(
        tmp_path: Path, port: int, scale: float | None, message: str) -> None:
    with pytest.raises(UsageError) as err:
        control.start("127.0.0.1", port, state_dir=tmp_path, time_scale=scale)
    assert str(err.value) == message
    assert not any(tmp_path.iterdir())  # nothing launched, nothing written


@pytest.mark.parametrize("args", [["local", "start", "--port", "70000"],
                                  ["local", "start", "--time-scale", "-1"],
                                  ["local", "start", "--retry-scale", "0"],
                                  ["local", "status", "--port", "0"]])
def test_bad_local_options_exit_2(cli: Any, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "bug" not in result.output


@pytest.mark.parametrize("command", ["status", "stop", "outbox"])
def test_port_help_says_which_emulator_it_talks_to(cli: Any, command: str) -> None:
    text = " ".join(cli("local", command, "--help").stdout.split())
    assert "Port to listen on" not in text
    assert "Port of the running emulator to talk to" in text


def _record(tmp_path: Path, pid: int, port: int) -> None:
    root = tmp_path / "notifyctl"
    root.mkdir(exist_ok=True)
    info = control.EmulatorInfo(endpoint=f"http://127.0.0.1:{port}", pid=pid, host="127.0.0.1",
                                port=port, log_file=None, state_dir=None, started_at=0.0)
    (root / f"emulator-{port}.json").write_text(json.dumps(info.to_dict()))


def test_status_asks_again_when_the_answer_is_slow(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    clock = FakeClock()
    answers: list[Any] = [TimeoutError("timed out"), TimeoutError("timed out"),
                          {"service": control.SERVICE, "pid": 42, "uptime_s": 3}]

    def get_json(url: str, timeout: float) -> Any:
        clock.sleep(timeout)  # each slow attempt spends its whole timeout
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(control, "_get_json", get_json)
    st = control.status("127.0.0.1", 4999, tmp_path, timeout=15, sleep=clock.sleep, clock=clock)
    assert st.running and st.answering and st.details["pid"] == 42


def test_a_live_emulator_that_never_answers_is_not_called_stopped(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clock = FakeClock()

    def get_json(url: str, timeout: float) -> Any:
        clock.sleep(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(control, "_get_json", get_json)
    monkeypatch.setattr(control, "_alive", lambda pid: True)
    monkeypatch.setattr(control, "_is_emulator_pid", lambda pid: True)
    _record(tmp_path, 4242, 4998)
    st = control.status("127.0.0.1", 4998, tmp_path / "notifyctl", timeout=15,
                        sleep=clock.sleep, clock=clock)
    assert st.running and not st.answering and st.info is not None and st.info.pid == 4242


def test_status_of_a_closed_port_is_not_running_at_once(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    st = control.status("127.0.0.1", port, tmp_path, sleep=clock.sleep, clock=clock)
    assert not st.running and clock.sleeps == []


def _email(i: int, to: str = "a@example.com", minute: int = 0) -> AcceptedEmail:
    return AcceptedEmail(message_id=f"ses-{i}", sender="n@example.com", to=[to], subject=f"s{i}",
                 text=f"Book {i} is now available.\n\nBook id: book-{i}\n", html=None,
                 time=f"2026-11-28T10:{minute:02d}:00Z")


def test_outbox_shows_the_newest_page_and_says_how_many() -> None:
    page = select([_email(i) for i in range(50)], limit=20)
    assert [e.message_id for e in page.emails] == [f"ses-{i}" for i in range(30, 50)]
    assert (page.total, page.matched) == (50, 50)
    assert page.to_dict()["emails"][0]["book_id"] == "book-30"


def test_outbox_filters_by_time_and_recipient() -> None:
    emails = [_email(0, minute=1), _email(1, "B@example.com", minute=5), _email(2, minute=9)]
    since = int(AcceptedEmail.time_ms.fget(emails[1]) or 0)  # type: ignore[attr-defined]
    page = select(emails, since_ms=since, to="b@example.com", limit=None)
    assert [e.message_id for e in page.emails] == ["ses-1"]
    assert (page.total, page.matched) == (3, 1)
