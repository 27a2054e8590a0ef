"""Issue 20: the emulator's state on disk — the outbox store, the snapshot file and its
version check, the pickling of what moto holds, the dispatcher's pause/save/restore."""

from __future__ import annotations

import os
import signal
import threading
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from test_emulator_delivery import FakeBackend, FakeRuntime, event

from notifyctl.emulator import state
from notifyctl.emulator.delivery import AsyncConfig, Dispatcher
from notifyctl.emulator.outbox_store import OutboxStore

pytestmark = pytest.mark.unit


def email(n: int, to: str = "jane@example.com", time_ms: int = 0) -> tuple[dict[str, Any], int]:
    return {"message_id": f"m{n}", "to": [to], "cc": [], "bcc": [], "subject": f"s{n}"}, \
        time_ms or 1000 * n


# -- the outbox ---------------------------------------------------------------------

def test_the_outbox_keeps_every_email_past_the_old_10000_cap(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "outbox.sqlite3")
    for n in range(10_050):
        store.add(*email(n))
    assert store.count() == 10_050
    assert [e["message_id"] for e in store.page(limit=2).emails] == ["m10048", "m10049"]
    assert next(iter(store.all()))["message_id"] == "m0"


def test_the_outbox_survives_reopening_and_counts_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = OutboxStore(path)
    first.add(*email(1))
    first.close()
    again = OutboxStore(path)
    assert again.count() == 1
    assert again.page().emails[0]["subject"] == "s1"


def test_the_outbox_pages_by_time_and_recipient_case_insensitively() -> None:
    store = OutboxStore(None)
    store.add(*email(1, "Jane@Example.com", 1_000))
    store.add(*email(2, "bob@example.com", 2_000))
    store.add(*email(3, "jane@example.com", 3_000))
    store.add(*email(4, "janet@example.com", 4_000))

    page = store.page(to="JANE@example.com")
    assert [e["message_id"] for e in page.emails] == ["m1", "m3"]
    assert (page.total, page.matched) == (4, 2)
    assert [e["message_id"] for e in store.page(since_ms=2_000, limit=1).emails] == ["m4"]
    assert store.page(since_ms=2_000, limit=1).matched == 3
    store.clear()
    assert store.count() == 0 and store.page().emails == []


# -- the snapshot file --------------------------------------------------------------

class Holder:
    """Something a weak dict refers to (held strongly elsewhere, as moto's functions)."""


def test_locks_weak_dicts_and_lambda_defaultdicts_pickle_as_fresh_equivalents() -> None:
    import pickle

    kept = Holder()
    data = {"lock": threading.Lock(), "rlock": threading.RLock(),
            "cond": threading.Condition(), "weak": weakref.WeakValueDictionary({"a": kept}),
            "aliases": defaultdict(lambda: {}, {"f": {"live": 1}}), "kept": kept}
    data["lock"].acquire()  # a held lock comes back free
    back = pickle.loads(state.dumps(data))

    assert back["lock"].acquire(blocking=False)
    with back["cond"]:
        back["cond"].notify_all()
    assert back["weak"]["a"] is back["kept"]
    assert back["aliases"]["f"] == {"live": 1} and back["aliases"]["new"] == {}


def test_a_defaultdict_whose_factory_builds_something_else_is_refused() -> None:
    import pickle

    with pytest.raises(pickle.PicklingError):
        state.dumps(defaultdict(lambda: [1]))


def header(**changes: Any) -> state.Header:
    base = {"format": state.FORMAT, "notifyctl": "0.1.0", "moto": "5.2.5",
            "python": "3.11.9", "saved_at": 0.0}
    return state.Header(**{**base, **changes})


def test_a_snapshot_reads_back_with_the_same_versions(tmp_path: Path) -> None:
    path = tmp_path / state.FILE_NAME
    state.write(path, header(), state.dumps({"moto": {}, "answer": 42}))
    assert state.read(path, header(python="3.11.4", saved_at=9.0)) == {"moto": {}, "answer": 42}
    assert state.read(tmp_path / "none", header()) is None
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed


@pytest.mark.parametrize("other", [{"moto": "5.2.6"}, {"notifyctl": "0.2.0"},
                                   {"format": state.FORMAT + 1}, {"python": "3.12.1"}])
def test_a_snapshot_from_other_versions_is_refused_naming_fresh(tmp_path: Path,
                                                                other: dict[str, Any]) -> None:
    path = tmp_path / state.FILE_NAME
    state.write(path, header(**other), state.dumps({}))
    with pytest.raises(state.SnapshotRefused) as err:
        state.read(path, header())
    assert "--fresh" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"garbage", b'{"format": 1}\n',
                                     b'{"format": 1, "notifyctl": "0.1.0", "moto": "5.2.5", '
                                     b'"python": "3.11.9", "saved_at": 0}\nnot a pickle'])
def test_an_unreadable_snapshot_is_refused_not_a_crash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / state.FILE_NAME
    path.write_bytes(content)
    with pytest.raises(state.SnapshotRefused, match="--fresh"):
        state.read(path, header())


