"""The pure parts of the SES feedback loop: message tags and event parsing."""

from __future__ import annotations

import json
import re

import pytest

from book_notifier import tags
from book_notifier.feedback import MalformedFeedback, epoch_ms, parse

SES_TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")


@pytest.mark.parametrize("key", [
    "event:9d7c1f3e", "b0a1c2d3-e4f5-4a6b-8c7d-0e1f2a3b4c5d",
    "event:" + "~!@#$%^&*()+={}[]|\\:;\"'<>,.?/`" * 4, "event:" + "x" * 128])
def test_a_dedup_key_becomes_a_tag_ses_accepts_and_comes_back_unchanged(key: str) -> None:
    [tag] = tags.message_tags(key, None)

    assert SES_TAG.fullmatch(tag["Name"]) and SES_TAG.fullmatch(tag["Value"])
    assert tags.decode(tag["Value"]) == key


def test_a_book_id_too_long_to_encode_within_256_characters_is_left_off() -> None:
    short = tags.message_tags("k", "b-1042")
    long = tags.message_tags("k", "\u00e9" * 128)  # 256 UTF-8 bytes -> 342 characters

    assert [t["Name"] for t in short] == [tags.DEDUP_KEY_TAG, tags.BOOK_ID_TAG]
    assert tags.decode(short[1]["Value"]) == "b-1042"
    assert [t["Name"] for t in long] == [tags.DEDUP_KEY_TAG]


@pytest.mark.parametrize("value", ["", "a", "not base64!", "ZZZZZ"])
def test_values_that_are_not_ours_decode_to_none(value: str) -> None:
    assert tags.decode(value) is None


def test_epoch_ms_reads_ses_timestamps() -> None:
    assert epoch_ms("2017-08-05T00:41:02.669Z") == 1501893662669
    assert epoch_ms("yesterday") is None


def test_parse_reads_the_key_and_redacts_the_recipient() -> None:
    message = {"eventType": "Delivery",
               "mail": {"messageId": "m-1", "destination": ["jane.doe@example.com"],
                        "timestamp": "2017-08-05T00:40:02.012Z",
                        "tags": {tags.DEDUP_KEY_TAG: [tags.encode("event:e-1")]}},
               "delivery": {"timestamp": "2017-08-05T00:40:04.133Z"}}

    feedback = parse(json.dumps(message))

    assert (feedback.dedup_key, feedback.recipient, feedback.at_ms) == (
        "event:e-1", "j***@example.com", 1501893604133)
    assert feedback.update is not None and feedback.update.delivery == "DELIVERED"


def test_parse_refuses_an_event_without_its_object() -> None:
    with pytest.raises(MalformedFeedback, match="bounce object"):
        parse(json.dumps({"eventType": "Bounce", "mail": {"messageId": "m"}}))
