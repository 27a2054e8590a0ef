"""Building and reading book events: defaults, flag errors, files with bad lines.

Every event built here must be one the function accepts: each test that builds
events parses them back with the function's own `contract.parse` under the same
link policy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from book_notifier import contract
from notifyctl.errors import UsageError
from notifyctl.publish.events import (
    SIMULATOR_RECIPIENT,
    EventFactory,
    InvalidLine,
    read_file,
)

pytestmark = pytest.mark.unit

BASE = "https://books.example.com/books/"


def factory(**kw: object) -> EventFactory:
    ids = iter(f"id-{i:04d}-xxxx" for i in range(10_000))
    return EventFactory(BASE, kw.pop("hosts", ("books.example.com",)),  # type: ignore[arg-type]
                        bool(kw.pop("allow_http", False)), new_id=lambda: next(ids))


def accepted(f: EventFactory, body: str) -> contract.BookEvent:
    """The function's view of a message body."""
    return contract.parse(body, contract.LinkPolicy.of(f.allowed_hosts, f.allow_http))


def test_defaults_are_a_new_id_the_link_base_and_a_test_title() -> None:
    f = factory()
    event = f.from_flags(email=None)
    assert event.book_id == "id-0000-xxxx"
    assert event.email == SIMULATOR_RECIPIENT
    assert event.link == BASE + "id-0000-xxxx"
    assert event.title == "Test book id-0000-"
    assert accepted(f, contract.encode(event)) == event


def test_a_book_id_is_percent_encoded_in_the_default_link() -> None:
    event = factory().from_flags(email="jane@example.com", book_id="a b/c")
    assert event.link == BASE + "a%20b%2Fc"


@pytest.mark.parametrize(("flags", "flag"), [
    ({"email": "not-an-email"}, "--email"),
    ({"email": "Jane <jane@example.com>"}, "--email"),
    ({"email": "j@x.com", "link": "not a url"}, "--link"),
    ({"email": "j@x.com", "link": "http://books.example.com/b/1"}, "--link"),  # http refused
    ({"email": "j@x.com", "link": "https://evil.example.net/b/1"}, "--link"),  # not allowed
    ({"email": "j@x.com", "book_id": " padded "}, "--book-id"),
    ({"email": "j@x.com", "title": "line\nbreak"}, "--title"),
])
def test_bad_flags_are_usage_errors_naming_the_flag(flags: dict[str, str], flag: str) -> None:
    with pytest.raises(UsageError) as err:
        factory().from_flags(**flags)
    assert err.value.exit_code == 2
    assert err.value.message.startswith(flag + ":")


def test_http_links_pass_where_the_environment_allows_them() -> None:
    f = factory(hosts=(), allow_http=True)
    event = f.from_flags(email="j@x.com", link="http://localhost:8000/books/1")
    assert accepted(f, contract.encode(event)).link == "http://localhost:8000/books/1"


def test_synthetic_events_are_distinct_and_all_accepted_by_the_function() -> None:
    f = factory()
    messages = list(f.synthetic(25))
    assert [m.seq for m in messages] == list(range(25))
    events = [accepted(f, m.body) for m in messages]
    assert len({e.book_id for e in events}) == 25
    assert {e.email for e in events} == {SIMULATOR_RECIPIENT}


def test_a_bad_email_for_synthetic_events_fails_before_any_is_built() -> None:
    with pytest.raises(UsageError, match="--email"):
        factory().synthetic(1000, email="nope")


# ---------------------------------------------------------------------- files
def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_jsonl_with_bad_lines_in_the_middle_reports_their_numbers(tmp_path: Path) -> None:
    lines = [
        json.dumps({"book_id": "b-1", "email": "a@example.com", "title": "One"}),
        "{not json",
        "",
        json.dumps({"book_id": "b-2", "email": "bad@@example.com"}),
        json.dumps({"book_id": "b-3", "email": "c@example.com", "colour": "red"}),
        json.dumps({"email": "d@example.com", "link": BASE + "x"}),
    ]
    path = write(tmp_path, "events.jsonl", "\n".join(lines) + "\n")
    invalid: list[InvalidLine] = []
    f = factory()
    messages = list(read_file(path, f, invalid))
    assert [m.line for m in messages] == [1, 6]
    assert [(i.line, i.error.split(":")[0].replace("; expected one event object per line", ""))
            for i in invalid] == [
        (2, "not valid JSON"), (4, "email"), (5, "unknown field 'colour'; expected book_id, "
                                               "email, link, title, event_id")]
    first, last = (accepted(f, m.body) for m in messages)
    assert (first.book_id, first.link, first.title) == ("b-1", BASE + "b-1", "One")
    assert last.link == BASE + "x" and last.title is None