def test_fresh_discards_the_snapshot_and_the_outbox(tmp_path: Path) -> None:
    (tmp_path / state.FILE_NAME).write_bytes(b"x")
    OutboxStore(tmp_path / "outbox.sqlite3").add(*email(1))
    assert set(state.discard(tmp_path)) >= {state.FILE_NAME, "outbox.sqlite3"}
    assert OutboxStore(tmp_path / "outbox.sqlite3").count() == 0


def test_the_snapshotter_writes_only_when_something_changed(tmp_path: Path) -> None:
    generation = [0]
    captures: list[int] = []

    def capture() -> tuple[bytes, int, float]:
        captures.append(generation[0])
        return state.dumps({"g": generation[0]}), 0, 0.0

    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header, capture,
                              lambda: generation[0], interval=0)
    assert snaps.save() is not None
    assert snaps.save() is None
    generation[0] += 1
    assert snaps.save() is not None
    assert snaps.save(force=True) is not None
    assert captures == [0, 1, 1]


@pytest.mark.parametrize(("value", "expected"), [("", 5.0), ("0", 0.0), ("1.5", 1.5),
                                                 ("nope", 5.0), ("-3", 0.0)])
def test_the_snapshot_interval_comes_from_the_environment(value: str, expected: float) -> None:
    assert state.interval_s({state.ENV_INTERVAL: value}) == expected


# -- the async queue ----------------------------------------------------------------

def test_a_paused_dispatcher_keeps_its_queue_for_the_snapshot_and_a_restore_runs_it() -> None:
    runtime = FakeRuntime(["ok", "ok"])
    backend = FakeBackend(AsyncConfig())
    paused = Dispatcher(runtime, backend, retry_scale=0.0, threads=1)  # type: ignore[arg-type]
    drained = paused.pause(0.0)
    assert (drained.queued, drained.unfinished) == (0, 0)
    paused.submit(event(request_id="a"))
    paused.submit(event(request_id="b"), delay_s=3600)
    saved = paused.saved_events()
    paused.close()

    assert runtime.calls == []  # paused: nothing started
    assert [e.request_id for _, e in saved] == ["a", "b"]
    assert saved[0][0] == 0.0 and 3500 < saved[1][0] <= 3600

    restored = Dispatcher(runtime, backend, retry_scale=0.0, threads=1)  # type: ignore[arg-type]
    restored.restore([(0.0, e) for _, e in saved])
    done = threading.Event()
    for _ in range(2000):
        if restored.idle():
            done.set()
            break
        done.wait(0.005)
    restored.close()
    assert sorted(runtime.calls) == ["a", "b"]


def test_refused_sns_deliveries_are_kept_with_their_reason() -> None:
    runtime = FakeRuntime([])
    backend = FakeBackend(AsyncConfig(), allowed=False)
    dispatcher = Dispatcher(runtime, backend, retry_scale=0.0, threads=1)  # type: ignore[arg-type]
    dispatcher.submit(event(source="sns", topic_arn="arn:aws:sns:us-east-1:1:t"))
    done = threading.Event()
    for _ in range(2000):
        if dispatcher.idle() and dispatcher.snapshot_refused():
            done.set()
            break
        done.wait(0.005)
    dispatcher.close()
    (refused,) = dispatcher.snapshot_refused()
    assert refused["topic"] == "arn:aws:sns:us-east-1:1:t"
    assert "resource policy does not allow sns.amazonaws.com" in refused["reason"]
    assert dispatcher.clear() == 0 and dispatcher.snapshot_refused() == []


def test_a_slow_capture_stretches_the_interval_to_hold_moto_a_tenth_of_the_time(
        tmp_path: Path) -> None:
    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header,
                              lambda: (b"", 0, 800.0), lambda: 1, interval=5.0)
    assert snaps.next_wait() == 5.0
    snaps.save()
    assert snaps.next_wait() == pytest.approx(8.0)


@pytest.mark.parametrize("size", [0, 1, 1001, 2500])
def test_moto_histories_trimmed_by_recent_come_back_with_their_limit(size: int) -> None:
    import pickle

    from notifyctl.emulator.recent import Recent

    history = Recent(1000)
    for n in range(size):
        history.append(n)
    back = pickle.loads(state.dumps({"h": history}))["h"]
    assert type(back) is Recent and back.limit == 1000 and list(back) == list(history)
    back.append("next")
    assert back[-1] == "next"


# -- periodic snapshots written by a forked child (issue 20f) -------------------------

needs_fork = pytest.mark.skipif(not state.can_fork(), reason="POSIX fork")


def _payload(path: Path) -> bytes:
    with open(path, "rb") as fh:
        fh.readline()
        return fh.read()


def _forking(data: dict[str, Any], forks: list[int]) -> Any:
    def fork(path: Path, head: state.Header) -> tuple[int, int, float]:
        pid, held_ms = state.fork_writer(path, head, lambda: data)
        forks.append(pid)
        return pid, len(data.get("async_events", [])), held_ms
    return fork


