"""CloudWatch Logs filter patterns, on AWS's documented examples."""

from __future__ import annotations

import json

import pytest

from notifyctl.emulator.logs_filter import FilterPatternError, matches

LINES = {
    "error": "[ERROR] 2026-11-28 Exception occurred in handler",
    "warn": "[WARN] retrying after throttling",
    "info": "[INFO] sent email to r***@example.org",
    "exit": "[ERROR] Exiting after 3 attempts",
    "json_rejected": json.dumps({"level": "INFO", "outcome": "rejected", "latency": 42,
                                 "book": {"id": "b-1", "tags": ["new", "sci-fi"]},
                                 "retry": False, "reason": None}),
    "json_sent": json.dumps({"level": "INFO", "outcome": "sent", "latency": 1200}),
    "access": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" '
              '404 1534',
    "access_ok": '10.0.0.2 - alice [10/Oct/2000:13:26:00 -0700] "POST /books HTTP/1.1" 200 99',
}


def matching(pattern: str) -> list[str]:
    return sorted(name for name, line in LINES.items() if matches(pattern, line))


@pytest.mark.parametrize(("pattern", "expected"), [
    ("", sorted(LINES)),
    ("ERROR", ["error", "exit"]),
    ("ERROR Exception", ["error"]),
    ('"Exception occurred"', ["error"]),
    ("?WARN ?Exiting", ["exit", "warn"]),
    ("ERROR -Exiting", ["error"]),
    ("-ERROR", sorted(set(LINES) - {"error", "exit"})),
    ("?ERROR Exiting ?WARN", ["exit", "warn"]),  # (ERROR and Exiting) or WARN
    ("error", []),  # terms are case-sensitive
    ("404", ["access"]),  # a term starting with a digit
    ("%\\[(ERROR|WARN)\\]%", ["error", "exit", "warn"]),
])
def test_terms(pattern: str, expected: list[str]) -> None:
    assert matching(pattern) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ('{ $.outcome = "rejected" }', ["json_rejected"]),
    ("{ $.outcome = rej* }", ["json_rejected"]),
    ('{ $.outcome != "rejected" }', ["json_sent"]),
    ("{ $.latency > 1000 }", ["json_sent"]),
    ("{ $.latency <= 42 }", ["json_rejected"]),
    ('{ $.outcome = "sent" || $.latency < 50 }', ["json_rejected", "json_sent"]),
    ('{ ($.outcome = "sent" || $.latency < 50) && $.level = "INFO" }',
     ["json_rejected", "json_sent"]),
    ('{ $.outcome = "sent" && $.latency < 50 }', []),
    ('{ $.book.id = "b-1" }', ["json_rejected"]),
    ('{ $.book.tags[1] = "sci-fi" }', ["json_rejected"]),
    ("{ $.retry IS FALSE }", ["json_rejected"]),
    ("{ $.reason IS NULL }", ["json_rejected"]),
    ("{ $.book NOT EXISTS }", ["json_sent"]),
])
def test_json_patterns_match_only_json_events(pattern: str, expected: list[str]) -> None:
    assert matching(pattern) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[ip, id, user, timestamp, request, status_code, size]", ["access", "access_ok"]),
    ("[ip, id, user, timestamp, request, status_code = 404, size]", ["access"]),
    ("[ip, id, user, timestamp, request, status_code = 4*, size]", ["access"]),
    ("[ip, id, user, timestamp, request = *POST*, status_code, size]", ["access_ok"]),
    ("[..., status_code >= 400, size]", ["access"]),
    ("[ip = 10.*, ...]", ["access_ok"]),
    ("[..., status_code = 404 || status_code = 200, size > 1000]", ["access"]),
    ("[ip, id, user]", []),  # the field count must match without ...
])
def test_space_delimited_patterns(pattern: str, expected: list[str]) -> None:
    assert matching(pattern) == expected


@pytest.mark.parametrize("pattern", ['{ $.outcome = "x" ', "{ outcome = x }", "[a, , b]",
                                     "%[unclosed%", '{ $.a = "x" && }'])
def test_invalid_patterns_are_errors_not_match_all(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        matches(pattern, "anything")
