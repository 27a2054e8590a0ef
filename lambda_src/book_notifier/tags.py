"""The SES message tags that tie an SES event back to its de-dup record.

The notifier sends every email with two tags (SESv2 SendEmail ``EmailTags``, in the
same call: no extra API call), and SES copies them into every event it publishes for
that email (``mail.tags``), so the feedback function can find the record:

=====================  ================================================
tag name               value
=====================  ================================================
notifyctl-dedup-key    the de-dup key (``event:<event_id>`` or the SNS
                       MessageId), encoded
notifyctl-book-id      the book id, encoded (left off when too long)
=====================  ================================================

SES accepts only ASCII letters, digits, ``_`` and ``-`` in a tag's name and value, at
most 256 characters each (SES API reference, MessageTag). A de-dup key contains ``:``
and an event id any printable ASCII, so values are base64url without padding: its
alphabet is exactly letters, digits, ``-`` and ``_``, and it is reversible. The
longest key (``event:`` + 128 characters) encodes to 179 characters. A book id may
be 128 Unicode characters (up to 512 UTF-8 bytes, 683 encoded): a book id whose
encoding passes 256 characters is not tagged (the record already holds it).
"""

from __future__ import annotations

import base64
import binascii
import re

DEDUP_KEY_TAG = "notifyctl-dedup-key"
BOOK_ID_TAG = "notifyctl-book-id"
TAG_VALUE_MAX = 256
_ALLOWED = re.compile(r"[A-Za-z0-9_-]*")


def encode(text: str) -> str:
    """Any text -> a tag value SES accepts (base64url of its UTF-8, no padding)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(value: str) -> str | None:
    """The text `encode` made, or None when `value` is not one of ours."""
    if not value or not _ALLOWED.fullmatch(value) or len(value) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def message_tags(dedup_key: str, book_id: str | None) -> list[dict[str, str]]:
    """SendEmail's EmailTags for one email."""
    tags = [{"Name": DEDUP_KEY_TAG, "Value": encode(dedup_key)}]
    if book_id:
        value = encode(book_id)
        if len(value) <= TAG_VALUE_MAX:
            tags.append({"Name": BOOK_ID_TAG, "Value": value})
    return tags
