"""Lambda function states: `Pending` -> `Active` after create, `LastUpdateStatus`
`InProgress` -> `Successful` after an update (AWS: "Lambda function states").

    CreateFunction            State Pending (StateReasonCode Creating)  ---delay--->  Active
      while Pending: Invoke, UpdateFunctionCode/Configuration, PublishVersion fail
      (ResourceConflictException)
    UpdateFunctionCode/Configuration   LastUpdateStatus InProgress  ---delay--->  Successful
      while InProgress: the State stays Active; invocations run the PREVIOUS code and
      configuration; another update or PublishVersion fails (ResourceConflictException)

The delay is AWS_STATE_CHANGE_S (the order of magnitude a create or a code update
takes on AWS) on the emulator's one clock: the server passes
`clock.scale(AWS_STATE_CHANGE_S)`, 0.1 s at the default time scale of 0.01.
Transitions happen lazily, when a state is next read, so no thread is needed.
No moto here: the Lambda patch keeps the snapshot that invocations use during an
update as an opaque object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AWS_STATE_CHANGE_S = 10.0  # AWS seconds a create or an update takes (scaled by the clock)

Key = tuple[str, str, str]  # (account, region, function name)


class FunctionBusy(Exception):
    """Lambda's ResourceConflictException for an operation during Pending/InProgress."""


@dataclass(frozen=True)
class StateView:
    """The state fields of a function's configuration, as AWS returns them."""

    state: str
    last_update_status: str | None  # None right after create (AWS omits it then)
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_reason: str | None = None
    last_update_reason_code: str | None = None

    def fields(self) -> dict[str, str]:
        out = {"State": self.state}
        for key, value in (("StateReason", self.state_reason),
                           ("StateReasonCode", self.state_reason_code),
                           ("LastUpdateStatus", self.last_update_status),
                           ("LastUpdateStatusReason", self.last_update_reason),
                           ("LastUpdateStatusReasonCode", self.last_update_reason_code)):
            if value is not None:
                out[key] = value
        return out


ACTIVE = StateView("Active", "Successful")


@dataclass
class _Record:
    pending_until: float | None = None
    updating_until: float | None = None
    previous: Any = None  # what invocations of $LATEST run while an update is in progress


class FunctionStates:
    """Every function's state, per (account, region, name). Thread-safe."""

    def __init__(self, delay_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delay_s = delay_s  # real seconds (the server scales AWS_STATE_CHANGE_S)
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[Key, _Record] = {}

    # -- transitions -----------------------------------------------------------------
    def created(self, key: Key) -> None:
        with self._lock:
            self._records[key] = _Record(pending_until=self._clock() + self.delay_s)

    def begin_update(self, key: Key, arn: str, previous: Any) -> None:
        """Start an update (raises FunctionBusy during Pending or another update)."""
        with self._lock:
            record = self._settled(key)
            self._refuse_if_busy(record, arn)
            record.updating_until = self._clock() + self.delay_s
            record.previous = previous

    def check_idle(self, key: Key, arn: str) -> None:
        """Raise FunctionBusy unless the function is Active with no update in progress."""
        with self._lock:
            self._refuse_if_busy(self._settled(key), arn)

    def check_invokable(self, key: Key) -> None:
        with self._lock:
            if self._settled(key).pending_until is not None:
                raise FunctionBusy("The operation cannot be performed at this time. "
                                   "The function is currently in the following state: Pending")

    def forget(self, key: Key) -> None:
        with self._lock:
            self._records.pop(key, None)

    # -- reads -----------------------------------------------------------------------
    def view(self, key: Key) -> StateView:
        with self._lock:
            record = self._settled(key)
            if record.pending_until is not None:
                return StateView("Pending", None, "The function is being created.", "Creating")
            if record.updating_until is not None:
                # The reason AWS's own example shows for an update in progress.
                return StateView("Active", "InProgress",
                                 last_update_reason="The function is being created.",
                                 last_update_reason_code="Creating")
            return ACTIVE

    def serving(self, key: Key) -> Any:
        """The snapshot invocations of $LATEST use during an update, else None."""
        with self._lock:
            return self._settled(key).previous

    # -- internals (with the lock) ---------------------------------------------------
    def _settled(self, key: Key) -> _Record:
        record = self._records.setdefault(key, _Record())
        now = self._clock()
        if record.pending_until is not None and now >= record.pending_until:
            record.pending_until = None
        if record.updating_until is not None and now >= record.updating_until:
            record.updating_until, record.previous = None, None
        return record

    @staticmethod
    def _refuse_if_busy(record: _Record, arn: str) -> None:
        if record.pending_until is not None:
            raise FunctionBusy("The operation cannot be performed at this time. "
                               "The function is currently in the following state: Pending")
        if record.updating_until is not None:
            raise FunctionBusy("The operation cannot be performed at this time. "
                               f"An update is in progress for resource: {arn}")
