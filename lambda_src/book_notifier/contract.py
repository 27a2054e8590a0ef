"""The "book created" event contract: the reference for producers and the function.

The SNS ``Message`` of a book notification is a JSON object::

    {"book_id": "b-42", "email": "jane@example.com",
     "link": "https://books.example.com/books/b-42", "title": "Dune",
     "event_id": "3f0c9a8e-book-b-42"}

Fields (unknown extra fields are ignored; a key given twice is rejected):

=========  ========  =====================================================================
field      required  rule
=========  ========  =====================================================================
book_id    yes       string, 1-128 printable characters, no leading/trailing whitespace
email      yes       one bare ASCII address ``local@domain``: at most 254 characters,
                     local part at most 64 dot-atom characters, domain of at least two
                     LDH labels; no display name (``Jane <j@x>``), no quotes, comments,
                     whitespace, CR/LF or other control characters
link       yes       absolute ``https`` URL (``http`` too when the environment allows it),
                     at most 2048 printable ASCII characters, a host and no user info;
                     the host must be on the environment's allow-list (empty list = any)
title      no        string (or null), at most 300 characters, no control, format
                     (e.g. bidi override, zero-width) or line/paragraph separator chars
event_id   no        the producer's idempotency key, one per book creation (a UUID, say):
                     1-128 printable ASCII characters, no spaces. When present the function
                     de-duplicates on it instead of the SNS MessageId, so a producer retry
                     that SNS gave a new MessageId sends nothing twice
=========  ========  =====================================================================

The whole message is at most 256 KiB (SNS's own limit). A message that breaks a rule is
not emailed: the function records it as REJECTED with the reason (see dedup.py).

Producers (notifyctl's ``publish-book``) call :func:`build_event` and :func:`encode`, so
the rules are enforced on both sides by this one module. It uses the standard library
only: the function ships without dependencies.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

BOOK_ID_MAX = 128
EMAIL_MAX = 254
EMAIL_LOCAL_MAX = 64
LINK_MAX = 2048
TITLE_MAX = 300
MESSAGE_MAX_BYTES = 256 * 1024

FIELDS = ("book_id", "email", "link", "title", "event_id")
EVENT_ID_MAX = 128
EVENT_KEY_PREFIX = "event:"

# RFC 5322 dot-atom (ASCII only: SES does not accept SMTPUTF8 local parts).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*$")
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")
# Categories no title should carry: controls, format (bidi overrides, zero-width),
# surrogates, private use, unassigned, line and paragraph separators.
_BAD_TITLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class ContractError(ValueError):
    """A message that breaks the contract. ``reason`` is safe to log: it never
    repeats the offending value (which may be an email address)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = f"{field}: {reason}"


@dataclass(frozen=True)
class LinkPolicy:
    """Which links an environment accepts (``LINK_ALLOWED_HOSTS``, ``ALLOW_HTTP_LINKS``)."""

    allowed_hosts: tuple[str, ...] = ()
    allow_http: bool = False

    @classmethod
    def of(cls, allowed_hosts: Iterable[str] = (), allow_http: bool = False) -> LinkPolicy:
        hosts = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip())
        return cls(hosts, allow_http)


@dataclass(frozen=True)
class BookEvent:
    book_id: str
    email: str
    link: str
    title: str | None = None
    event_id: str | None = None

    def as_message(self) -> dict[str, str]:
        out = {"book_id": self.book_id, "email": self.email, "link": self.link}
        if self.title is not None:
            out["title"] = self.title
        if self.event_id is not None:
            out["event_id"] = self.event_id
        return out


def dedup_key(event_id: str | None, message_id: str) -> str:
    """The de-dup record's key: the producer's event id when given (prefixed, so it can
    never meet an SNS MessageId), the MessageId otherwise. Producers that follow their
    events (``publish-book --wait``) compute it with this same function."""
    return EVENT_KEY_PREFIX + event_id if event_id else message_id


def check_book_id(value: object) -> str:
    if not isinstance(value, str):
        raise ContractError("book_id", f"must be a string, not {_type_name(value)}")
    if not value:
        raise ContractError("book_id", "must not be empty")
    if len(value) > BOOK_ID_MAX:
        raise ContractError("book_id", f"longer than {BOOK_ID_MAX} characters")
    if not value.isprintable():
        raise ContractError("book_id", "contains a non-printable character")
    if value != value.strip():
        raise ContractError("book_id", "has leading or trailing whitespace")
    return value


def check_email(value: object) -> str:
    if not isinstance(value, str):
        raise ContractError("email", f"must be a string, not {_type_name(value)}")
    if not value:
        raise ContractError("email", "must not be empty")
    if len(value) > EMAIL_MAX:
        raise ContractError("email", f"longer than {EMAIL_MAX} characters")
    if any(ch in "\r\n" for ch in value):
        raise ContractError("email", "contains CR or LF (header injection)")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ContractError("email", "contains a control character")
    if not value.isascii():
        raise ContractError("email", "contains non-ASCII characters")
    if any(ch in value for ch in "<>\"(),;: \t[]\\"):
        raise ContractError("email", "must be a bare address (no display name, quotes, "
                                     "comments, lists or spaces)")
    if value.count("@") != 1:
        raise ContractError("email", "must contain exactly one '@'")
    local, domain = value.split("@")
    if not local or len(local) > EMAIL_LOCAL_MAX or not _LOCAL_RE.match(local):
        raise ContractError("email", "local part is not a valid dot-atom")
    _check_domain(domain)
    return value


