"""The lines Lambda's platform writes to a function's log stream, in AWS's words.

Text format (the default):

    INIT_START Runtime Version: python:3.12.v..  Runtime Version ARN: arn:...
    START RequestId: <id> Version: <v>
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: ..  Billed Duration: ..  Memory Size: ..  Max Memory Used: ..
           [Init Duration: ..]  [Status: timeout|error]

LoggingConfig LogFormat=JSON: the same events as JSON objects
(`{"time", "type": "platform.start", "record": {...}}`), written only when the
SystemLogLevel lets INFO through (the platform's events are INFO).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifyctl.emulator.runtime.interpreters import Interpreter
    from notifyctl.emulator.runtime.pool import FunctionSpec


def now_ms() -> int:
    return int(time.time() * 1000)


def iso_ms(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000)) + \
        f".{epoch_ms % 1000:03d}Z"


def _json_event(kind: str, record: dict[str, Any], at_ms: int | None = None) -> str:
    return json.dumps({"time": iso_ms(at_ms if at_ms is not None else now_ms()),
                       "type": f"platform.{kind}", "record": record}) + "\n"


def _system_info(spec: FunctionSpec) -> bool:
    """Whether the platform's INFO events are written (SystemLogLevel DEBUG or INFO)."""
    return (spec.logging.system_level or "INFO").upper() in ("DEBUG", "INFO")


def init_start_line(spec: FunctionSpec, interpreter: Interpreter) -> str:
    """INIT_START, saying loudly when the runtime's Python is not the one named."""
    version = f"python:{interpreter.version[0]}.{interpreter.version[1]}.emulator"
    arn = f"arn:aws:lambda:{spec.region}::runtime:notifyctl-emulator"
    note = interpreter.note
    if spec.logging.log_format == "JSON":
        record: dict[str, Any] = {"initializationType": "on-demand", "phase": "init",
                                  "runtimeVersion": version, "runtimeVersionArn": arn}
        if note:
            record["emulatorWarning"] = note
        return _json_event("initStart", record) if _system_info(spec) or note else ""
    line = f"INIT_START Runtime Version: {version}\tRuntime Version ARN: {arn}"
    if note:
        line += f"\tWARNING: {note}"
    return line + "\n"


@dataclass(frozen=True)
class Report:
    """One invocation's REPORT figures."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None
    status: str | None = None  # "timeout" | "error"
    error_type: str | None = None


def start_line(spec: FunctionSpec, request_id: str, at_ms: int) -> str:
    if spec.logging.log_format == "JSON":
        return _json_event("start", {"requestId": request_id, "version": spec.version}, at_ms) \
            if _system_info(spec) else ""
    return f"START RequestId: {request_id} Version: {spec.version}\n"


def end_and_report_lines(spec: FunctionSpec, report: Report, at_ms: int) -> list[str]:
    billed = max(math.ceil(report.duration_ms), 1)
    if spec.logging.log_format == "JSON":
        if not _system_info(spec):
            return []
        metrics: dict[str, Any] = {"durationMs": round(report.duration_ms, 2),
                                   "billedDurationMs": billed,
                                   "memorySizeMB": report.memory_size_mb,
                                   "maxMemoryUsedMB": report.max_memory_used_mb}
        if report.init_ms is not None:
            metrics["initDurationMs"] = round(report.init_ms, 2)
        record: dict[str, Any] = {"requestId": report.request_id, "metrics": metrics,
                                  "status": report.status or "success"}
        if report.error_type:
            record["errorType"] = report.error_type
        return [_json_event("report", record, at_ms)]
    text = (f"REPORT RequestId: {report.request_id}\tDuration: {report.duration_ms:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {report.memory_size_mb} MB\t"
            f"Max Memory Used: {report.max_memory_used_mb} MB\t")
    if report.init_ms is not None:
        text += f"Init Duration: {report.init_ms:.2f} ms\t"
    if report.status:
        text += f"Status: {report.status}\t"
    return [f"END RequestId: {report.request_id}\n", text + "\n"]


def timeout_message(request_id: str, timeout_s: int) -> str:
    return f"{iso_ms(now_ms())} {request_id} Task timed out after {timeout_s:.2f} seconds"


def exit_message(request_id: str, exit_text: str) -> str:
    return f"RequestId: {request_id} Error: Runtime exited with error: {exit_text}"
