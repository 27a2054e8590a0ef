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
stop) when something changed, and at every stop.

Where the work runs: pickling costs what is STORED (0.1-1 s of CPU for a bootstrapped
environment with thousands of items and emails on the loaded 2-core machine), and it
used to run in the emulator's own process every 5 s under load: 16 % of the GIL of
an emulator delivering emails (py-spy, issue 20f). A periodic snapshot now forks
(POSIX): under every moto lock the hub's state is gathered and the process forks,
which freezes a consistent copy (copy-on-write) in the child; the locks are released
at once (moto is held for the fork, a few ms) and the CHILD pickles and writes the
file, then exits; the parent's snapshot thread reaps it (its CPU is reported as
`cpu_ms`). The serving process no longer pays for what is stored; the machine still
does, in the child, so the interval stretches to keep that at most a quarter of a
core (CPU_SHARE) and moto's hold at most a tenth of the time (HOLD_SHARE).
`local stop`, `local reset` and SIGTERM save in-process (nothing else runs then).

Crash bound: a crash (kill -9, power) loses what changed since the last snapshot
that was renamed in place: at most the wait (max(5 s, 10 x the hold, 4 x the child's
CPU)) plus the child's run time - about 5-6 s up to tens of thousands of items and
emails on this machine - never an accepted email (the outbox is written as it goes).
A crash of the parent while a child writes leaves that child to finish its (complete,
consistent) snapshot.

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

import gc
import io
import json
import os
import pickle
import platform
import signal
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
CPU_SHARE = 4  # ... and its child process works at most 1/4 of the time
# A child that has not written its snapshot by then is killed (the previous snapshot
# stays): a child stuck on something the fork copied mid-use must not stop the saves
# or hold up `local stop`, which waits for a child under way before its own save.
CHILD_TIMEOUT_S = 120.0
CHILD_POLL_S = 0.05
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
    """One snapshot written: where, how big, how long the capture held moto's locks,
    how long the pickling and writing took (`write_ms`: in the child when `forked`) and
    the CPU it cost (the child's, or the saving thread's)."""

    path: str
    bytes: int
    capture_ms: float
    write_ms: float
    async_events: int
    cpu_ms: float = 0.0
    forked: bool = False

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

def gather(hub: Any) -> dict[str, Any]:
    """The hub's state to pickle; the caller holds every moto lock (`quiesced`).

    SNS Publish enqueues and a delivery's calls reach moto under those locks, so the
    queue and moto's backends agree; a delivery whose moto calls are done but which
    still runs is saved as queued (it runs again: at least once, which book_notifier's
    de-duplication absorbs)."""
    from notifyctl.emulator import ses_account

    return {"async_events": hub.dispatcher.saved_events(), "moto": moto_backends(),
            "ses_accounts": ses_account.saved(),
            "alarm_history": hub.alarms.history.saved() if hub.alarms else {},
            "deployments": hub.deployments.saved() if hub.deployments else []}


def capture(hub: Any, quiesced: Callable[[], Any]) -> tuple[bytes, int, float]:
    """(pickled state, async events in it, ms moto was held) of a running hub, pickled
    in this process (`local stop`, `local reset`, SIGTERM)."""
    with quiesced():
        held = time.monotonic()
        data = gather(hub)
        payload = dumps(data)
        held_ms = (time.monotonic() - held) * 1000
    return payload, len(data["async_events"]), held_ms


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(signal, "pthread_sigmask")


def fork_writer(path: Path, header: Header, data: Callable[[], Any]) -> tuple[int, float]:
    """Fork; the child writes `data()` (called in the parent, under the caller's locks)
    to `path` and exits 0, or 1 with one line on stderr. Returns (child pid, ms from
    the call to the fork's return in the parent).

    The child has only this thread and a frozen copy of the heap: it touches no lock
    (our pickler replaces moto's locks by fresh ones), never returns into the parent's
    code (os._exit, no atexit, no buffered output flushed twice) and keeps SIGTERM /
    SIGINT blocked, so a signal sent to the emulator's process group cannot run the
    emulator's stop handler in it; it runs no garbage collection (no finalizer of an
    object the parent was about to free runs twice). Its memory: the pages it touches
    are copied (about the pickled part of the heap, for the child's short life)."""
    started = time.monotonic()
    gathered = data()
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                gc.disable()  # no collection: no finalizer of the parent's garbage runs here
                write(path, header, dumps(gathered))
                code = 0
            except BaseException as exc:  # noqa: BLE001 - report, then exit: never return
                os.write(2, f"emulator: the snapshot process could not write {path}: "
                            f"{exc!r}\n".encode())
            finally:
                os._exit(code)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return pid, (time.monotonic() - started) * 1000