def _check_domain(domain: str) -> None:
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2:
        raise ContractError("email", "domain must have at least two labels")
    if not all(_LABEL_RE.match(label) for label in labels) or not _TLD_RE.match(labels[-1]):
        raise ContractError("email", "domain is not a valid host name")


def check_link(value: object, policy: LinkPolicy) -> str:
    if not isinstance(value, str):
        raise ContractError("link", f"must be a string, not {_type_name(value)}")
    if not value:
        raise ContractError("link", "must not be empty")
    if len(value) > LINK_MAX:
        raise ContractError("link", f"longer than {LINK_MAX} characters")
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ContractError("link", "must be printable ASCII without spaces "
                                    "(percent-encode anything else)")
    if "\\" in value:
        raise ContractError("link", "contains a backslash")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ContractError("link", "is not a valid URL") from exc
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        allowed = " or ".join(schemes)
        raise ContractError("link", f"scheme must be {allowed}")
    if not value.lower().startswith(parts.scheme.lower() + "://"):
        raise ContractError("link", "must be an absolute URL (scheme://host/...)")
    if "@" in parts.netloc:
        raise ContractError("link", "must not contain user info (user@host)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ContractError("link", "has no host")
    if port == 0:
        raise ContractError("link", "has an invalid port")
    if policy.allowed_hosts and host.lower() not in policy.allowed_hosts:
        shown = host[:64]
        raise ContractError("link", f"host {shown!r} is not on the allow-list")
    return value


def check_event_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError("event_id", f"must be a string, not {_type_name(value)}")
    if not value:
        raise ContractError("event_id", "must not be empty")
    if len(value) > EVENT_ID_MAX:
        raise ContractError("event_id", f"longer than {EVENT_ID_MAX} characters")
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ContractError("event_id", "must be printable ASCII without spaces")
    return value


def check_title(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError("title", f"must be a string, not {_type_name(value)}")
    if len(value) > TITLE_MAX:
        raise ContractError("title", f"longer than {TITLE_MAX} characters")
    if any(ch in "\r\n" for ch in value):
        raise ContractError("title", "contains CR or LF (header injection)")
    if any(unicodedata.category(ch) in _BAD_TITLE_CATEGORIES for ch in value):
        raise ContractError("title", "contains a control or invisible formatting character")
    return value


def validate(data: object, policy: LinkPolicy) -> BookEvent:
    """A decoded message (any JSON value) -> BookEvent, or ContractError."""
    if not isinstance(data, dict):
        raise ContractError("message", f"must be a JSON object, not {_type_name(data)}")
    for name in ("book_id", "email", "link"):
        if name not in data:
            raise ContractError(name, "is required")
    return BookEvent(
        book_id=check_book_id(data["book_id"]),
        email=check_email(data["email"]),
        link=check_link(data["link"], policy),
        title=check_title(data.get("title")),
        event_id=check_event_id(data.get("event_id")),
    )


def decode(message: str) -> object:
    """The SNS Message string -> a JSON value; ContractError when it is not JSON."""
    if len(message.encode("utf-8", "surrogatepass")) > MESSAGE_MAX_BYTES:
        raise ContractError("message", f"larger than {MESSAGE_MAX_BYTES} bytes")
    try:
        return json.loads(message, object_pairs_hook=_no_duplicate_keys)
    except ContractError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ContractError("message", "is not valid JSON") from exc


def parse(message: str, policy: LinkPolicy) -> BookEvent:
    """The SNS Message string -> BookEvent, or ContractError with the reason."""
    return validate(decode(message), policy)


def build_event(
    book_id: str,
    email: str,
    link: str,
    title: str | None = None,
    *,
    event_id: str | None = None,
    allowed_hosts: Iterable[str] = (),
    allow_http: bool = False,
) -> BookEvent:
    """A validated event for a producer; raises ContractError naming the field."""
    policy = LinkPolicy.of(allowed_hosts, allow_http)
    return validate({"book_id": book_id, "email": email, "link": link, "title": title,
                     "event_id": event_id}, policy)


def encode(event: BookEvent) -> str:
    """The SNS Message for an event (compact JSON, stable key order)."""
    return json.dumps(event.as_message(), ensure_ascii=False, separators=(",", ":"))


def known_fields(data: object) -> dict[str, str]:
    """The fields of a (possibly invalid) message that are valid on their own, for the
    REJECTED record: the book id and event id as is, never the email (the caller
    redacts it)."""
    out: dict[str, str] = {}
    if not isinstance(data, dict):
        return out
    checks: tuple[tuple[str, Callable[[object], str | None]], ...] = (
        ("book_id", check_book_id), ("email", check_email), ("event_id", check_event_id))
    for name, check in checks:
        with contextlib.suppress(ContractError):
            value = check(data.get(name))
            if value is not None:
                out[name] = value
    return out


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ContractError("message", f"field {key[:32]!r} given twice")
        out[key] = value
    return out


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object",
            str: "string"}.get(type(value), type(value).__name__)