def test_csv_with_a_header_and_a_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv",
                 "book_id,email,title\n"
                 "b-1,a@example.com,\"Dune, part 1\"\n"
                 "b-2,not-an-email,Two\n"
                 "b-3,c@example.com\n"
                 "\n"
                 "b-4,d@example.com,Four\n")
    invalid: list[InvalidLine] = []
    f = factory()
    messages = list(read_file(path, f, invalid))
    assert [m.line for m in messages] == [2, 6]
    assert [i.line for i in invalid] == [3, 4]
    assert invalid[0].error.startswith("email:")
    assert "expected 3 columns" in invalid[1].error
    assert accepted(f, messages[0].body).title == "Dune, part 1"


def test_csv_with_an_unknown_column_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", "book_id,mail\nb-1,a@example.com\n")
    with pytest.raises(UsageError, match="unknown column 'mail'"):
        read_file(path, factory(), [])


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_file(str(tmp_path / "nope.jsonl"), factory(), [])


def test_the_format_is_sniffed_without_a_known_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "events.txt", "email\na@example.com\n")
    assert len(list(read_file(path, factory(), []))) == 1


def test_a_failed_out_line_is_read_back_as_its_event(tmp_path: Path) -> None:
    event = {"book_id": "b-9", "email": "a@example.com", "link": BASE + "b-9", "title": "T"}
    path = write(tmp_path, "failed.jsonl", json.dumps(
        {"line": 7, "event": event, "error": {"code": "InternalError"}}) + "\n")
    [message] = list(read_file(path, factory(), []))
    assert json.loads(message.body) == {**event, "event_id": message.event_id}
    assert message.event_id  # every event notifyctl sends carries one


def test_an_event_id_given_in_a_file_is_kept_so_resending_the_file_is_safe(
    tmp_path: Path,
) -> None:
    event = {"book_id": "b-9", "email": "a@example.com", "event_id": "created-b-9"}
    path = write(tmp_path, "again.jsonl", json.dumps(event) + "\n")
    [message] = list(read_file(path, factory(), []))
    assert message.event_id == "created-b-9"
    assert json.loads(message.body)["event_id"] == "created-b-9"


def test_synthetic_events_each_carry_a_distinct_event_id() -> None:
    f = EventFactory(BASE, ("books.example.com",))
    ids = [m.event_id for m in f.synthetic(5)]
    assert len(set(ids)) == 5 and all(ids)
    assert [json.loads(m.body)["event_id"] for m in f.synthetic(1)] != [None]


@pytest.mark.parametrize(("data", "field"), [
    ({"book_id": "b", "email": "a@example.com", "link": "javascript:alert(1)"}, "link"),
    ({"book_id": 42, "email": "a@example.com"}, "book_id"),
    ({"book_id": "b", "email": "a@example.com", "title": "x" * 301}, "title"),
    ({"book_id": "b", "email": "a\r\n@example.com"}, "email"),
])
def test_file_rows_obey_the_same_rules_as_the_function(data: dict[str, object],
                                                       field: str) -> None:
    """Parity: what the factory refuses, the function would reject for the same field."""
    f = factory()
    with pytest.raises(contract.ContractError) as ours:
        f.from_record(data)
    full = {"link": BASE + "b", **data}
    with pytest.raises(contract.ContractError) as theirs:
        contract.validate(full, contract.LinkPolicy.of(f.allowed_hosts, f.allow_http))
    assert ours.value.field == theirs.value.field == field


def test_synthetic_events_with_unusual_ids_are_still_accepted() -> None:
    ids = iter(["a b/ü", "x" * 128, "id?with=query&and#frag", "plain"])
    f = EventFactory(BASE, ("books.example.com",), new_id=lambda: next(ids))
    for message in f.synthetic(4, title="Same title"):
        event = accepted(f, message.body)
        assert event.link.startswith(BASE) and event.title == "Same title"


def test_a_synthetic_id_the_contract_refuses_stops_the_run() -> None:
    ids = iter(["ok", " bad "])
    f = EventFactory(BASE, ("books.example.com",), new_id=lambda: next(ids))
    with pytest.raises(contract.ContractError):
        list(f.synthetic(2))
