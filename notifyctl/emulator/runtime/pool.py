"""Warm execution environments for the emulator's Lambda runtime.

A `Runtime` keeps one pool of worker processes per function version (and per
code + configuration: updating $LATEST retires the old environments, as Lambda
does). Each worker runs one invocation at a time; overlapping invocations start
more workers, up to a concurrency cap shared by all functions. No moto here:
logs and metrics leave through a `Telemetry` object given by the server.

An invocation, as the function's log stream sees it:

    INIT_START ...                       (cold start only: a new worker)
    <module-level output>                (cold start only)
    START RequestId: <id> Version: <v>
    <handler output>
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: ..  Billed Duration: ..  Memory Size: ..  Max Memory Used: ..
           [Init Duration: ..]  [Status: timeout|error]

Timeout: the worker is killed at the deadline; the invocation fails with
"Task timed out after N.00 seconds" and the next invocation gets a new worker.
A handler that exits or crashes its process fails that invocation only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import shutil
import site
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifyctl.emulator.faults import FUNCTION_ACCESS_KEY_ID

WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))
INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase
LOG_TAIL_BYTES = 4096  # what Invoke returns with LogType=Tail
DEFAULT_IDLE_TTL_S = 15 * 60


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to run one version of a function (a snapshot)."""

    account_id: str
    region: str
    name: str
    version: str  # "$LATEST" or "1", "2", ...
    arn: str  # unqualified function ARN
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    code: bytes = field(compare=False, repr=False, default=b"")
    reserved_concurrency: int | None = field(compare=False, default=None)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def slot(self) -> tuple[str, str]:
        """The (function, version) this spec occupies; a new spec there retires the old."""
        return (self.arn, self.version)


@dataclass
class Invocation:
    """The outcome of one invocation."""

    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as in X-Amz-Function-Error
    executed_version: str
    duration_ms: float
    init_ms: float | None = None
    log_tail: str = ""
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.function_error is None


class Throttled(Exception):
    """The function's reserved concurrency is in use (Lambda: TooManyRequestsException)."""


class Telemetry(Protocol):
    def create_stream(self, spec: FunctionSpec, stream: str) -> None: ...
    def put_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None: ...
    def record(self, spec: FunctionSpec, resource: str | None, invocation: Invocation | None,
               throttled: bool = False) -> None: ...


class NullTelemetry:
    def create_stream(self, spec: FunctionSpec, stream: str) -> None:
        pass

    def put_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        pass

    def record(self, spec: FunctionSpec, resource: str | None, invocation: Invocation | None,
               throttled: bool = False) -> None:
        pass


def _now_ms() -> int:
    return int(time.time() * 1000)


def runtime_path() -> str:
    """Where the worker finds boto3 & co (Lambda's runtime provides boto3): our site-packages."""
    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    return os.pathsep.join(paths)


def lambda_environment(spec: FunctionSpec, *, stream: str, task_root: str, tmpdir: str,
                       endpoint: str) -> dict[str, str]:
    """The process environment of a Lambda execution environment (the reserved
    variables win over the function's own, as AWS forbids setting them)."""
    env = dict(spec.environment)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": tmpdir,
        "TMPDIR": tmpdir,
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": str(Path(WORKER_SCRIPT).parent),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        # Dummy role credentials: the emulator does not check them.
        "AWS_ACCESS_KEY_ID": FUNCTION_ACCESS_KEY_ID,  # how faults.py knows a function
        "AWS_SECRET_ACCESS_KEY": "emulator-secret-key",
        "AWS_SESSION_TOKEN": "emulator-session-token",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "_NOTIFYCTL_RUNTIME_PATH": runtime_path(),
    })
    return env


