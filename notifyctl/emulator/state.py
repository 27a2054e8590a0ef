"""The emulator's state on disk: what survives `local stop` / `local start` and a crash.

In the emulator's state directory (`$XDG_STATE_HOME/notifyctl/emulator-<port>/`):

    snapshot.bin      one JSON header line, then a pickle of everything below
    outbox.sqlite3    the outbox, written as each email is accepted (outbox_store.py)

| what                                                    | where in the snapshot         |
|---------------------------------------------------------|-------------------------------|
| every moto backend in use: resources, table items, queue | "moto": service -> account -> |
|   messages, log events, metrics, function versions and   |   region -> backend object    |
|   aliases with their code, IAM, SES identities, ...      |                               |
| SES account: suppression list, sandbox, sending counters | "ses_accounts"                |
| alarm history (the alarms themselves are moto's)        | "alarm_history"               |
| CodeDeploy deployments (one still running at the stop   | "deployments"                 |
|   restarts as Failed, INTERNAL_ERROR, rolled back if    |                               |
|   the group says so)                                    |                               |
| queued async events (SNS -> Lambda, Invoke Event,       | "async_events"                |
|   retries waiting) and the ones still running, which    |                               |
|   run again after a restart (at least once, as Lambda)  |                               |

Not kept, on purpose: injected faults (test settings: a restart clears them), function
states (Pending / InProgress last a scaled 10 s: after a restart every function is
Active), warm environments and invocation counters (processes, not data).

When: every DEFAULT_INTERVAL_S (5 s; NOTIFYCTL_EMULATOR_SNAPSHOT_S, 0: only at the
stop) when something changed, and at every stop. The capture holds every moto lock
(0.6-0.85 s for a bootstrapped environment with 10,000 items and 10,000 emails on the
loaded 2-core machine), so the interval stretches to HOLD_SHARE times the last
capture when that is longer: moto is held at most a tenth of the time. A crash (kill -9,
power) loses what changed since the last snapshot: at most max(5 s, 10 x the last
capture) of moto state (about 8 s at that size), never an accepted email (the outbox
is written as it goes).

How: moto's backends pickle once their locks are replaced by fresh ones (SQS's
Condition, Lambda's WeakValueDictionary of ARNs, S3's locks): `_Pickler` does that
by type, without touching moto. The capture holds `server.moto_quiesced()` (every
lock that serialises moto) so the picture is consistent; it is written to a
temporary file, fsynced and renamed, so a crash during a write leaves the previous
snapshot. The header names the format, notifyctl's and moto's versions; a snapshot
from other versions is refused with `local start --fresh` as the way out (unpickling
moto objects across moto versions would build broken objects).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import platform
import sys
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
FILE_NAME = "snapshot.bin"
DEFAULT_INTERVAL_S = 5.0
ENV_INTERVAL = "NOTIFYCTL_EMULATOR_SNAPSHOT_S"
HOLD_SHARE = 10  # a periodic snapshot holds moto at most 1/10 of the time
ENV_FRESH_HINT = "start it empty with `notifyctl local start --fresh` (discards the saved state)"


class SnapshotRefused(Exception):
    """The saved state cannot be used by this emulator (other versions, unreadable)."""


@dataclass(frozen=True)
class Header:
    format: int
    notifyctl: str
    moto: str
    python: str
    saved_at: float

    @classmethod
    def current(cls, moto_version: str) -> Header:
        from notifyctl import __version__

        return cls(FORMAT, __version__, moto_version, platform.python_version(), time.time())

    def same_versions(self, other: Header) -> bool:
        return (self.format, self.notifyctl, self.moto, self.python.rsplit(".", 1)[0]) == \
            (other.format, other.notifyctl, other.moto, other.python.rsplit(".", 1)[0])


@dataclass(frozen=True)
class SaveReport:
    """One snapshot written: where, how big, how long the capture held moto's locks."""

    path: str
    bytes: int
    capture_ms: float
    write_ms: float
    async_events: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interval_s(environ: dict[str, str] | None = None) -> float:
    value = (environ if environ is not None else os.environ).get(ENV_INTERVAL, "").strip()
    try:
        return max(0.0, float(value)) if value else DEFAULT_INTERVAL_S
    except ValueError:
        return DEFAULT_INTERVAL_S


# -- pickling moto ------------------------------------------------------------------

def _fresh(factory: Callable[[], Any]) -> Callable[[Any], tuple[Any, tuple[()]]]:
    return lambda obj: (factory, ())


def _weak_values(obj: weakref.WeakValueDictionary[Any, Any]) -> tuple[Any, tuple[Any]]:
    return (weakref.WeakValueDictionary, (dict(obj.items()),))


def _defaultdict(obj: defaultdict[Any, Any]) -> tuple[Any, ...]:
    """A defaultdict whose factory is a lambda (moto: `defaultdict(lambda: {})`) is saved
    with the equivalent named factory (dict, list, set)."""
    factory = obj.default_factory
    if factory is not None and "<lambda>" in getattr(factory, "__qualname__", ""):
        sample = factory()
        if type(sample) not in (dict, list, set) or sample:
            raise pickle.PicklingError(f"defaultdict factory {factory!r} cannot be saved")
        factory = type(sample)
    return (defaultdict, (factory,), None, None, iter(obj.items()))


