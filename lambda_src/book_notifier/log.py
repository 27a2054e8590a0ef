"""JSON-lines logging to stdout (Lambda ships stdout to CloudWatch Logs).

One object per line with ``level``, ``message``, ``time`` and whatever fields the
caller binds (``request_id``, ``message_id``, ``book_id``, ``recipient``,
``outcome``, ``duration_ms``...). ``request_id`` is the key notifyctl's ``logs``
command groups lines by. Email addresses are logged only through :func:`redact`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from typing import IO, Any

METRIC_NAMESPACE = "BookNotifier"
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
_EMAIL_RE = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+")


def redact(email: object) -> str:
    """``jane@example.com`` -> ``j***@example.com``; anything unusable -> ``***``."""
    if not isinstance(email, str) or email.count("@") != 1:
        return "***"
    local, domain = email.split("@")
    if not local or not domain or not domain.isprintable():
        return "***"
    return f"{local[0]}***@{domain[:253]}"


def scrub(text: str) -> str:
    """Text (an AWS error message, say) with every email address redacted."""
    return _EMAIL_RE.sub(lambda m: redact(m.group(0)), text)


class JsonLogger:
    def __init__(
        self,
        level: str = "INFO",
        stream: Callable[[], IO[str]] = lambda: sys.stdout,
        clock: Callable[[], float] = time.time,
        **fields: Any,
    ) -> None:
        self.threshold = LEVELS.get(level.upper(), 20)
        self._stream = stream
        self._clock = clock
        self.fields = fields

    def bind(self, **fields: Any) -> JsonLogger:
        """A logger that adds these fields to every line."""
        child = JsonLogger("INFO", self._stream, self._clock, **{**self.fields, **fields})
        child.threshold = self.threshold
        return child

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.threshold

    def log(self, level: str, message: str, **fields: Any) -> None:
        if LEVELS[level] < self.threshold:
            return
        now = self._clock()
        line = {
            "level": level,
            "message": message,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            + f".{int(now * 1000) % 1000:03d}Z",
            **self.fields,
            **fields,
        }
        stream = self._stream()
        stream.write(json.dumps(line, default=str, ensure_ascii=False) + "\n")
        stream.flush()

    def debug(self, message: str, **fields: Any) -> None:
        self.log("DEBUG", message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        self.log("INFO", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        self.log("WARNING", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        self.log("ERROR", message, **fields)

    def metric(self, name: str, value: float = 1, **dimensions: str) -> None:
        """One CloudWatch metric as an embedded-metric-format (EMF) line: CloudWatch
        Logs extracts it from the function's log group, so counting costs no API call.
        Written whatever the level (a metric is not a diagnostic)."""
        now = self._clock()
        line = {
            "level": "INFO",
            "message": f"metric {name}",
            "_aws": {
                "Timestamp": int(now * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [sorted(dimensions)] if dimensions else [[]],
                    "Metrics": [{"Name": name, "Unit": "Count"}],
                }],
            },
            **dimensions,
            name: value,
            **{k: v for k, v in self.fields.items() if k in ("request_id", "message_id")},
        }
        stream = self._stream()
        stream.write(json.dumps(line, default=str, ensure_ascii=False) + "\n")
        stream.flush()
