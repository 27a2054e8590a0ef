"""Inside the emulator: where the emails SES accepted are kept, on disk.

One SQLite database in the emulator's state directory (`outbox.sqlite3`), written as
each email is accepted. Why SQLite (stdlib) rather than JSON-lines segments: the
operator pages by time and recipient (`local outbox --since/--to/--limit`), which an
index answers without reading every email; each insert is its own transaction (WAL),
so a crash loses no accepted email and a torn last line cannot happen; and nothing
needs compacting. Nothing is ever dropped: the outbox grows with what was sent, as
a mailbox does; `local reset` or `local start --fresh` empties it.

The count is kept in memory (read once at open), so /_notifyctl/status is O(1).
Stdlib only; the emulator's SES patch feeds it through backends.SesCapture.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "outbox.sqlite3"
PAGE_MAX = 10_000  # emails per answer of /_notifyctl/outbox/page

_SCHEMA = """
CREATE TABLE IF NOT EXISTS emails (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    recipients TEXT NOT NULL,  -- "\\n" + lower-case to/cc/bcc joined by "\\n" + "\\n"
    doc TEXT NOT NULL          -- the email as /_notifyctl/outbox serves it (JSON)
);
CREATE INDEX IF NOT EXISTS emails_time ON emails (time_ms);
"""


@dataclass(frozen=True)
class StoredPage:
    """The newest `limit` emails matching the filters (oldest first), and the counts."""

    emails: list[dict[str, Any]]
    total: int
    matched: int

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "matched": self.matched, "emails": self.emails}


def recipients_key(addresses: list[str]) -> str:
    return "\n" + "\n".join(a.strip().lower() for a in addresses) + "\n"


class OutboxStore:
    """Append-only store of accepted emails. Thread-safe.

    path None: an in-memory database (unit tests)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path is not None else ":memory:",
                                   check_same_thread=False, isolation_level=None)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash
        self._db.executescript(_SCHEMA)
        self._count = int(self._db.execute("SELECT count(*) FROM emails").fetchone()[0])

    def add(self, doc: dict[str, Any], time_ms: int) -> None:
        addresses = [*doc.get("to", []), *doc.get("cc", []), *doc.get("bcc", [])]
        with self._lock:
            self._db.execute("INSERT INTO emails (time_ms, recipients, doc) VALUES (?, ?, ?)",
                             (time_ms, recipients_key(addresses), json.dumps(doc)))
            self._count += 1

    def count(self) -> int:
        """How many emails the outbox holds: O(1)."""
        return self._count

    def page(self, *, since_ms: int | None = None, to: str | None = None,
             limit: int | None = None) -> StoredPage:
        """The newest `limit` (None: all, at most PAGE_MAX) emails accepted at or after
        since_ms and addressed (to/cc/bcc, case-insensitive) to `to`, oldest first."""
        where, args = self._filters(since_ms, to)
        limit = min(limit or PAGE_MAX, PAGE_MAX)
        with self._lock:
            matched = self._count if not where else int(self._db.execute(
                f"SELECT count(*) FROM emails {where}", args).fetchone()[0])
            rows = self._db.execute(f"SELECT doc FROM emails {where} ORDER BY seq DESC LIMIT ?",
                                    (*args, limit)).fetchall()
            total = self._count
        return StoredPage([json.loads(r[0]) for r in reversed(rows)], total, matched)

    def all(self) -> Iterator[dict[str, Any]]:
        """Every email, oldest first (read in chunks, not all at once)."""
        last = 0
        while True:
            with self._lock:
                rows = self._db.execute("SELECT seq, doc FROM emails WHERE seq > ? ORDER BY seq "
                                        "LIMIT 1000", (last,)).fetchall()
            if not rows:
                return
            for seq, doc in rows:
                last = seq
                yield json.loads(doc)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM emails")
            self._count = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _filters(since_ms: int | None, to: str | None) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        args: list[Any] = []
        if since_ms is not None:
            clauses.append("time_ms >= ?")
            args.append(since_ms)
        if to:
            clauses.append("instr(recipients, ?) > 0")
            args.append(recipients_key([to]))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)