def new_stream_name(version: str, when: float | None = None) -> str:
    """AWS's stream name for an execution environment: YYYY/MM/DD/[VERSION]<32 hex>."""
    day = time.strftime("%Y/%m/%d", time.gmtime(when if when is not None else time.time()))
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def extract_code(spec: FunctionSpec, root: Path) -> Path:
    """Unzip the version's code once into root/<name>/<version>-<sha>/ (reused across runs)."""
    safe_sha = spec.code_sha256.replace("/", "_").replace("+", "-").rstrip("=")[:24]
    version = spec.version.replace("$", "")
    target = root / spec.name / f"{version}-{safe_sha}"
    marker = target / ".notifyctl-complete"
    if marker.exists():
        return target
    tmp = target.with_name(target.name + f".tmp{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    import io

    with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
        for info in archive.infolist():
            dest = (tmp / info.filename).resolve()
            if not str(dest).startswith(str(tmp.resolve())):
                continue  # a path escaping the task root: skip, as unzip -: would refuse
            archive.extract(info, tmp)
    (tmp / ".notifyctl-complete").write_text(spec.code_sha256)
    try:
        tmp.rename(target)
    except OSError:  # another thread won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class Worker:
    """One execution environment (a process) of one function version."""

    def __init__(self, spec: FunctionSpec, task_root: Path, env_root: Path, endpoint: str) -> None:
        self.spec = spec
        self.created = time.time()
        self.stream = new_stream_name(spec.version, self.created)
        self.tmpdir = env_root / self.stream.rsplit("]", 1)[1]
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.last_used = time.monotonic()
        self.invocations = 0
        self.init_ms: float | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_reported = False
        self.init_log_count = 0  # log events of the init phase (they precede START)
        self._frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self._logs: list[tuple[int, str]] = []
        self._logs_lock = threading.Lock()
        env = lambda_environment(spec, stream=self.stream, task_root=str(task_root),
                                 tmpdir=str(self.tmpdir), endpoint=endpoint)
        self._add_log(_now_ms(), f"INIT_START Runtime Version: {spec.runtime}.emulator\t"
                                 f"Runtime Version ARN: arn:aws:lambda:{spec.region}::runtime:"
                                 f"notifyctl-emulator\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", WORKER_SCRIPT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=str(task_root), env=env, close_fds=True,
        )
        self._stdout_thread = threading.Thread(target=self._read_frames, daemon=True,
                                               name=f"lambda-out-{self.proc.pid}")
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True,
                                               name=f"lambda-err-{self.proc.pid}")
        self._stdout_thread.start()
        self._stderr_thread.start()

    # -- reader threads --------------------------------------------------------------
    def _add_log(self, ts: int, message: str) -> None:
        with self._logs_lock:
            self._logs.append((ts, message))

    def _read_frames(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                frame = json.loads(line)
            except ValueError:
                self._add_log(_now_ms(), line.decode("utf-8", "replace"))
                continue
            if frame.get("t") == "log":
                self._add_log(int(frame["ts"]), frame["m"])
            else:
                self._frames.put(frame)
        self._frames.put({"t": "eof"})

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._add_log(_now_ms(), line.decode("utf-8", "replace"))

    # -- control ---------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Wait for the init phase; sets init_ms or init_error."""
        try:
            frame = self._frames.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            self.init_error = {"errorType": "Runtime.InitTimeout",
                               "errorMessage": f"Init phase exceeded {timeout:.0f} seconds"}
            return
        with self._logs_lock:
            self.init_log_count = len(self._logs)
        if frame.get("t") == "ready" and "error" not in frame:
            # Init Duration covers the whole init phase: interpreter start + module import.
            self.init_ms = (time.time() - self.created) * 1000
            return
        if frame.get("t") == "ready":
            self.init_error = frame["error"]
        else:
            self.init_error = {"errorType": "Runtime.ExitError",
                               "errorMessage": f"Runtime exited with error: {self._exit_text()}"}
        self.kill()

    def send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def next_frame(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._frames.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def take_logs(self, settle: bool = False) -> list[tuple[int, str]]:
        if settle:  # the process is gone: let the drains read what it wrote last
            self._stderr_thread.join(timeout=1.0)
            self._stdout_thread.join(timeout=1.0)
        with self._logs_lock:
            logs, self._logs = self._logs, []
        return logs

    def _exit_text(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:  # it closed our pipe but lives on: end it
            self.proc.kill()
            code = self.proc.wait(timeout=5)
        if code < 0:
            import signal

            try:
                name = signal.Signals(-code).name.lower().replace("sig", "")
            except ValueError:
                name = str(-code)
            return f"signal: {'killed' if name == 'kill' else name}"
        return f"exit status {code}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin,):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)


@dataclass
class _Stats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    cold_starts: int = 0


class _Pool:
    def __init__(self, spec: FunctionSpec, task_root: Path) -> None:
        self.spec = spec
        self.task_root = task_root
        self.idle: list[Worker] = []
        self.busy: set[Worker] = set()
        self.retired = False


class Runtime:
    """Runs invocations in warm worker processes. Thread-safe."""

    def __init__(self, state_dir: Path, endpoint: str, telemetry: Telemetry | None = None,
                 *, max_environments: int | None = None,
                 idle_ttl_s: float = DEFAULT_IDLE_TTL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.code_root = state_dir / "code"
        self.env_root = state_dir / "environments"
        self.endpoint = endpoint
        self.telemetry = telemetry or NullTelemetry()
        self.max_environments = max_environments or int(
            os.environ.get("NOTIFYCTL_EMULATOR_CONCURRENCY", "0") or 0) or 8
        self.idle_ttl_s = idle_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_environments)
        self._pools: dict[FunctionSpec, _Pool] = {}
        self._by_slot: dict[tuple[str, str], FunctionSpec] = {}
        self._in_flight: dict[str, int] = {}
        self._stats: dict[str, _Stats] = {}
        self._closed = False
        self._dead: list[Worker] = []
        self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="lambda-reaper")
        self._reaper.start()

    # -- public ----------------------------------------------------------------------
    def invoke(self, spec: FunctionSpec, event: bytes | str, *, invoked_arn: str | None = None,
               resource: str | None = None, request_id: str | None = None) -> Invocation:
        """Run one invocation of `spec` with `event` (JSON text) and return its outcome.

        `resource` is the Resource metric dimension ("name:qualifier") when the
        caller used a qualifier. Raises Throttled when reserved concurrency is used up.
        """
        request_id = request_id or str(uuid.uuid4())
        invoked_arn = invoked_arn or spec.arn
        event_text = event.decode("utf-8") if isinstance(event, bytes) else event
        self._enter(spec, resource)
        try:
            self._slots.acquire()
            try:
                result = self._run(spec, event_text, invoked_arn, request_id)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._in_flight[spec.name] -= 1
        stats = self._stats_for(spec.name)
        with self._lock:
            stats.invocations += 1
            stats.errors += 0 if result.ok else 1
            stats.cold_starts += 0 if result.init_ms is None else 1
            stats.timeouts += 1 if result.error_type == "Sandbox.Timedout" else 0
        self.telemetry.record(spec, resource, result)
        return result

    def status(self) -> list[dict[str, Any]]:
        """Per function: warm/busy environments per version and invocation counts."""
        with self._lock:
            out: dict[str, dict[str, Any]] = {}
            for spec, pool in self._pools.items():
                entry = out.setdefault(spec.name, {"name": spec.name, "versions": {},
                                                   "warm": 0, "busy": 0})
                warm = sum(1 for w in pool.idle if w.alive)
                ver = entry["versions"].setdefault(spec.version, {"warm": 0, "busy": 0})
                ver["warm"] += warm
                ver["busy"] += len(pool.busy)
                entry["warm"] += warm
                entry["busy"] += len(pool.busy)
            for name, stats in self._stats.items():
                entry = out.setdefault(name, {"name": name, "versions": {}, "warm": 0, "busy": 0})
                entry.update(invocations=stats.invocations, errors=stats.errors,
                             throttles=stats.throttles, timeouts=stats.timeouts,
                             cold_starts=stats.cold_starts)
            return sorted(out.values(), key=lambda e: e["name"])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = [w for p in self._pools.values() for w in (*p.idle, *p.busy)]
            self._pools.clear()
        for worker in workers:
            worker.kill()

    # -- internals -------------------------------------------------------------------
    def _stats_for(self, name: str) -> _Stats:
        with self._lock:
            return self._stats.setdefault(name, _Stats())

    def _enter(self, spec: FunctionSpec, resource: str | None) -> None:
        with self._lock:
            in_flight = self._in_flight.get(spec.name, 0)
            limit = spec.reserved_concurrency
            if limit is not None and in_flight >= int(limit):
                self._stats.setdefault(spec.name, _Stats()).throttles += 1
                throttled = True
            else:
                self._in_flight[spec.name] = in_flight + 1
                throttled = False
        if throttled:
            self.telemetry.record(spec, resource, None, throttled=True)
            raise Throttled(f"Rate Exceeded. Reserved concurrency of {spec.name} is in use.")

    def _pool(self, spec: FunctionSpec) -> _Pool:
        with self._lock:
            pool = self._pools.get(spec)
            if pool is not None:
                return pool
        task_root = extract_code(spec, self.code_root)
        retired: list[Worker] = []
        with self._lock:
            pool = self._pools.get(spec)
            if pool is None:
                pool = self._pools[spec] = _Pool(spec, task_root)
                old = self._by_slot.get(spec.slot)
                if old is not None and old != spec and old in self._pools:
                    old_pool = self._pools.pop(old)
                    old_pool.retired = True
                    retired, old_pool.idle = old_pool.idle, []
                self._by_slot[spec.slot] = spec
        for worker in retired:
            self._flush_and_kill(worker)
        return pool

    def _checkout(self, pool: _Pool) -> Worker | None:
        with self._lock:
            while pool.idle:
                worker = pool.idle.pop()
                if worker.alive:
                    pool.busy.add(worker)
                    return worker
                self._dead.append(worker)
            return None

    def _checkin(self, pool: _Pool, worker: Worker, healthy: bool) -> None:
        with self._lock:
            pool.busy.discard(worker)
            keep = healthy and worker.alive and not pool.retired and not self._closed
            if keep:
                worker.last_used = time.monotonic()
                pool.idle.append(worker)
            evict = self._over_capacity() if keep else []
        if not keep:
            self._flush_and_kill(worker)
        for old in evict:
            self._flush_and_kill(old)

    def _over_capacity(self) -> list[Worker]:
        """Idle workers beyond the cap, least recently used first (called with the lock)."""
        idle = [(w.last_used, id(w), w, p) for p in self._pools.values() for w in p.idle]
        total = sum(len(p.idle) + len(p.busy) for p in self._pools.values())
        excess = total - self.max_environments
        evicted = []
        for _, _, worker, pool in sorted(idle, key=lambda t: (t[0], t[1]))[:max(excess, 0)]:
            pool.idle.remove(worker)
            evicted.append(worker)
        return evicted

    def _flush_and_kill(self, worker: Worker) -> None:
        worker.kill()
        logs = worker.take_logs(settle=True)
        if logs:
            self._ship(worker, logs)

    def _ship(self, worker: Worker, events: list[tuple[int, str]]) -> None:
        events.sort(key=lambda e: e[0])
        try:
            self.telemetry.put_logs(worker.spec, worker.stream, events)
        except Exception as exc:  # noqa: BLE001 - logs must not fail an invocation
            print(f"emulator: could not ship logs for {worker.spec.name}: {exc}", file=sys.stderr)

    def _spawn(self, pool: _Pool) -> Worker:
        worker = Worker(pool.spec, pool.task_root, self.env_root, self.endpoint)
        try:
            self.telemetry.create_stream(pool.spec, worker.stream)
        except Exception as exc:  # noqa: BLE001
            print(f"emulator: could not create log stream: {exc}", file=sys.stderr)
        with self._lock:
            pool.busy.add(worker)
        return worker

    def _run(self, spec: FunctionSpec, event: str, invoked_arn: str,
             request_id: str) -> Invocation:
        pool = self._pool(spec)
        worker = self._checkout(pool)
        cold = worker is None
        if worker is None:
            worker = self._spawn(pool)
            worker.wait_ready(INIT_TIMEOUT_S)
        start_ms = _now_ms()
        started = time.perf_counter()
        init_ms = None
        if not worker.init_reported and worker.init_ms is not None:
            init_ms = worker.init_ms
        worker.init_reported = True
        status: str | None = None
        error_type: str | None = None
        if worker.init_error is not None:
            error = dict(worker.init_error)
            error_type = str(error.get("errorType"))
            payload = json.dumps({"errorMessage": error.get("errorMessage"),
                                  "errorType": error_type,
                                  "requestId": "", "stackTrace": error.get("stackTrace", [])})
            ok, mem = False, 0
            status = "error"
            healthy = False
        else:
            deadline_ms = start_ms + spec.timeout_s * 1000
            try:
                worker.send({"id": request_id, "event": event, "deadline": deadline_ms,
                             "arn": invoked_arn})
                frame = worker.next_frame(spec.timeout_s)
            except OSError:  # the environment died while idle (e.g. killed from outside)
                frame = {"t": "eof"}
            worker.invocations += 1
            if frame is None:  # the deadline passed: kill the environment
                worker.kill()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + \
                    f".{_now_ms() % 1000:03d}Z"
                message = f"{stamp} {request_id} Task timed out after {spec.timeout_s:.2f} seconds"
                worker._add_log(_now_ms(), message + "\n")
                payload = json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"})
                ok, mem, status, error_type, healthy = False, 0, "timeout", "Sandbox.Timedout", False
            elif frame.get("t") == "result":
                payload, ok = frame["payload"], bool(frame["ok"])
                mem = int(frame.get("mem") or 0)
                healthy = True
                if not ok:
                    try:
                        error_type = json.loads(payload).get("errorType")
                    except ValueError:
                        error_type = "Unhandled"
            else:  # the process exited mid-invocation
                text = worker._exit_text()
                message = f"RequestId: {request_id} Error: Runtime exited with error: {text}"
                worker._add_log(_now_ms(), message + "\nRuntime.ExitError\n")
                payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message})
                ok, mem, status, error_type, healthy = False, 0, "error", "Runtime.ExitError", False
        duration_ms = (time.perf_counter() - started) * 1000
        if not healthy:
            worker.kill()
        logs = worker.take_logs(settle=not healthy)
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                  f"Billed Duration: {max(math.ceil(duration_ms), 1)} ms\t"
                  f"Memory Size: {spec.memory_mb} MB\tMax Memory Used: {mem} MB\t")
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if status:
            report += f"Status: {status}\t"
        end_ms = max(_now_ms(), start_ms)
        # On a cold start, what the module printed while loading comes before START.
        split = worker.init_log_count if cold else 0
        before, body = logs[:split], logs[split:]
        events = sorted(before, key=lambda e: e[0]) + [
            (start_ms, f"START RequestId: {request_id} Version: {spec.version}\n")]
        events += sorted(((max(ts, start_ms), m) for ts, m in body), key=lambda e: e[0])
        events += [(end_ms, f"END RequestId: {request_id}\n"), (end_ms, report + "\n")]
        self._ship(worker, events)
        self._checkin(pool, worker, healthy)
        tail = "".join(m for _, m in events if not m.startswith("INIT_START"))
        tail_bytes = tail.encode("utf-8")[-LOG_TAIL_BYTES:]
        return Invocation(
            request_id=request_id, payload=payload.encode("utf-8"),
            function_error=None if ok else "Unhandled", executed_version=spec.version,
            duration_ms=duration_ms, init_ms=init_ms,
            log_tail=tail_bytes.decode("utf-8", "ignore"), error_type=error_type,
        )

    def _reap_loop(self) -> None:
        while not self._closed:
            time.sleep(min(30.0, max(self.idle_ttl_s / 4, 0.05)))
            cutoff = time.monotonic() - self.idle_ttl_s
            with self._lock:
                stale = []
                for pool in self._pools.values():
                    keep = [w for w in pool.idle if w.last_used >= cutoff and w.alive]
                    stale += [w for w in pool.idle if w not in keep]
                    pool.idle = keep
                stale += self._dead
                self._dead = []
            for worker in stale:
                self._flush_and_kill(worker)
