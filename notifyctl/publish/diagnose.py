"""Why messages are still pending when `publish-book --wait` times out.

"pending 5 (not seen 5)" alone leaves the operator guessing. The usual causes are
visible in two places, read here best-effort (a missing permission or resource
leaves that part unknown, never fails the command):

- the function's log since publishing: error lines (an init failure such as
  `[ERROR] Runtime.UserCodeSyntaxError`, an unhandled exception, a timeout);
- the failure queue (the on-failure destination): events Lambda gave up on.

Each finding comes with the command that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_MARKERS = ("[ERROR]", '"level": "ERROR"', '"level":"ERROR"', "Task timed out",
                 "Traceback (most recent call last)")
LOG_EVENTS_READ = 1000  # one page: enough to find errors, bounded on a busy function
SHOWN_ERROR_CHARS = 200


@dataclass(frozen=True)
class PendingDiagnosis:
    function_errors: int | None  # error lines in the log window (None: could not read)
    first_error: str | None
    failure_queue_depth: int | None  # None: could not read
    log_group: str
    failure_queue: str
    since: str  # for the logs command, e.g. "3m"

    @property
    def commands(self) -> list[str]:
        out = []
        if self.function_errors:
            out.append(f"notifyctl logs --since {self.since} --by-request")
        if self.failure_queue_depth:
            out.append("notifyctl status   # the failure queue's depth")
        return out

    def lines(self) -> list[str]:
        """What to tell the operator, one finding per line."""
        out = []
        if self.function_errors:
            out.append(f"the function logged {self.function_errors} error line(s) since "
                       f"publishing; the first: {self.first_error}")
        elif self.function_errors == 0:
            out.append("the function logged no error since publishing (is it subscribed, "
                       "and does it run? `notifyctl status`)")
        if self.failure_queue_depth:
            out.append(f"{self.failure_queue_depth} event(s) in the failure queue "
                       f"{self.failure_queue} (Lambda gave up on them)")
        return out + [f"see: {c}" for c in self.commands]

    def to_dict(self) -> dict[str, Any]:
        return {"function_errors": self.function_errors, "first_error": self.first_error,
                "failure_queue_depth": self.failure_queue_depth, "commands": self.commands}


def _errors(logs: Any, group: str, since_ms: int) -> tuple[int | None, str | None]:
    try:
        page = logs.filter_log_events(logGroupName=group, startTime=since_ms,
                                      limit=LOG_EVENTS_READ)
    except Exception:  # noqa: BLE001 - best effort, see the module docstring
        return None, None
    errors = [e.get("message", "") for e in page.get("events", [])
              if any(m in e.get("message", "") for m in ERROR_MARKERS)]
    first = " ".join(errors[0].split())[:SHOWN_ERROR_CHARS] if errors else None
    return len(errors), first


def _queue_depth(sqs: Any, name: str) -> int | None:
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0))
    except Exception:  # noqa: BLE001 - best effort
        return None


def diagnose_pending(clients: Any, env: Any, since_ms: int, now_ms: int) -> PendingDiagnosis:
    errors, first = _errors(clients.client("logs"), env.log_group_name, since_ms)
    minutes = max(1, -(-(now_ms - since_ms) // 60_000))
    return PendingDiagnosis(errors, first, _queue_depth(clients.client("sqs"), env.dlq_name),
                            env.log_group_name, env.dlq_name, f"{minutes}m")