_DISPATCH: dict[type, Callable[[Any], Any]] = {
    defaultdict: _defaultdict,
    type(threading.Lock()): _fresh(threading.Lock),
    type(threading.RLock()): _fresh(threading.RLock),
    threading.Condition: _fresh(threading.Condition),
    threading.Event: _fresh(threading.Event),
    weakref.WeakValueDictionary: _weak_values,
}


def aws_managed_policy(account_id: str, partition: str, arn: str, attachments: int) -> Any:
    """An AWS managed policy, taken from the IAM backend moto builds (it loads the same
    ~1,300 policies at every start), with the attachment count saved."""
    from moto.iam.models import iam_backends

    policy = iam_backends[account_id][partition].managed_policies[arn]
    policy.attachment_count = attachments
    return policy


def _aws_policy(obj: Any) -> tuple[Any, tuple[str, str, str, int]]:
    return (aws_managed_policy, (obj.account_id, obj.partition, obj.arn, obj.attachment_count))


def dumps(data: Any) -> bytes:
    """Pickle `data`, replacing locks by fresh ones and weak dicts by their contents.

    AWS managed policies are saved by name (most of IAM's 4 MB per partition)."""
    import copyreg

    from moto.iam.models import AWSManagedPolicy

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, **_DISPATCH,
                              AWSManagedPolicy: _aws_policy}
    pickler.dump(data)
    return buf.getvalue()


def _pristine_iam(partition: str, backend: Any) -> bool:
    """moto creates IAM in every partition to look up an access key; one nobody wrote
    to is rebuilt identically at start, so it is not saved (a restore builds it again,
    loading ~1,300 managed policies: a second per partition)."""
    return (partition != "aws" and not backend.roles and not backend.users
            and not backend.groups and not backend.access_keys
            and len(backend.managed_policies) == len(backend.aws_managed_policies))


def moto_backends() -> dict[str, dict[str, dict[str, Any]]]:
    """service -> account -> region -> backend, for every moto backend in use."""
    from moto.core.base_backend import BackendDict

    out: dict[str, dict[str, dict[str, Any]]] = {}
    instances: list[Any] = list(BackendDict._instances)  # type: ignore[misc]
    for backends in instances:
        accounts = {}
        for account, regions in backends.items():
            kept = {region: backend for region, backend in regions.items()
                    if not (backends.service_name == "iam" and _pristine_iam(region, backend))}
            if kept:
                accounts[account] = kept
        if accounts:
            out[backends.service_name] = accounts
    return out


