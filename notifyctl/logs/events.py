"""A typed view of one CloudWatch log event, and of what the Lambda platform writes.

Platform lines are AWS's exact formats:
  START RequestId: <id> Version: <v>
  END RequestId: <id>
  REPORT RequestId: <id>\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t
         Max Memory Used: 70 MB[\tInit Duration: 200.00 ms][\tStatus: timeout|error ...]
  INIT_START Runtime Version: python:3.11.v29\tRuntime Version ARN: ...
  INIT_REPORT Init Duration: ... Phase: init\tStatus: error\tError Type: ...
  <iso ts> <id> Task timed out after 3.00 seconds
  RequestId: <id> Error: Runtime exited with error: signal: killed
  [ERROR] Runtime.ImportModuleError: ...          (the Python runtime, init failures)
  [ERROR]\t<iso ts>\t<id>\t<message>               (the Python runtime's log format)
The function itself writes one JSON object per line (level, message, request_id, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Kinds of line.
START, END, REPORT, INIT_START, INIT_REPORT = "start", "end", "report", "init_start", "init_report"
TIMEOUT, RUNTIME_ERROR, JSON, TEXT = "timeout", "runtime_error", "json", "text"
PLATFORM_KINDS = frozenset({START, END, REPORT, INIT_START, INIT_REPORT})
# Platform lines hidden by default (REPORT is summarised instead; errors always shown).
QUIET_KINDS = frozenset({START, END, INIT_START})

_START_RE = re.compile(r"^START RequestId: (\S+)(?: Version: (\S+))?")
_END_RE = re.compile(r"^END RequestId: (\S+)")
_REPORT_ID_RE = re.compile(r"^REPORT RequestId: (\S+)")
_REPORT_FIELD_RE = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|"
                              r"Init Duration|Restore Duration|Status|Error Type): ([^\t\n]+?)"
                              r"(?: (?:ms|MB))?(?=\t|\n|$)")
_TIMEOUT_RE = re.compile(r"^\S+ ([0-9a-fA-F-]{8,}) (Task timed out after [\d.]+ seconds)")
_RUNTIME_EXIT_RE = re.compile(r"^RequestId: (\S+) Error: (.*)", re.DOTALL)
_PY_LOG_RE = re.compile(r"^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]\t(\S+)\t(\S+)\t(.*)",
                        re.DOTALL)
_PY_ERROR_RE = re.compile(r"^\[ERROR\] (\S+?(?:Error|Exception|Exit|Timeout)\S*): (.*)",
                          re.DOTALL)
_STREAM_VERSION_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[([^\]]+)\]")
_UUID_LIKE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}$")

REQUEST_ID_KEYS = ("request_id", "requestId", "aws_request_id", "function_request_id")
LEVEL_KEYS = ("level", "levelname", "log_level")


# Report and Parsed are NamedTuples, not frozen dataclasses: one of each is built per
# line, and a frozen dataclass's __init__ (object.__setattr__ per field) cost ~5 µs of
# the ~40 µs a 10,000-event read spends per event; a NamedTuple is as immutable and
# hashable (LogEvent's default `_TEXT` is shared) at a fifth of the cost.
class Report(NamedTuple):
    """The figures of a REPORT line."""

    duration_ms: float | None = None
    billed_ms: float | None = None
    memory_mb: int | None = None
    max_memory_mb: int | None = None
    init_ms: float | None = None
    status: str | None = None       # "timeout", "error" on newer runtimes
    error_type: str | None = None


class Parsed(NamedTuple):
    kind: str
    request_id: str | None = None
    level: str | None = None
    version: str | None = None       # from START
    data: dict[str, Any] | None = None  # a JSON line's object
    report: Report | None = None
    detail: str | None = None        # timeout/runtime error text

    @property
    def is_platform(self) -> bool:
        return self.kind in PLATFORM_KINDS

    @property
    def is_error(self) -> bool:
        if self.kind in (TIMEOUT, RUNTIME_ERROR):
            return True
        if self.report is not None and self.report.status not in (None, "success"):
            return True
        return self.level in ("ERROR", "CRITICAL", "FATAL")


_TEXT = Parsed(TEXT)


def _num(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _report(text: str) -> Report:
    found = dict(_REPORT_FIELD_RE.findall(text))
    mem, max_mem = _num(found.get("Memory Size")), _num(found.get("Max Memory Used"))
    return Report(
        duration_ms=_num(found.get("Duration")),
        billed_ms=_num(found.get("Billed Duration")),
        memory_mb=int(mem) if mem is not None else None,
        max_memory_mb=int(max_mem) if max_mem is not None else None,
        init_ms=_num(found.get("Init Duration")),
        status=found.get("Status"),
        error_type=found.get("Error Type"),
    )


# json.loads without its per-call wrapping (a third of its time on a short line):
# the message is stripped and starts with "{", so only trailing data can be left over.
_raw_decode = json.JSONDecoder().raw_decode


def _from_json(message: str) -> Parsed | None:
    try:
        data, end = _raw_decode(message)
    except ValueError:
        return None
    if end != len(message) or not isinstance(data, dict):
        return None  # "{...} trailing text" is not a JSON line (json.loads refuses it too)
    request_id = level = None
    for key in REQUEST_ID_KEYS:
        if data.get(key):
            request_id = str(data[key])
            break
    for key in LEVEL_KEYS:
        if data.get(key):
            level = str(data[key]).upper()
            break
    if data.get("errorType") and data.get("errorMessage") is not None:
        # The runtime's report of an unhandled exception.
        return Parsed(RUNTIME_ERROR, request_id, "ERROR", data=data,
                      detail=f"{data['errorType']}: {data['errorMessage']}")
    return Parsed(JSON, request_id, level, data=data)


def parse_message(message: str) -> Parsed:
    """Classify one log line. Cheap first-character dispatch: this runs per event."""
    if not message:
        return _TEXT
    first = message[0]
    if first == "{":
        return _from_json(message.rstrip()) or _TEXT
    if first == "S" and message.startswith("START RequestId:"):
        m = _START_RE.match(message)
        if m:
            return Parsed(START, m.group(1), version=m.group(2))
    elif first == "E" and message.startswith("END RequestId:"):
        m = _END_RE.match(message)
        if m:
            return Parsed(END, m.group(1))
    elif first == "R":
        if message.startswith("REPORT RequestId:"):
            m = _REPORT_ID_RE.match(message)
            if m:
                report = _report(message)
                level = "ERROR" if report.status not in (None, "success") else None
                return Parsed(REPORT, m.group(1), level, report=report)
        m = _RUNTIME_EXIT_RE.match(message)
        if m:
            return Parsed(RUNTIME_ERROR, m.group(1), "ERROR", detail=m.group(2).strip())
    elif first == "I":
        if message.startswith("INIT_START"):
            return Parsed(INIT_START)
        if message.startswith("INIT_REPORT"):
            report = _report(message.replace("INIT_REPORT Init Duration", "Init Duration", 1))
            level = "ERROR" if report.status not in (None, "success") else None
            return Parsed(INIT_REPORT, level=level, report=report)
    elif first == "[":
        m = _PY_LOG_RE.match(message)
        if m:
            level = "WARNING" if m.group(1) == "WARN" else m.group(1)
            rid = m.group(3) if _UUID_LIKE.match(m.group(3)) else None
            return Parsed(TEXT, rid, level)
        m = _PY_ERROR_RE.match(message)
        if m:
            return Parsed(RUNTIME_ERROR, None, "ERROR", detail=f"{m.group(1)}: {m.group(2)}".strip())
    elif first.isdigit() and "Task timed out" in message:
        m = _TIMEOUT_RE.match(message)
        if m:
            return Parsed(TIMEOUT, m.group(1), "ERROR", detail=m.group(2))
    return _TEXT


def stream_version(stream: str) -> str | None:
    """`2026/11/28/[3]abcd...` -> "3"; `[$LATEST]` -> "$LATEST"; None otherwise."""
    m = _STREAM_VERSION_RE.match(stream)
    return m.group(1) if m else None


@dataclass(slots=True)
class LogEvent:
    """One event as FilterLogEvents returns it, with its line parsed once."""

    timestamp: int
    message: str
    group: str
    stream: str
    event_id: str
    ingestion_time: int | None = None
    parsed: Parsed = field(default=_TEXT)

    @classmethod
    def from_api(cls, group: str, raw: dict[str, Any]) -> LogEvent:
        message = raw.get("message", "")
        if message and message[-1] in "\n\t\r ":  # REPORT lines end with "\t\n"
            message = message.rstrip()
        return cls(int(raw.get("timestamp", 0)), message, group, raw.get("logStreamName", ""),
                   str(raw.get("eventId", "")), raw.get("ingestionTime"), parse_message(message))

    @property
    def key(self) -> tuple[str, str]:
        """Identity for de-duplication across polls."""
        return (self.group, self.event_id)

    @property
    def version(self) -> str | None:
        return stream_version(self.stream)

    @property
    def request_id(self) -> str | None:
        return self.parsed.request_id