def capture_forked(hub: Any, quiesced: Callable[[], Any], path: Path,
                   header: Header) -> tuple[int, int, float]:
    """A periodic snapshot written by a forked child: (child pid, async events in it, ms
    moto was held: the gathering and the fork, not the pickling)."""
    from moto.iam.models import AWSManagedPolicy  # noqa: F401 - imported before the fork

    events = [0]

    def data() -> dict[str, Any]:
        gathered = gather(hub)
        events[0] = len(gathered["async_events"])
        return gathered

    with quiesced():
        pid, held_ms = fork_writer(path, header, data)
    return pid, events[0], held_ms


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

    `capture` returns the pickled state (moto quiesced by the caller's function);
    `fork`, when given, is used by the periodic saves instead: it starts a child process
    that writes the snapshot to the path it is given and returns (pid, async events,
    ms moto was held); the saving thread waits for that child. `generation` tells
    whether anything changed since the last write."""

    def __init__(self, path: Path, header: Callable[[], Header],
                 capture: Callable[[], tuple[bytes, int, float]],
                 generation: Callable[[], int], interval: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_saved: Callable[[SaveReport], None] | None = None,
                 fork: Callable[[Path, Header], tuple[int, int, float]] | None = None,
                 child_timeout: float = CHILD_TIMEOUT_S) -> None:
        self.path = path
        self.child_timeout = child_timeout
        self._header = header
        self._capture = capture
        self._fork = fork
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

    def save(self, *, force: bool = False, forked: bool = False) -> SaveReport | None:
        """Write a snapshot now (None: nothing changed since the last one); `forked`: in
        a child process when the Snapshotter has `fork` (the periodic saves)."""
        with self._lock:
            generation = self._generation()
            if not force and generation == self._saved_generation:
                return None
            if forked and self._fork is not None:
                report = self._save_forked(self._fork)
            else:
                cpu = time.thread_time()
                payload, events, held_ms = self._capture()
                written = self._clock()
                size = write(self.path, self._header(), payload)
                report = SaveReport(str(self.path), size, round(held_ms, 1),
                                    round((self._clock() - written) * 1000, 1), events,
                                    cpu_ms=round((time.thread_time() - cpu) * 1000, 1))
            self._saved_generation = generation
            self.last = report
            return report

    def _save_forked(self, fork: Callable[[Path, Header], tuple[int, int, float]]) -> SaveReport:
        pid, events, held_ms = fork(self.path, self._header())
        started = self._clock()
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if self._clock() - started >= self.child_timeout:
                os.kill(pid, signal.SIGKILL)
                os.wait4(pid, 0)
                raise RuntimeError(f"the snapshot process {pid} had not finished after "
                                   f"{self.child_timeout:g} s: killed (the previous "
                                   "snapshot stays)")
            time.sleep(CHILD_POLL_S)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"the snapshot process {pid} exited with {code} "
                               f"(its error is the line above)")
        return SaveReport(str(self.path), self.path.stat().st_size, round(held_ms, 1),
                          round((self._clock() - started) * 1000, 1), events,
                          cpu_ms=round((usage.ru_utime + usage.ru_stime) * 1000, 1),
                          forked=True)

    def close(self) -> None:
        self._stop.set()

    def next_wait(self) -> float:
        """The interval, stretched so that holding moto takes at most 1/HOLD_SHARE of the
        time and the pickling at most 1/CPU_SHARE of a core (both grow with the state)."""
        if self.last is None:
            return self.interval
        return max(self.interval, HOLD_SHARE * self.last.capture_ms / 1000,
                   CPU_SHARE * self.last.cpu_ms / 1000)

    def _loop(self) -> None:
        while not self._stop.wait(self.next_wait()):
            try:
                report = self.save(forked=True)
                if report is not None and self._on_saved is not None:
                    self._on_saved(report)
            except Exception as exc:  # noqa: BLE001 - keep serving; say so in the log
                self.failures += 1
                print(f"emulator: could not save the state to {self.path}: {exc!r}",
                      file=sys.stderr, flush=True)
