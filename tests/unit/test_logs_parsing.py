"""Time arguments and the parsing of Lambda's log lines (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notifyctl.errors import EXIT_USAGE, UsageError
from notifyctl.logs import events as ev
from notifyctl.logs.events import LogEvent, parse_message, stream_version
from notifyctl.logs.timeparse import parse_time

pytestmark = pytest.mark.unit

NOW = 1_795_000_000_000
RID = "5f1c2a3e-1111-2222-3333-444455556666"


@pytest.mark.parametrize(("text", "back_ms"), [
    ("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("1d", 86_400_000),
    ("1w", 604_800_000), ("90S", 90_000), ("5m ago", 300_000), ("now", 0),
])
def test_relative_times_count_back_from_now(text: str, back_ms: int) -> None:
    assert parse_time(text, NOW) == NOW - back_ms


def test_iso_times_with_a_zone_are_exact() -> None:
    expected = int(datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp() * 1000)
    assert parse_time("2026-11-28T14:05:00Z", NOW) == expected
    assert parse_time("2026-11-28T15:05:00+01:00", NOW) == expected


def test_iso_time_without_a_zone_is_utc_with_the_utc_flag_and_local_otherwise() -> None:
    utc = parse_time("2026-11-28T14:05:00", NOW, utc=True)
    assert utc == int(datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp() * 1000)
    local = parse_time("2026-11-28 14:05:00", NOW)
    assert local == int(datetime(2026, 11, 28, 14, 5).astimezone().timestamp() * 1000)


def test_epoch_seconds_and_milliseconds_are_accepted() -> None:
    assert parse_time("1795000000", NOW) == 1_795_000_000_000
    assert parse_time("1795000000123", NOW) == 1_795_000_000_123


@pytest.mark.parametrize("bad", ["yesterday", "10 minutes", "-5m", "2026-13-01", ""])
def test_bad_time_is_a_usage_error_with_an_example(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_time(bad, NOW, option="--until")
    assert info.value.exit_code == EXIT_USAGE
    assert "--until" in info.value.message
    assert "10m" in (info.value.hint or "") and "2026-11-28T14:05:00Z" in (info.value.hint or "")


def test_start_end_and_report_lines_are_recognised() -> None:
    start = parse_message(f"START RequestId: {RID} Version: 3")
    assert (start.kind, start.request_id, start.version) == (ev.START, RID, "3")
    assert parse_message(f"END RequestId: {RID}").kind == ev.END
    report = parse_message(f"REPORT RequestId: {RID}\tDuration: 12.34 ms\tBilled Duration: 13 ms"
                           "\tMemory Size: 256 MB\tMax Memory Used: 70 MB\t"
                           "Init Duration: 200.00 ms\t\n")
    assert report.kind == ev.REPORT and report.request_id == RID
    assert report.report == ev.Report(12.34, 13.0, 256, 70, 200.0, None, None)
    assert not report.is_error


def test_report_with_timeout_status_is_an_error() -> None:
    report = parse_message(f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: "
                           "3000 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout")
    assert report.report is not None and report.report.status == "timeout"
    assert report.is_error


def test_init_lines_timeouts_and_runtime_errors() -> None:
    assert parse_message("INIT_START Runtime Version: python:3.12.v29\tRuntime Version ARN: x"
                         ).kind == ev.INIT_START
    timeout = parse_message(f"2026-11-28T14:05:03.123Z {RID} Task timed out after 3.00 seconds")
    assert (timeout.kind, timeout.request_id, timeout.is_error) == (ev.TIMEOUT, RID, True)
    exit_error = parse_message(f"RequestId: {RID} Error: Runtime exited with error: signal: killed")
    assert (exit_error.kind, exit_error.request_id) == (ev.RUNTIME_ERROR, RID)
    import_error = parse_message("[ERROR] Runtime.ImportModuleError: Unable to import module "
                                 "'book_notifier.handler': No module named 'x'")
    assert import_error.kind == ev.RUNTIME_ERROR
    unhandled = parse_message(json.dumps({"errorMessage": "boom", "errorType": "KeyError",
                                          "requestId": RID, "stackTrace": []}))
    assert (unhandled.kind, unhandled.request_id, unhandled.detail) == \
        (ev.RUNTIME_ERROR, RID, "KeyError: boom")


def test_python_runtime_log_format_gives_level_and_request_id() -> None:
    parsed = parse_message(f"[WARNING]\t2026-11-28T14:05:03.123Z\t{RID}\tslow SES call")
    assert (parsed.kind, parsed.level, parsed.request_id) == (ev.TEXT, "WARNING", RID)


def test_json_lines_give_level_request_id_and_fields() -> None:
    line = json.dumps({"level": "info", "message": "sent", "request_id": RID, "outcome": "sent"})
    parsed = parse_message(line)
    assert (parsed.kind, parsed.level, parsed.request_id) == (ev.JSON, "INFO", RID)
    assert parsed.data is not None and parsed.data["outcome"] == "sent"


@pytest.mark.parametrize("line", ["plain print output", "{not json", "[1, 2]", "",
                                  "START of something else", "REPORTING done"])
def test_anything_else_is_plain_text(line: str) -> None:
    assert parse_message(line).kind == ev.TEXT


def test_stream_version_label() -> None:
    assert stream_version("2026/11/28/[3]" + "a" * 32) == "3"
    assert stream_version("2026/11/28/[$LATEST]abc") == "$LATEST"
    assert stream_version("my-app/instance-1") is None


def test_event_from_api_strips_the_trailing_newline_and_parses_once() -> None:
    event = LogEvent.from_api("/g", {"timestamp": 5, "message": f"END RequestId: {RID}\n",
                                     "logStreamName": "2026/11/28/[7]ab", "eventId": "e1",
                                     "ingestionTime": 9})
    assert event.message == f"END RequestId: {RID}"
    assert (event.version, event.request_id, event.key) == ("7", RID, ("/g", "e1"))


def test_parsed_lines_are_immutable_values() -> None:
    """One Parsed (and Report) per line, shared defaults included: nothing may change one."""
    report_line = parse_message("REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: "
                                "13 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\t")
    text = LogEvent.from_api("g", {"timestamp": 1, "message": "plain"}).parsed
    assert text is LogEvent.from_api("g", {"timestamp": 2, "message": "other"}).parsed
    assert report_line.report == ev.Report(duration_ms=12.34, billed_ms=13.0, memory_mb=256,
                                           max_memory_mb=70)
    for value, name in ((text, "kind"), (report_line, "level"),
                        (report_line.report, "duration_ms")):
        with pytest.raises(AttributeError):
            setattr(value, name, "changed")


def test_json_output_lists_the_report_figures_it_has_in_order() -> None:
    from notifyctl.logs.render import event_dict

    event = LogEvent.from_api("g", {"timestamp": 1, "logStreamName": "s", "eventId": "e",
                                    "message": "REPORT RequestId: r-1\tDuration: 1.50 ms\t"
                                               "Memory Size: 128 MB\tStatus: timeout\t"})
    assert list(event_dict(event)["report"].items()) == [
        ("duration_ms", 1.5), ("memory_mb", 128), ("status", "timeout")]
