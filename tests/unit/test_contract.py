"""The event contract (lambda_src/book_notifier/contract.py): the one set of rules the
producer (publish-book: build_event + encode) and the function (parse) share."""

from __future__ import annotations

import json

import pytest

from book_notifier import contract
from book_notifier.contract import BookEvent, ContractError, LinkPolicy

pytestmark = pytest.mark.unit

POLICY = LinkPolicy.of(["books.example.com"])
LINK = "https://books.example.com/books/b-1"


def test_valid_event_round_trips_through_encode_and_parse() -> None:
    event = contract.build_event("b-1", "jane@example.com", LINK, "Dune",
                                 allowed_hosts=["books.example.com"])

    message = contract.encode(event)

    assert json.loads(message) == {"book_id": "b-1", "email": "jane@example.com",
                                   "link": LINK, "title": "Dune"}
    assert contract.parse(message, POLICY) == event


def test_encode_omits_missing_title_and_keeps_unicode() -> None:
    event = BookEvent("b-1", "jane@example.com", LINK)
    assert "title" not in json.loads(contract.encode(event))
    titled = BookEvent("b-1", "jane@example.com", LINK, "Cien años de soledad")
    assert "años" in contract.encode(titled)


def test_unknown_fields_are_ignored() -> None:
    message = json.dumps({"book_id": "b-1", "email": "jane@example.com", "link": LINK,
                          "campaign": "spring", "extra": {"nested": True}})
    assert contract.parse(message, POLICY) == BookEvent("b-1", "jane@example.com", LINK)


def test_null_title_means_no_title() -> None:
    message = json.dumps({"book_id": "b-1", "email": "jane@example.com", "link": LINK,
                          "title": None})
    assert contract.parse(message, POLICY).title is None


@pytest.mark.parametrize("email", [
    "jane@example.com", "jane.doe+books@mail.example.co.uk", "o'brien@example.ie",
    "x@xn--bcher-kva.example", "a" * 64 + "@example.com", "j_d-1@sub.example.io",
])
def test_valid_addresses(email: str) -> None:
    assert contract.check_email(email) == email


def test_an_empty_address_is_invalid() -> None:
    with pytest.raises(ContractError) as err:
        contract.check_email("")
    assert err.value.field == "email"


@pytest.mark.parametrize("email", [
    "jane", "@example.com", "jane@", "jane@@example.com", "jane@example",
    "jane@-example.com", "jane@example.c", ".jane@example.com", "jane.@example.com",
    "ja..ne@example.com", "a" * 65 + "@example.com", "Jane Doe <jane@example.com>",
    '"jane"@example.com', "jane@example.com\r\nBcc: x@example.com", "jané@example.com",
    "jane@exämple.com", "jane@[127.0.0.1]", "jane(comment)@example.com",
    "jane@example.com;bob@example.com", " jane@example.com", "jane@example.com\u200b",
])
def test_invalid_addresses(email: str) -> None:
    with pytest.raises(ContractError) as err:
        contract.check_email(email)
    assert err.value.field == "email"
    assert email.strip() not in err.value.reason  # never echoed


@pytest.mark.parametrize(("link", "policy"), [
    (LINK, POLICY),
    ("https://BOOKS.example.com/books/b-1?ref=mail#top", POLICY),
    ("https://books.example.com:8443/b-1", POLICY),
    ("https://anything.example.org/x", LinkPolicy.of([])),
    ("http://localhost:8000/books/b-1", LinkPolicy.of([], allow_http=True)),
    ("https://books.example.com/b%C3%BCcher", POLICY),
])
def test_valid_links(link: str, policy: LinkPolicy) -> None:
    assert contract.check_link(link, policy) == link


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JAVASCRIPT://books.example.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
    "ftp://books.example.com/b-1", "http://books.example.com/b-1", "https:books.example.com",
    "https://evil.example.net/", "https://books.example.com.evil.net/",
    "https://books.example.com@evil.net/", "https://user:pw@books.example.com/",
    "//books.example.com/b-1", "/books/b-1", "https://", "https://books.example.com:99999/",
    "https://books.example.com/b\u00fccher", "https:\\\\books.example.com\\b-1",
    "https://books.example.com/\tb-1", "https://[::1/", "x" * 3000,
])
def test_invalid_links(link: str) -> None:
    with pytest.raises(ContractError) as err:
        contract.check_link(link, POLICY)
    assert err.value.field == "link"


def test_allow_list_is_case_insensitive_and_ignores_blank_entries() -> None:
    policy = LinkPolicy.of([" Books.Example.com ", "", "cdn.example.com."])
    assert policy.allowed_hosts == ("books.example.com", "cdn.example.com")
    assert contract.check_link("https://CDN.example.com/x", policy)


@pytest.mark.parametrize("book_id", ["b-1", "x" * 128, "978-0-441-17271-9", "книга-7"])
def test_valid_book_ids(book_id: str) -> None:
    assert contract.check_book_id(book_id) == book_id


@pytest.mark.parametrize("book_id", ["", "x" * 129, " b-1", "b-1\n", "b\u200b1", 7, None,
                                     True, ["b-1"]])
def test_invalid_book_ids(book_id: object) -> None:
    with pytest.raises(ContractError, match="^book_id: "):
        contract.check_book_id(book_id)


@pytest.mark.parametrize("title", [None, "", "Dune", "T" * 300, "Cien años de soledad",
                                   "The <Left> Hand & \"Tales\"", "東京物語", "Tab\tnot allowed"])
def test_titles(title: str | None) -> None:
    if title and "\t" in title:
        with pytest.raises(ContractError, match="^title: "):
            contract.check_title(title)
    else:
        assert contract.check_title(title) == title


def test_reasons_name_the_type_not_the_value() -> None:
    with pytest.raises(ContractError, match="must be a string, not number"):
        contract.check_email(42)
    with pytest.raises(ContractError, match="must be a JSON object, not array"):
        contract.parse("[]", POLICY)


def test_duplicate_keys_are_rejected() -> None:
    message = ('{"book_id":"b-1","email":"jane@example.com","email":"eve@evil.test",'
               f'"link":"{LINK}"}}')
    with pytest.raises(ContractError, match="given twice"):
        contract.parse(message, POLICY)


def test_oversized_message_is_rejected_before_decoding() -> None:
    with pytest.raises(ContractError, match="larger than"):
        contract.parse('"' + "x" * (256 * 1024) + '"', POLICY)


def test_deeply_nested_json_is_rejected_not_crashing() -> None:
    with pytest.raises(ContractError, match="^message: "):
        contract.parse("[" * 100_000 + "]" * 100_000, POLICY)


def test_build_event_raises_naming_the_field() -> None:
    with pytest.raises(ContractError) as err:
        contract.build_event("b-1", "jane@example.com", "https://evil.example.net/",
                             allowed_hosts=["books.example.com"])
    assert err.value.field == "link"
    assert "evil.example.net" in str(err.value)


def test_known_fields_keeps_only_valid_values() -> None:
    assert contract.known_fields({"book_id": "b-1", "email": "bad"}) == {"book_id": "b-1"}
    assert contract.known_fields([1, 2]) == {}
