"""The Lambda runtime on its own (worker processes, no moto): concurrency,
environment retirement, logging format."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifyctl.emulator.runtime import pool
from notifyctl.emulator.runtime.pool import FunctionSpec, Invocation, Runtime

pytestmark = pytest.mark.integration

SOURCE = """
import logging, os, sys, threading, time
logger = logging.getLogger("app")
logger.setLevel(logging.INFO)

def handler(event, context):
    if event.get("log"):
        logger.info("two\\nlines")
    if event.get("hold"):
        time.sleep(event["hold"])
    if event.get("exit"):
        sys.exit(2)
    return {"pid": os.getpid(), "tag": TAG}

TAG = "%s"
"""


class Recorder:
    def __init__(self) -> None:
        self.logs: list[tuple[str, int, str]] = []
        self.records: list[tuple[str | None, Invocation | None, bool]] = []
        self.lock = threading.Lock()

    def create_stream(self, spec: FunctionSpec, stream: str) -> None:
        pass

    def put_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        with self.lock:
            self.logs += [(stream, ts, msg) for ts, msg in events]

    def record(self, spec: FunctionSpec, resource: str | None, invocation: Invocation | None,
               throttled: bool = False) -> None:
        with self.lock:
            self.records.append((resource, invocation, throttled))


def spec(tag: str, source: str = SOURCE, **changes: Any) -> FunctionSpec:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source % tag)
    fields = dict(account_id="123456789012", region="us-east-1", name="fn", version="$LATEST",
                  arn="arn:aws:lambda:us-east-1:123456789012:function:fn", handler="app.handler",
                  runtime="python3.11", memory_mb=128, timeout_s=5, environment=(),
                  code_sha256=tag, code=buf.getvalue())
    fields.update(changes)
    return FunctionSpec(**fields)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[tuple[Runtime, Recorder]]:
    recorder = Recorder()
    rt = Runtime(tmp_path, "http://127.0.0.1:9", recorder, max_environments=4)
    yield rt, recorder
    rt.close()


def burst(rt: Runtime, n: int) -> list[dict[str, Any]]:
    """`n` overlapping invocations of function `fn` (each holds 0.3 s): their answers."""
    results: list[dict[str, Any]] = []

    def call() -> None:
        results.append(json.loads(rt.invoke(spec("a"), json.dumps({"hold": 0.3})).payload))

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_overlapping_invocations_run_in_separate_environments(runtime: Any) -> None:
    rt, _ = runtime
    results = burst(rt, 3)

    assert len({r["pid"] for r in results}) == 3
    assert rt.status()[0]["warm"] == 3


def test_a_burst_of_one_function_keeps_another_functions_warm_environment(
        tmp_path: Path) -> None:
    """Each function scales on its own (AWS: only the account's concurrency is shared).
    The local cap is per function: a burst of `fn` up to its cap does not evict `other`'s
    idle environment, so `other`'s next invocation is warm (same process)."""
    rt = Runtime(tmp_path, "http://127.0.0.1:9", Recorder(), max_environments=2)
    try:
        other = spec("a", name="other", arn="arn:aws:lambda:us-east-1:123456789012:function:other")
        first = json.loads(rt.invoke(other, "{}").payload)["pid"]
        results = burst(rt, 3)

        assert len(results) == 3
        assert len({r["pid"] for r in results}) <= 2  # fn's own cap
        assert {f["name"]: f["warm"] for f in rt.status()} == {"fn": 2, "other": 1}
        assert json.loads(rt.invoke(other, "{}").payload)["pid"] == first
        assert {f["name"]: f["cold_starts"] for f in rt.status()}["other"] == 1
    finally:
        rt.close()


SLOW_INIT = "import time\ntime.sleep(%s)\n" + SOURCE % "slow"


def test_an_init_over_its_limit_is_retried_within_the_invocation(
        runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS: an Init phase over 10 s is retried at the first invocation with the function's
    timeout (a loaded machine's burst of cold starts is slow, not failed). The limit is
    lowered here so a 0.5 s module import passes it."""
    rt, recorder = runtime
    monkeypatch.setattr(pool, "INIT_TIMEOUT_S", 0.1)

    result = rt.invoke(spec("0.5", source=SLOW_INIT, timeout_s=30), "{}")

    assert result.ok, result.payload
    assert json.loads(result.payload)["tag"] == "slow"
    assert sum(1 for _, _, m in recorder.logs if m.startswith("INIT_START")) == 2


def test_a_retried_init_that_outlasts_the_function_timeout_times_the_invocation_out(
        runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rt, _ = runtime
    monkeypatch.setattr(pool, "INIT_TIMEOUT_S", 0.1)

    result = rt.invoke(spec("30", source=SLOW_INIT, timeout_s=1), "{}")

    assert (result.function_error, result.error_type) == ("Unhandled", "Sandbox.Timedout")
    assert json.loads(result.payload)["errorMessage"].endswith(
        "Task timed out after 1.00 seconds")


def test_new_code_retires_the_old_environments(runtime: Any) -> None:
    rt, _ = runtime
    old = json.loads(rt.invoke(spec("old"), "{}").payload)

    new = json.loads(rt.invoke(spec("new"), "{}").payload)

    assert (old["tag"], new["tag"]) == ("old", "new")
    assert old["pid"] != new["pid"]
    assert rt.status()[0]["warm"] == 1


def test_retiring_a_function_stops_its_idle_environments_at_once(runtime: Any) -> None:
    """Issue 20: DeleteFunction / UpdateFunctionCode / UpdateFunctionConfiguration call
    retire(): the old workers go now, not after the 15-minute idle timeout."""
    rt, _ = runtime
    pid = json.loads(rt.invoke(spec("a"), "{}").payload)["pid"]
    rt.invoke(spec("a", version="1"), "{}")
    other = spec("a", name="other", arn="arn:aws:lambda:us-east-1:123456789012:function:other")
    rt.invoke(other, "{}")

    assert rt.retire("123456789012", "us-east-1", "fn", "$LATEST") == 1
    assert {f["name"]: f["warm"] for f in rt.status()} == {"fn": 1, "other": 1}
    assert not _process_alive(pid)
    assert rt.retire("123456789012", "us-east-1", "fn") == 1  # every version
    assert rt.retire_all() == 1
    assert sum(f["warm"] for f in rt.status()) == 0


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def test_logging_records_are_single_events_in_lambda_format(runtime: Any) -> None:
    rt, recorder = runtime

    result = rt.invoke(spec("a"), json.dumps({"log": True}))

    messages = [m for _, _, m in recorder.logs]
    (line,) = [m for m in messages if m.startswith("[INFO]")]
    assert re.fullmatch(r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
                        + re.escape(result.request_id) + r"\ttwo\nlines\n", line)


def test_sys_exit_in_the_handler_is_a_runtime_exit_error(runtime: Any) -> None:
    rt, recorder = runtime

    result = rt.invoke(spec("a"), json.dumps({"exit": True}))
    after = rt.invoke(spec("a"), "{}")

    assert json.loads(result.payload)["errorType"] == "Runtime.ExitError"
    assert "exit status 2" in json.loads(result.payload)["errorMessage"]
    assert after.ok and after.init_ms is not None


def test_metrics_hooks_see_every_invocation_with_its_resource(runtime: Any) -> None:
    rt, recorder = runtime

    rt.invoke(spec("a"), "{}", resource="fn:live")

    ((resource, invocation, throttled),) = recorder.records
    assert resource == "fn:live" and invocation is not None and invocation.ok
    assert not throttled


def test_reserved_concurrency_throttles_the_overflow(runtime: Any) -> None:
    from notifyctl.emulator.runtime.pool import Throttled

    rt, recorder = runtime
    limited = spec("a", reserved_concurrency=1)
    started = threading.Event()
    outcome: list[Any] = []

    def hold() -> None:
        started.set()
        outcome.append(rt.invoke(limited, json.dumps({"hold": 0.5})))

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait()
    deadline = threading.Event()
    for _ in range(200):  # until the first invocation is in flight
        if rt._in_flight.get("fn"):
            break
        deadline.wait(0.005)
    with pytest.raises(Throttled):
        rt.invoke(limited, "{}")
    thread.join()

    assert outcome[0].ok
    assert any(throttled for _, _, throttled in recorder.records)