def install_moto_backends(saved: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put saved backends in place of moto's (each service's BackendDict)."""
    from moto.backends import get_backend

    for service, accounts in saved.items():
        backends: Any = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            per_account = backends[account]  # creates the account's dict (and registers it)
            for region, backend in regions.items():
                per_account[region] = backend


# -- the hub's state ----------------------------------------------------------------

def capture(hub: Any, quiesced: Callable[[], Any]) -> tuple[bytes, int, float]:
    """(pickled state, async events in it, ms moto was held) of a running hub.

    Under `quiesced` (every moto lock): SNS Publish enqueues and a delivery's calls
    reach moto under those locks, so the queue and moto's backends agree; a delivery
    whose moto calls are done but which still runs is saved as queued (it runs again:
    at least once, which book_notifier's de-duplication absorbs)."""
    from notifyctl.emulator import ses_account

    with quiesced():
        held = time.monotonic()
        events = hub.dispatcher.saved_events()
        data = {"async_events": events, "moto": moto_backends(),
                "ses_accounts": ses_account.saved(),
                "alarm_history": hub.alarms.history.saved() if hub.alarms else {},
                "deployments": hub.deployments.saved() if hub.deployments else []}
        payload = dumps(data)
        held_ms = (time.monotonic() - held) * 1000
    return payload, len(events), held_ms


def restore(hub: Any, data: dict[str, Any], quiesced: Callable[[], Any]) -> int:
    """Put a snapshot's state in place (before the server answers). Returns the number
    of async events queued again."""
    from notifyctl.emulator import ses_account

    with quiesced():
        install_moto_backends(data.get("moto", {}))
        ses_account.restore(data.get("ses_accounts", {}))
        if hub.alarms is not None:
            hub.alarms.history.restore(data.get("alarm_history", {}))
    if hub.deployments is not None:
        hub.deployments.restore(data.get("deployments", []))
    events = data.get("async_events", [])
    hub.dispatcher.restore(events)
    return len(events)


def reset(hub: Any, quiesced: Callable[[], Any]) -> dict[str, int]:
    """`local reset`: moto's backends, our engines, the queue and the outbox emptied."""
    from moto.core.base_backend import BackendDict

    from notifyctl.emulator import ses_account

    dropped = hub.dispatcher.clear()
    with quiesced():
        BackendDict.reset()
        ses_account.restore({})
        if hub.alarms is not None:
            hub.alarms.history.restore({})
        if hub.deployments is not None:
            hub.deployments.clear()
    emails = hub.outbox.count()
    hub.outbox.store.clear()
    hub.faults.clear()
    functions = hub.runtime.retire_all()
    return {"async_events": dropped, "emails": emails, "environments": functions}


# -- the file -----------------------------------------------------------------------

def write(path: Path, header: Header, payload: bytes) -> int:
    """header line + payload, atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    line = (json.dumps(asdict(header)) + "\n").encode("utf-8")
    with open(tmp, "wb") as fh:
        fh.write(line)
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return len(line) + len(payload)


def read_header(path: Path) -> Header | None:
    """The snapshot's header; None if there is no snapshot. SnapshotRefused if unreadable."""
    try:
        with open(path, "rb") as fh:
            line = fh.readline()
    except FileNotFoundError:
        return None
    try:
        return Header(**json.loads(line))
    except (ValueError, TypeError) as exc:
        raise SnapshotRefused(f"{path} is not a notifyctl emulator snapshot ({exc}); "
                              + ENV_FRESH_HINT) from None


def read(path: Path, expected: Header) -> dict[str, Any] | None:
    """The saved state, None without a snapshot; SnapshotRefused when it is from other
    versions or cannot be read."""
    header = read_header(path)
    if header is None:
        return None
    if not header.same_versions(expected):
        raise SnapshotRefused(
            f"the saved state in {path} was written by notifyctl {header.notifyctl} with "
            f"moto {header.moto} (Python {header.python}, format {header.format}); this is "
            f"notifyctl {expected.notifyctl} with moto {expected.moto} (Python "
            f"{expected.python}, format {expected.format}): {ENV_FRESH_HINT}")
    try:
        with open(path, "rb") as fh:
            fh.readline()
            data = pickle.load(fh)  # noqa: S301 - our own file, in the user's state dir
    except Exception as exc:  # noqa: BLE001 - any unpickling failure: refuse, never crash
        raise SnapshotRefused(f"the saved state in {path} cannot be read "
                              f"({type(exc).__name__}: {exc}); {ENV_FRESH_HINT}") from None
    if not isinstance(data, dict):
        raise SnapshotRefused(f"{path} holds no emulator state; {ENV_FRESH_HINT}")
    return data


def discard(state_dir: Path) -> list[str]:
    """`--fresh`: remove the snapshot and the outbox. Returns what was removed."""
    from notifyctl.emulator.outbox_store import FILE_NAME as OUTBOX

    removed = []
    for name in (FILE_NAME, OUTBOX, OUTBOX + "-wal", OUTBOX + "-shm"):
        target = state_dir / name
        if target.exists():
            target.unlink()
            removed.append(name)
    return removed


class Snapshotter:
    """Writes the hub's snapshot every `interval_s` when something changed, and on demand.

    `capture` returns the state to pickle (called with moto quiesced by the caller's
    function); `generation` tells whether anything changed since the last write."""

    def __init__(self, path: Path, header: Callable[[], Header],
                 capture: Callable[[], tuple[bytes, int, float]],
                 generation: Callable[[], int], interval: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_saved: Callable[[SaveReport], None] | None = None) -> None:
        self.path = path
        self._header = header
        self._capture = capture
        self._generation = generation
        self.interval = interval
        self._clock = clock
        self._on_saved = on_saved
        self._lock = threading.Lock()  # one write at a time
        self._saved_generation: int | None = None
        self.last: SaveReport | None = None
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Snapshotter:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._loop, name="snapshot", daemon=True)
            self._thread.start()
        return self

    def save(self, *, force: bool = False) -> SaveReport | None:
        """Write a snapshot now (None: nothing changed since the last one)."""
        with self._lock:
            generation = self._generation()
            if not force and generation == self._saved_generation:
                return None
            payload, events, held_ms = self._capture()
            written = self._clock()
            size = write(self.path, self._header(), payload)
            self._saved_generation = generation
            self.last = SaveReport(str(self.path), size, round(held_ms, 1),
                                   round((self._clock() - written) * 1000, 1), events)
            return self.last

    def close(self) -> None:
        self._stop.set()

    def next_wait(self) -> float:
        """The interval, stretched so that holding moto takes at most 1/HOLD_SHARE of the
        time (a big state's capture holds every moto lock for most of a second)."""
        held_s = self.last.capture_ms / 1000 if self.last is not None else 0.0
        return max(self.interval, HOLD_SHARE * held_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.next_wait()):
            try:
                report = self.save()
                if report is not None and self._on_saved is not None:
                    self._on_saved(report)
            except Exception as exc:  # noqa: BLE001 - keep serving; say so in the log
                self.failures += 1
                print(f"emulator: could not save the state to {self.path}: {exc!r}",
                      file=sys.stderr, flush=True)
