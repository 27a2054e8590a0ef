"""Book events to publish: from flags, synthetic, or read from a file.

Every event is built by the function's own contract (`book_notifier.contract`):
an event notifyctl sends is one the function accepts, and the JSON is serialised
once, here.

Files: JSON lines (one object per line) or CSV with a header row. Fields are the
contract's (`book_id`, `email`, `link`, `title`, `event_id`); `email` is required,
`book_id` defaults to a new UUID, `link` to the environment's link base URL + the book
id, `event_id` to a new UUID (every event notifyctl sends carries one, so a resent
batch is never emailed twice; give it in the file to make re-running the file safe).
A line of a `--failed-out` file (`{"event": {...}, "error": {...}}`) is read as
its event, so a failed-out file can be sent again as is. A line recorded there as
invalid (`{"line", "raw", "error"}`) is read from its `raw` text: fixed in place, it
is sent; unchanged, it is reported invalid again with its original error. A bad
line is recorded as an `InvalidLine` (with its line number) and skipped; the rest
goes. Error messages name the line and what was expected, never its content (the
file may not be what the user thought it was).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from book_notifier import contract
from notifyctl.errors import UsageError
from notifyctl.publish.publisher import Message

# SES's mailbox simulator: accepts everything and never hurts the sender's reputation.
SIMULATOR_RECIPIENT = "success@simulator.amazonses.com"
FLAGS = {"book_id": "--book-id", "email": "--email", "link": "--link", "title": "--title"}
RAW_SHOWN = 500  # characters of a bad line kept in the failed-out file


@dataclass(frozen=True, slots=True)
class InvalidLine:
    line: int
    error: str
    raw: str = ""


class EventFactory:
    """Builds contract-valid events with the environment's defaults and link policy."""

    def __init__(self, link_base_url: str, allowed_hosts: Iterable[str] = (),
                 allow_http: bool = False, *,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
                 new_event_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.link_base_url = link_base_url
        self.allowed_hosts = tuple(allowed_hosts)
        self.allow_http = allow_http
        self.new_id = new_id
        self.new_event_id = new_event_id

    @classmethod
    def for_env(cls, env: Any, **kwargs: Any) -> EventFactory:
        """From a notifyctl Environment (link_base_url, link_allowed_hosts, allow_http_links)."""
        return cls(env.link_base_url, env.link_allowed_hosts, env.allow_http_links, **kwargs)

    def link_for(self, book_id: str) -> str:
        return self.link_base_url + quote(book_id, safe="")

    def build(self, *, email: str, book_id: str | None = None, title: str | None = None,
              link: str | None = None, default_title: bool = True,
              event_id: str | None = None) -> contract.BookEvent:
        """One event; raises contract.ContractError naming the field.

        Defaults: a new UUID, the link base URL + the id, (with default_title) the
        title "Test book <first 8 characters of the id>", and a new event id."""
        book_id = self.new_id() if book_id is None else contract.check_book_id(book_id)
        if title is None and default_title:
            title = f"Test book {book_id[:8]}"
        if link is None:
            link = self.link_for(book_id)
        return contract.build_event(book_id, email, link, title,
                                    event_id=self.new_event_id() if event_id is None
                                    else event_id,
                                    allowed_hosts=self.allowed_hosts,
                                    allow_http=self.allow_http)

    def from_flags(self, *, email: str | None, book_id: str | None = None,
                   title: str | None = None, link: str | None = None) -> contract.BookEvent:
        """One event from command-line flags; bad input is a UsageError (exit 2)
        naming the flag, raised before anything is sent."""
        try:
            return self.build(email=email or SIMULATOR_RECIPIENT, book_id=book_id,
                              title=title, link=link)
        except contract.ContractError as exc:
            flag = FLAGS.get(exc.field, exc.field)
            raise UsageError(f"{flag}: {exc.reason.split(': ', 1)[-1]}",
                             hint=_hint(exc.field, self)) from exc

    def synthetic(self, count: int, *, email: str | None = None,
                  title: str | None = None, start: int = 0) -> Iterator[Message]:
        """Events number `start` to `count - 1` to the same recipient, each a new book id,
        built lazily (one at a time, as the publishers take them)."""
        recipient = email or SIMULATOR_RECIPIENT
        # The first one through the flag path: a bad --email is exit 2 before anything.
        first = self.from_flags(email=recipient, title=title)
        return self._synthetic(first, count, recipient, title, start)

    def _synthetic(self, first: contract.BookEvent, count: int, recipient: str,
                   title: str | None, start: int = 0) -> Iterator[Message]:
        # The first event went through the whole contract. The others differ from it
        # only by the book id (and the link and default title derived from it), so
        # each is built as a contract.BookEvent after the per-event checks that can
        # differ: the id itself and the link's length. The email, the title text and
        # the link's scheme/host/base were validated with the first. This keeps event
        # building a small fraction of the publishing time (see benchmarks/).
        if start >= count:
            return
        yield message(start, first)
        for seq in range(start + 1, count):
            book_id = contract.check_book_id(self.new_id())
            link = self.link_for(book_id)
            if len(link) > contract.LINK_MAX:
                contract.check_link(link, contract.LinkPolicy.of(self.allowed_hosts,
                                                                 self.allow_http))
            event = contract.BookEvent(
                book_id=book_id, email=recipient, link=link,
                title=title if title is not None else f"Test book {book_id[:8]}",
                event_id=contract.check_event_id(self.new_event_id()))
            yield message(seq, event)

    def from_record(self, record: Any) -> contract.BookEvent:
        """A decoded JSON-lines object or CSV row -> event; ContractError or ValueError."""
        if not isinstance(record, dict):
            raise ValueError("expected a JSON object")
        if isinstance(record.get("event"), dict) and "error" in record:
            record = record["event"]  # a line of a --failed-out file
        elif isinstance(record.get("raw"), str) and "error" in record:
            record = _invalid_row(record)  # an invalid line kept in a --failed-out file
        unknown = sorted(set(record) - set(contract.FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; expected "
                             + ", ".join(contract.FIELDS))
        if record.get("email") in (None, ""):
            raise contract.ContractError("email", "is required")
        book_id = record.get("book_id")
        title = record.get("title")
        # A file's row has no test title: no title is no title.
        return self.build(email=record["email"],
                          book_id=None if book_id in (None, "") else book_id,
                          title=None if title == "" else title,
                          link=record.get("link") or None, default_title=False,
                          event_id=record.get("event_id") or None)


def message(seq: int, event: contract.BookEvent, line: int | None = None) -> Message:
    """The Message for an event (its JSON serialised once, its event id kept)."""
    return Message(seq, contract.encode(event), line, event.event_id)


def _invalid_row(row: dict[str, Any]) -> Any:
    """The record of an invalid line kept in a failed-out file: its `raw` text (a JSON
    object, or the CSV fields as one), or ValueError repeating the original problem."""
    try:
        record = json.loads(row["raw"])
    except ValueError:
        record = None
    if isinstance(record, dict):
        return record
    error = row.get("error")
    original = error.get("message") if isinstance(error, dict) else error
    raise ValueError(f"still invalid (line {row.get('line', '?')} of the original: "
                     f"{original}); fix its \"raw\" text to a JSON event and resend")


def _hint(field: str, factory: EventFactory) -> str | None:
    if field == "link":
        scheme = "http(s)" if factory.allow_http else "https"
        hosts = ", ".join(factory.allowed_hosts) or "any host"
        return f"The environment accepts {scheme} links to: {hosts}."
    if field == "email":
        return "One bare address like jane@example.com."
    return None


# ------------------------------------------------------------------------- files
def read_file(path: str, factory: EventFactory, invalid: list[InvalidLine],
              *, start_seq: int = 0, start_line: int = 1) -> Iterator[Message]:
    """Messages from a JSON-lines or CSV file, read lazily, from line `start_line` on
    (a CSV header is always read).

    The file is opened (and a CSV header checked) now, so a missing or empty file or
    a bad header is a UsageError before anything is sent. Bad lines are appended to
    `invalid` as they are met.
    """
    stream = _open(path)
    first = _peek(stream)
    if first == "" and stream.seekable():
        stream.close()
        raise UsageError(f"--file: {path} has no events (it is empty)",
                         hint="Expected JSON lines, or CSV with a header row naming "
                              + ",".join(contract.FIELDS) + ".")
    fmt = _format(path, first)
    if fmt == "csv":
        return _read_csv(stream, path, factory, invalid, start_seq, start_line)
    return _read_jsonl(stream, factory, invalid, start_seq, start_line)


def _open(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    p = Path(path)
    try:
        return p.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise UsageError(f"--file: {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"--file: {path} is a directory, expected a file") from exc
    except OSError as exc:
        raise UsageError(f"--file: cannot read {path}: {exc.strerror}") from exc


def _peek(stream: IO[str]) -> str:
    """The first non-blank character (without consuming a non-seekable stream)."""
    if stream.seekable():
        pos = stream.tell()
        chunk = stream.read(4096)
        stream.seek(pos)
        return chunk.lstrip()[:1]
    return ""


def _format(path: str, first: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if first in ("{", "") else "csv"


def _read_jsonl(stream: IO[str], factory: EventFactory, invalid: list[InvalidLine],
                start_seq: int, start_line: int = 1) -> Iterator[Message]:
    seq = itertools.count(start_seq)
    with stream:
        for lineno, text in enumerate(stream, start=1):
            if lineno < start_line or not text.strip():
                continue
            try:
                record = json.loads(text)
                event = factory.from_record(record)
            except contract.ContractError as exc:
                invalid.append(InvalidLine(lineno, exc.reason, text.rstrip("\r\n")[:RAW_SHOWN]))
                continue
            except ValueError as exc:  # JSONDecodeError is a ValueError
                error = ("not valid JSON; expected one event object per line"
                         if isinstance(exc, json.JSONDecodeError) else str(exc))
                invalid.append(InvalidLine(lineno, error, text.rstrip("\r\n")[:RAW_SHOWN]))
                continue
            yield message(next(seq), event, lineno)


_COLUMN_NAME = re.compile(r"^[a-z_]{1,20}$")


def _read_csv(stream: IO[str], path: str, factory: EventFactory, invalid: list[InvalidLine],
              start_seq: int, start_line: int = 1) -> Iterator[Message]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        header = []
    columns = [h.strip().lower() for h in header]
    unknown = [c for c in columns if c not in contract.FIELDS]
    if unknown or "email" not in columns:
        stream.close()
        # Name an unknown column only when it looks like one: the file may be anything
        # (a system file given by mistake), and its content has no place in an error.
        if unknown and all(_COLUMN_NAME.match(c) for c in unknown):
            problem = f"unknown column {unknown[0]!r}"
        elif unknown or not columns:
            problem = "not a CSV header nor a JSON object"
        else:
            problem = "no 'email' column"
        raise UsageError(f"--file: {path} line 1: {problem}; expected JSON lines (one event "
                         "object per line) or a CSV header naming columns from: "
                         + ", ".join(contract.FIELDS) + " (email required)")
    return _csv_rows(stream, reader, columns, factory, invalid, start_seq, start_line)


def _csv_rows(stream: IO[str], reader: Any, columns: list[str], factory: EventFactory,
              invalid: list[InvalidLine], start_seq: int,
              start_line: int = 1) -> Iterator[Message]:
    seq = itertools.count(start_seq)
    with stream:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if start >= start_line:
                    invalid.append(InvalidLine(start, f"not valid CSV: {exc}"))
                continue
            if start < start_line or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                invalid.append(InvalidLine(start, f"expected {len(columns)} columns, "
                                                  f"got {len(row)}", ",".join(row)[:RAW_SHOWN]))
                continue
            # Kept as a JSON object, so a failed-out file row can be fixed and resent.
            raw = json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)[:RAW_SHOWN]
            try:
                event = factory.from_record(dict(zip(columns, row, strict=True)))
            except (contract.ContractError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, contract.ContractError) else str(exc)
                invalid.append(InvalidLine(start, reason, raw))
                continue
            yield message(next(seq), event, start)
