"""One lock per service: an SQS long poll waiting on an empty queue stalls nothing else."""

from __future__ import annotations

import threading
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_long_poll_does_not_stall_other_services_or_sends(emulator: Any) -> None:
    sqs, sns, ddb = (emulator.client(s) for s in ("sqs", "sns", "dynamodb"))
    url = sqs.create_queue(QueueName="lock-long-poll")["QueueUrl"]
    received: list[dict[str, Any]] = []
    poll_done = threading.Event()

    def poll() -> None:
        # 20 s, AWS's longest wait: the send below ends it, not the clock.
        received.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
                        .get("Messages", []))
        poll_done.set()

    before = emulator.status().get("sqs_polls_waiting", 0)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    emulator.wait_until(lambda: emulator.status().get("sqs_polls_waiting", 0) > before,
                        what="the long poll to be waiting")

    sns.list_topics()
    ddb.list_tables()
    assert not poll_done.is_set(), "the poll ended before the other calls: nothing was proved"
    # The poll waits without the SQS lock too: the send that ends it gets in.
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poller.join(timeout=30)

    assert poll_done.is_set()
    assert [m["Body"] for m in received] == ["wake up"]