@needs_fork
def test_a_forked_snapshot_holds_the_same_bytes_as_one_pickled_in_process(
        tmp_path: Path) -> None:
    lock = threading.Lock()
    data: dict[str, Any] = {"async_events": [(0.0, "e1")], "moto": {"table": {"k": [1, 2]}},
                            "lock": lock, "weak": weakref.WeakValueDictionary()}
    forks: list[int] = []
    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header, lambda: (b"", 0, 0.0),
                              lambda: 1, interval=0, fork=_forking(data, forks))

    with lock:  # held in the parent at the fork: the child never waits for it
        report = snaps.save(forked=True)

    assert report is not None and report.forked and len(forks) == 1 and forks[0] > 0
    assert report.async_events == 1 and report.cpu_ms >= 0
    assert report.bytes == (tmp_path / state.FILE_NAME).stat().st_size
    assert _payload(tmp_path / state.FILE_NAME) == state.dumps(data)
    back = state.read(tmp_path / state.FILE_NAME, header())
    assert back is not None and back["moto"] == {"table": {"k": [1, 2]}}


@needs_fork
def test_the_child_writes_the_state_as_it_was_at_the_fork(tmp_path: Path) -> None:
    data: dict[str, Any] = {"items": list(range(5))}
    path = tmp_path / state.FILE_NAME
    pid, _ = state.fork_writer(path, header(), lambda: data)
    data["items"].append("written after the fork")  # the parent goes on changing its state
    _, status, _ = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert state.read(path, header()) == {"items": [0, 1, 2, 3, 4]}


@needs_fork
def test_nothing_changed_means_no_child_and_the_file_is_not_rewritten(tmp_path: Path) -> None:
    generation = [0]
    forks: list[int] = []
    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header, lambda: (b"", 0, 0.0),
                              lambda: generation[0], interval=0,
                              fork=_forking({"g": 1}, forks))
    assert snaps.save(forked=True) is not None
    written = (tmp_path / state.FILE_NAME).stat()
    assert snaps.save(forked=True) is None
    assert len(forks) == 1
    after = (tmp_path / state.FILE_NAME).stat()
    assert (after.st_ino, after.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    generation[0] += 1
    assert snaps.save(forked=True) is not None and len(forks) == 2


@needs_fork
def test_a_child_that_cannot_pickle_fails_the_save_and_keeps_the_previous_snapshot(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / state.FILE_NAME
    state.write(path, header(), state.dumps({"previous": True}))
    bad = defaultdict(lambda: {"not": "empty"})  # a factory the pickler refuses
    generation = [1]
    snaps = state.Snapshotter(path, header, lambda: (b"", 0, 0.0), lambda: generation[0],
                              interval=0, fork=_forking({"bad": bad}, []))

    with pytest.raises(RuntimeError, match="exited with 1"):
        snaps.save(forked=True)

    assert "could not write" in capfd.readouterr().err
    assert state.read(path, header()) == {"previous": True}
    assert not list(tmp_path.glob(".*.tmp"))  # it failed before writing anything


@needs_fork
def test_a_child_that_never_finishes_is_killed_and_the_previous_snapshot_stays(
        tmp_path: Path) -> None:
    path = tmp_path / state.FILE_NAME
    state.write(path, header(), state.dumps({"previous": True}))
    children: list[int] = []

    def stuck(_path: Path, _head: state.Header) -> tuple[int, int, float]:
        pid = os.fork()
        if pid == 0:  # a child stuck on a lock the fork copied while another thread held it
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            threading.Event().wait()
            os._exit(0)
        children.append(pid)
        return pid, 0, 0.0

    snaps = state.Snapshotter(path, header, lambda: (b"", 0, 0.0), lambda: 1, interval=0,
                              fork=stuck, child_timeout=0.2)
    with pytest.raises(RuntimeError, match="had not finished after 0.2 s: killed"):
        snaps.save(forked=True)

    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(children[0], os.WNOHANG)
    assert state.read(path, header()) == {"previous": True}
    assert snaps.save(force=True) is not None  # the lock is free: the next save runs


def test_stop_and_reset_saves_run_in_process_even_with_a_fork(tmp_path: Path) -> None:
    forks: list[int] = []
    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header,
                              lambda: (state.dumps({"in": "process"}), 2, 1.0), lambda: 1,
                              interval=0, fork=_forking({"g": 1}, forks))
    report = snaps.save(force=True)
    assert report is not None and not report.forked and forks == []
    assert state.read(tmp_path / state.FILE_NAME, header()) == {"in": "process"}


def test_the_child_cpu_stretches_the_interval_to_a_quarter_of_a_core(tmp_path: Path) -> None:
    snaps = state.Snapshotter(tmp_path / state.FILE_NAME, header, lambda: (b"", 0, 0.0),
                              lambda: 1, interval=5.0)
    snaps.last = state.SaveReport("p", 1, capture_ms=5.0, write_ms=2000.0, async_events=0,
                                  cpu_ms=2000.0, forked=True)
    assert snaps.next_wait() == pytest.approx(state.CPU_SHARE * 2.0)
    snaps.last = state.SaveReport("p", 1, 5.0, 100.0, 0, cpu_ms=100.0, forked=True)
    assert snaps.next_wait() == 5.0
