"""--by-request: gather each invocation's lines into one block.

Which request a line belongs to:
  1. its own request id: platform lines (START/END/REPORT, "Task timed out"), the
     function's JSON lines ("request_id"), the Python runtime's `[LEVEL]\\t<ts>\\t<id>` lines;
  2. otherwise the request running in the same log stream: a stream is one execution
     environment, which runs one invocation at a time, between its START and its END;
  3. INIT_START / INIT_REPORT and lines written during init (before any START in the
     stream) belong to the stream's next invocation: its cold start.
A block is complete at its REPORT line; blocks still open when the input ends (or,
when following, after `idle_ms` without a line) are emitted as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifyctl.logs.events import (
    END,
    INIT_REPORT,
    INIT_START,
    JSON,
    REPORT,
    RUNTIME_ERROR,
    START,
    TIMEOUT,
    LogEvent,
    Report,
    stream_version,
)


@dataclass
class RequestBlock:
    request_id: str
    group: str
    stream: str
    events: list[LogEvent] = field(default_factory=list)
    version: str | None = None
    report: Report | None = None
    cold_start: bool = False
    complete: bool = False

    @property
    def first_ts(self) -> int:
        return self.events[0].timestamp if self.events else 0

    @property
    def last_ts(self) -> int:
        return self.events[-1].timestamp if self.events else 0

    @property
    def label_version(self) -> str | None:
        return self.version or stream_version(self.stream)

    @property
    def outcome(self) -> str:
        """timed out > runtime error > the function's own "outcome" > error lines > ok."""
        kinds = {e.parsed.kind for e in self.events}
        status = self.report.status if self.report else None
        if TIMEOUT in kinds or status == "timeout":
            return "timed out"
        if RUNTIME_ERROR in kinds or (status not in (None, "success")):
            return "error"
        outcomes: list[str] = []
        for e in self.events:
            data = e.parsed.data
            if e.parsed.kind == JSON and data and data.get("outcome"):
                value = str(data["outcome"])
                if value not in outcomes:
                    outcomes.append(value)
        if outcomes:
            return "+".join(outcomes)
        if any(e.parsed.level in ("ERROR", "CRITICAL") for e in self.events):
            return "error"
        return "ok" if self.complete else "incomplete"


Item = RequestBlock | LogEvent


class RequestGrouper:
    """Feed events in time order; get back finished blocks and request-less lines."""

    def __init__(self) -> None:
        self._open: dict[str, RequestBlock] = {}
        self._current: dict[tuple[str, str], str] = {}       # stream -> running request
        self._init: dict[tuple[str, str], list[LogEvent]] = {}  # stream -> cold-start lines

    def _block(self, event: LogEvent, request_id: str) -> RequestBlock:
        block = self._open.get(request_id)
        if block is None:
            block = RequestBlock(request_id, event.group, event.stream)
            self._open[request_id] = block
        return block

    def add(self, event: LogEvent) -> list[Item]:
        parsed = event.parsed
        stream = (event.group, event.stream)
        rid = parsed.request_id
        kind = parsed.kind
        if kind == START and rid:
            block = self._block(event, rid)
            block.version = parsed.version or block.version
            pending = self._init.pop(stream, None)
            if pending:
                block.cold_start = True
                block.events.extend(pending)
            block.events.append(event)
            self._current[stream] = rid
            return []
        if rid:
            block = self._block(event, rid)
            block.events.append(event)
            if kind == END and self._current.get(stream) == rid:
                del self._current[stream]
            if kind == REPORT:
                block.report = parsed.report
                if parsed.report and parsed.report.init_ms is not None:
                    block.cold_start = True
                block.complete = True
                del self._open[rid]
                if self._current.get(stream) == rid:
                    del self._current[stream]
                return [block]
            return []
        if kind in (INIT_START, INIT_REPORT):
            self._init.setdefault(stream, []).append(event)
            return []
        running = self._current.get(stream)
        if running is not None and running in self._open:
            self._open[running].events.append(event)
            return []
        if stream in self._init:  # written during init, before the first START
            self._init[stream].append(event)
            return []
        return [event]

    def flush(self, idle_before_ms: int | None = None) -> list[Item]:
        """Emit open blocks (all, or those quiet since before `idle_before_ms`)."""
        done: list[Item] = []
        for rid, block in list(self._open.items()):
            if idle_before_ms is None or block.last_ts < idle_before_ms:
                done.append(block)
                del self._open[rid]
                for stream, running in list(self._current.items()):
                    if running == rid:
                        del self._current[stream]
        for stream, lines in list(self._init.items()):
            if idle_before_ms is None or (lines and lines[-1].timestamp < idle_before_ms):
                done.extend(lines)
                del self._init[stream]
        done.sort(key=lambda item: item.first_ts if isinstance(item, RequestBlock)
                  else item.timestamp)
        return done
