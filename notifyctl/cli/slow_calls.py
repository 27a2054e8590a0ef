"""Say what we wait for when an AWS call is slow, instead of staying silent.

An endpoint that accepts the connection but never answers holds a call for the
whole read timeout (per attempt). On a terminal, a call still unanswered after
NOTICE_AFTER_S gets one line on stderr naming the endpoint, the operation, and
when it gives up. Attached to the botocore session's events by the CLI only (the
library stays quiet); one watcher thread for all calls, so a publish run of
thousands of calls does not start a timer per call.

    before-send ──> in_flight[thread] = (started, what)
    response-received / needs-retry ──> in_flight.pop(thread)
    watcher (every `tick` s): an entry older than after_s, not yet announced ──> notify
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

NOTICE_AFTER_S = 5.0


class SlowCallNotice:
    def __init__(self, notify: Callable[[str], None], *, read_timeout_s: float,
                 after_s: float = NOTICE_AFTER_S, tick: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._notify = notify
        self._read_timeout_s = read_timeout_s
        self._after_s = after_s
        self._tick = tick
        self._clock = clock
        self._in_flight: dict[int, tuple[float, str]] = {}
        self._announced: set[int] = set()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    def attach(self, session: Any) -> None:
        """Register on a botocore session (its clients created before or after)."""
        session.register("before-send", self.sending)
        session.register("response-received", self.answered)
        session.register("needs-retry", self.answered)

    def sending(self, request: Any = None, event_name: str = "", **_: Any) -> None:
        # event_name: before-send.<service>.<Operation>
        parts = event_name.split(".")
        what = " ".join(parts[1:3]) if len(parts) >= 3 else "a call"
        url = getattr(request, "url", "") or ""
        host = url.split("/")[2] if url.count("/") >= 2 else url
        ident = threading.get_ident()
        self._in_flight[ident] = (self._clock(), f"{what} at {host}")
        self._announced.discard(ident)
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="slow-calls", daemon=True)
            self._watcher.start()

    def answered(self, **_: Any) -> None:
        self._in_flight.pop(threading.get_ident(), None)

    def check(self) -> None:
        """Announce every call slower than after_s once (the watcher calls this)."""
        now = self._clock()
        for ident, (started, what) in list(self._in_flight.items()):
            if ident in self._announced or now - started < self._after_s:
                continue
            self._announced.add(ident)
            self._notify(f"still waiting for {what}: no answer after {now - started:.0f} s "
                         f"(each attempt gives up after {self._read_timeout_s:g} s, "
                         "--read-timeout; Ctrl-C to stop)")

    def _watch(self) -> None:
        while not self._stop.wait(self._tick):
            self.check()

    def close(self) -> None:
        self._stop.set()


def attach_notice(aws: Any, out: Any) -> SlowCallNotice:
    """A SlowCallNotice printing to the output's stderr, on the clients' session."""
    notice = SlowCallNotice(lambda line: out.err.print(f"[dim]{line}[/dim]"),
                            read_timeout_s=aws.read_timeout)
    notice.attach(aws.session)
    return notice
