"""SQS: a long poll (ReceiveMessage WaitTimeSeconds) waits without holding the lock.

moto's receive_message loops over `Queue.wait_for_messages(1)` while the request
holds the emulator's lock (backends.MotoLock): held, it would stall every other SQS
call for up to 20 s, including the SendMessage that would end the wait. The wait
releases the thread's locks and takes them back, in order, before moto looks at the
queue again (its loop re-reads the queue after each wait).
"""

from __future__ import annotations

import threading
from typing import Any

_waiting_lock = threading.Lock()
_waiting = [0]  # long polls waiting now (`/_notifyctl/status` "sqs_polls_waiting")


def polls_waiting() -> int:
    """How many ReceiveMessage long polls are waiting for a message now."""
    return _waiting[0]


def _add_waiting(n: int) -> None:
    with _waiting_lock:
        _waiting[0] += n


def targets() -> list[tuple[Any, str]]:
    from moto.sqs.models import Queue

    return [(Queue, "wait_for_messages")]


def apply() -> None:
    from moto.sqs import models

    from notifyctl.emulator.backends import MOTO_LOCK

    Queue: Any = models.Queue  # Any: we assign to its methods
    original = Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        _add_waiting(1)
        try:
            with MOTO_LOCK.released():
                original(self, timeout)
        finally:
            _add_waiting(-1)

    Queue.wait_for_messages = wait_for_messages
