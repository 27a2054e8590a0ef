"""Helpers of the reliability tier (conftest.py holds its fixtures): the whole pipeline
on its own emulator, with injected faults.

    def test_x(pipeline):
        pipeline.fault("ses", "SendEmail", lost_response=True, count=1)
        books = pipeline.publish(3)                  # book ids of the events sent
        pipeline.wait_final(books)                   # every event has a final record
        assert pipeline.emails_per_book(books) == {b: 1 for b in books}

The emulator runs at its default retry scale (0.01: AWS's 1-minute retry takes 0.6 s)
so that retries meet the de-dup lease as on AWS (emulator/delivery.py, retry_delay).
The function's timeout is 10 s here, so a crashed attempt's lease ends within 20 s.
Faults are cleared after every test.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from notifyctl.emulator import faults

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")
FUNCTION_TIMEOUT_S = 10  # cold starts take seconds on a loaded machine
_BOOK_RE = re.compile(r"Book id: (\S+)")


@dataclass
class Pipeline:
    endpoint: str
    env: Any
    clients: Any
    base: list[str]
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def fault(self, service: str, operation: str, **kwargs: Any) -> None:
        faults.add(self.endpoint, faults.FaultSpec.create(service, operation, **kwargs))

    def clear_faults(self) -> None:
        faults.clear(self.endpoint)

    def factory(self, books: list[str], event_ids: list[str] | None = None) -> Any:
        from notifyctl.publish.events import EventFactory

        book_iter, event_iter = iter(books), iter(event_ids or [])
        return EventFactory.for_env(
            self.env, new_id=lambda: next(book_iter),
            new_event_id=(lambda: next(event_iter)) if event_ids else
            (lambda: str(uuid.uuid4())))

    def new_books(self, n: int) -> list[str]:
        return [f"{self.run}-{next(self._seq)}" for _ in range(n)]

    def publish(self, n: int, *, wait: bool = False, books: list[str] | None = None,
                event_ids: list[str] | None = None) -> Any:
        """Publish n events (new book ids unless given); the PublishReport."""
        from notifyctl.publish.job import PublishRequest, publish_book

        books = books or self.new_books(n)
        request = PublishRequest(count=n if n > 1 else None, wait=wait,
                                 timeout_s=60 if wait else None, concurrency=2)
        if n == 1:
            request = PublishRequest(book_id=books[0], wait=wait,
                                     timeout_s=60 if wait else None)
        report = publish_book(self.clients, self.env, request,
                              factory=self.factory(list(books), event_ids))
        report.books = books  # type: ignore[attr-defined]
        return report

    def emails_per_book(self, books: list[str]) -> dict[str, int]:
        from notifyctl.emulator import outbox

        counts = dict.fromkeys(books, 0)
        for email in outbox.read(self.endpoint):
            match = _BOOK_RE.search(email.text or "")
            if match and match.group(1) in counts:
                counts[match.group(1)] += 1
        return counts

    def records(self, books: list[str]) -> dict[str, dict[str, Any]]:
        """book id -> its de-dup record (plain values)."""
        from book_notifier.dedup import plain

        ddb = self.clients.client("dynamodb")
        wanted = set(books)
        out: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"TableName": self.env.table_name}
        while True:
            page = ddb.scan(**kwargs)
            for item in page.get("Items", []):
                record = plain(item)
                if record.get("book_id") in wanted:
                    out[record["book_id"]] = record
            if not page.get("LastEvaluatedKey"):
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def statuses(self, books: list[str]) -> dict[str, str]:
        records = self.records(books)
        return {b: str(records.get(b, {}).get("status", "NONE")) for b in books}

    def queued(self) -> list[Any]:
        from notifyctl.failures.source import list_failures

        return list_failures(self.clients, self.env).queue

    def wait_final(self, books: list[str], timeout: float = 60.0,
                   final: tuple[str, ...] = ("SENT", "UNCONFIRMED", "FAILED", "REJECTED")
                   ) -> dict[str, str]:
        def check() -> dict[str, str] | None:
            statuses = self.statuses(books)
            return statuses if all(v in final for v in statuses.values()) else None

        return wait_until(check, timeout=timeout, what=f"final records for {books}")

    def kill_function_workers(self) -> int:
        """SIGKILL every execution environment of this pipeline's function (Linux)."""
        killed = 0
        marker = f"AWS_LAMBDA_FUNCTION_NAME={self.env.function_name}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        return killed


def wait_until(check: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.1,
               what: str = "the condition") -> T:
    """The integration tier's poll (Emulator.wait_until), with this tier's longer defaults."""
    from tests.integration.conftest import Emulator

    return Emulator.wait_until(check, timeout=timeout, interval=interval, what=what)


