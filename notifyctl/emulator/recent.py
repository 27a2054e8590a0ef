"""A list that keeps only its newest items: for moto's append-only histories.

moto keeps every message an SNS topic published (`Topic.sent_notifications`) and every
email SES sent (`SESBackend.sent_messages`) for its own inspection API; AWS keeps
neither, and under a sustained load they were a steady share of the emulator's
memory growth. The patches swap those lists for `Recent(limit)`: `append` trims the
oldest in batches (amortised O(1)), reads see at least the newest `limit` items.

KEPT is 100 (it was 1,000): measured after 1,246 deliveries of the real pipeline
(issue 20h), the SES event topic's history alone held 1,491 event documents (3.4 MB
in memory with the book topic's; 2.7 MB, a quarter, of every state snapshot) and
SES's 1,246 sent emails 1.4 MB, none of it readable through AWS's APIs. A hundred
is still enough to look at the latest traffic through moto's inspection API.
"""

from __future__ import annotations

from typing import Any

KEPT = 100


class Recent(list[Any]):
    """A list whose `append` forgets the oldest items past about `limit` of them."""

    def __init__(self, limit: int = KEPT, items: Any = ()) -> None:
        super().__init__(items)
        self.limit = limit

    def append(self, item: Any) -> None:
        super().append(item)
        if len(self) >= 2 * self.limit:
            del self[:len(self) - self.limit]
