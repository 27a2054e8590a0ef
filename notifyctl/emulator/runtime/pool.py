"""Warm execution environments for the emulator's Lambda runtime.

A `Runtime` keeps one pool of execution environments per function version (and
per code + configuration: updating $LATEST retires the old environments, as
Lambda does). Each environment (environment.py: the parent's handle on a child
process, function_process.py) runs one invocation at a time; overlapping
invocations start more.

Scaling is per function, as on AWS (each function scales on its own; only the
account's concurrency is shared): a function may run up to a LOCAL cap of processes
(NOTIFYCTL_EMULATOR_CONCURRENCY, default 8, per function: beyond it that function's
invocations wait for one of its own processes to be free). One function's burst never
takes another's warm environments: the cap used to be one pool for all functions, and
the notifier and the feedback function (SES's events) evicted each other's idle
environments at every switch, so most invocations were cold starts (a boto3 import
each) and one function's queued invocations waited on the other's. Lambda's own
limits throttle (TooManyRequestsException): the function's reserved concurrency, and
the account's concurrency (NOTIFYCTL_EMULATOR_ACCOUNT_CONCURRENCY, default 1000 as on
AWS), shared by all functions. No moto here: logs and metrics leave through a
`Telemetry` object given by the server.

What the function sees (interpreter, sys.path, /tmp, /opt) is view.py's business;
the lines of its log stream are platform_log.py's. An invocation, as the stream
sees it:

    INIT_START ...                       (cold start only: a new environment)
    <module-level output>                (cold start only)
    START RequestId: <id> Version: <v>
    <handler output>
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: ..  ...  [Init Duration: ..]  [Status: timeout|error]

Timeout: the process is killed at the deadline; the invocation fails with
"Task timed out after N.00 seconds" and the next invocation gets a new one.
Memory: the process is killed when its resident memory passes MemorySize
("Runtime exited with error: signal: killed"). A handler that exits or crashes its
process fails that invocation only.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifyctl.emulator.runtime.code import extract_code, extract_layers
from notifyctl.emulator.runtime.environment import ExecutionEnvironment
from notifyctl.emulator.runtime.interpreters import InterpreterFinder
from notifyctl.emulator.runtime.platform_log import (
    Report,
    end_and_report_lines,
    exit_message,
    now_ms,
    start_line,
    timeout_message,
)
from notifyctl.emulator.runtime.view import ProcessView, build_runtime_sdk, sandbox_wanted

INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase
LOG_TAIL_BYTES = 4096  # what Invoke returns with LogType=Tail
RESPONSE_LIMIT = 6291556  # bytes: what Lambda's error message names for the 6 MB response limit
DEFAULT_IDLE_TTL_S = 15 * 60
DEFAULT_ACCOUNT_CONCURRENCY = 1000  # AWS's default account limit
ENV_LOCAL_CAP = "NOTIFYCTL_EMULATOR_CONCURRENCY"
ENV_ACCOUNT_CONCURRENCY = "NOTIFYCTL_EMULATOR_ACCOUNT_CONCURRENCY"


@dataclass(frozen=True)
class LoggingConfig:
    """A function's LoggingConfig (AWS defaults: Text, no levels, /aws/lambda/<name>)."""

    log_format: str = "Text"
    application_level: str | None = None
    system_level: str | None = None
    log_group: str | None = None


@dataclass(frozen=True)
class Layer:
    arn: str
    code_sha256: str
    code: bytes = field(compare=False, repr=False, default=b"")


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
    role: str = ""
    layers: tuple[Layer, ...] = ()
    logging: LoggingConfig = LoggingConfig()
    ephemeral_mb: int = 512

    @property
    def log_group(self) -> str:
        return self.logging.log_group or f"/aws/lambda/{self.name}"

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
    """A concurrency limit is reached (Lambda: TooManyRequestsException with this Reason)."""

    def __init__(self, message: str,
                 reason: str = "ReservedFunctionConcurrentInvocationLimitExceeded") -> None:
        super().__init__(message)
        self.reason = reason


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


@dataclass
class _Stats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    out_of_memory: int = 0


class _Pool:
    def __init__(self, spec: FunctionSpec, view: ProcessView) -> None:
        self.spec = spec
        self.view = view
        self.idle: list[ExecutionEnvironment] = []
        self.busy: set[ExecutionEnvironment] = set()
        self.retired = False


@dataclass
class _Outcome:
    """What the child said (or did) for one invocation, before the platform lines."""

    payload: str
    ok: bool
    memory_mb: int = 0
    status: str | None = None  # REPORT's Status
    error_type: str | None = None
    healthy: bool = True  # the environment may serve again


class Runtime:
    """Runs invocations in warm execution environments. Thread-safe."""

    def __init__(self, state_dir: Path, endpoint: str, telemetry: Telemetry | None = None,
                 *, max_environments: int | None = None,
                 account_concurrency: int | None = None,
                 idle_ttl_s: float = DEFAULT_IDLE_TTL_S,
                 interpreters: InterpreterFinder | None = None,
                 sandbox: bool | None = None) -> None:
        self.code_root = state_dir / "code"
        self.env_root = state_dir / "environments"
        self.sdk_dir = build_runtime_sdk(state_dir / "runtime-sdk")
        self.endpoint = endpoint
        self.telemetry = telemetry or NullTelemetry()
        self.max_environments = max_environments or int(
            os.environ.get(ENV_LOCAL_CAP, "0") or 0) or 8
        self.account_concurrency = account_concurrency or int(
            os.environ.get(ENV_ACCOUNT_CONCURRENCY, "0") or 0) or DEFAULT_ACCOUNT_CONCURRENCY
        self.idle_ttl_s = idle_ttl_s
        self.interpreters = interpreters or InterpreterFinder()
        self.sandbox = sandbox_wanted() if sandbox is None else sandbox
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}  # per function (ARN)
        self._pools: dict[FunctionSpec, _Pool] = {}
        self._by_slot: dict[tuple[str, str], FunctionSpec] = {}
        self._in_flight: dict[str, int] = {}
        self._stats: dict[str, _Stats] = {}
        self._runtimes: dict[str, str] = {}  # function name -> its runtime's note
        self._sandbox_seen = "no environment started yet"
        self._closed = False
        self._dead: list[ExecutionEnvironment] = []
        self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="lambda-reaper")
        self._reaper.start()

    # -- public ----------------------------------------------------------------------
    def invoke(self, spec: FunctionSpec, event: bytes | str, *, invoked_arn: str | None = None,
               resource: str | None = None, request_id: str | None = None) -> Invocation:
        """Run one invocation of `spec` with `event` (JSON text) and return its outcome.

        `resource` is the Resource metric dimension ("name:qualifier") when the
        caller used a qualifier. Raises Throttled when a concurrency limit is reached.
        """
        request_id = request_id or str(uuid.uuid4())
        invoked_arn = invoked_arn or spec.arn
        event_text = event.decode("utf-8") if isinstance(event, bytes) else event
        self._enter(spec, resource)
        try:
            slots = self._slots_for(spec)
            slots.acquire()
            try:
                result = self._run(spec, event_text, invoked_arn, request_id)
            finally:
                slots.release()
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
        """Per function: warm/busy environments per version, invocation counts, and
        `runtime_note` when its Python is not the one its Runtime names."""
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
                             cold_starts=stats.cold_starts, out_of_memory=stats.out_of_memory)
            for name, note in self._runtimes.items():
                if note and name in out:
                    out[name]["runtime_note"] = note
            return sorted(out.values(), key=lambda e: e["name"])

    def describe(self) -> dict[str, Any]:
        """The runtime's own facts for /_notifyctl/status: isolation and limits."""
        with self._lock:
            notes = sorted({note for note in self._runtimes.values() if note})
            return {"sandbox": self._sandbox_seen if self.sandbox else "off",
                    "runtime_sdk": str(self.sdk_dir), "runtime_notes": notes,
                    "account_concurrency": self.account_concurrency,
                    "max_environments": self.max_environments}

    def retire(self, account_id: str, region: str, name: str,
               version: str | None = None) -> int:
        """Stop now the idle environments of a function (every version, or `version`):
        DeleteFunction, UpdateFunctionCode/Configuration. A busy one finishes its
        invocation and is not kept. Returns how many were stopped."""
        return self._retire(lambda s: (s.account_id, s.region, s.name) == (account_id, region, name)
                            and (version is None or s.version == version))

    def retire_all(self) -> int:
        """`local reset`: every function's idle environments stopped."""
        return self._retire(lambda s: True)

    def _retire(self, doomed: Any) -> int:
        with self._lock:
            envs: list[ExecutionEnvironment] = []
            for spec in [s for s in self._pools if doomed(s)]:
                pool = self._pools.pop(spec)
                pool.retired = True
                envs += pool.idle
                pool.idle = []
                if self._by_slot.get(spec.slot) == spec:
                    del self._by_slot[spec.slot]
        for env in envs:
            self._flush_and_kill(env)
        return len(envs)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            envs = [w for p in self._pools.values() for w in (*p.idle, *p.busy)]
            self._pools.clear()
        for env in envs:
            env.kill()

    # -- admission -------------------------------------------------------------------
    def _slots_for(self, spec: FunctionSpec) -> threading.BoundedSemaphore:
        """The function's local cap (all its versions share it, as they share its
        reserved concurrency)."""
        with self._lock:
            slots = self._slots.get(spec.arn)
            if slots is None:
                slots = self._slots[spec.arn] = threading.BoundedSemaphore(
                    self.max_environments)
            return slots

    def _stats_for(self, name: str) -> _Stats:
        with self._lock:
            return self._stats.setdefault(name, _Stats())

    def _enter(self, spec: FunctionSpec, resource: str | None) -> None:
        """Count the invocation in, or raise Throttled (reserved, then account limit)."""
        with self._lock:
            in_flight = self._in_flight.get(spec.name, 0)
            limit = spec.reserved_concurrency
            throttled: Throttled | None = None
            if limit is not None and in_flight >= int(limit):
                throttled = Throttled("Rate Exceeded.")
            elif sum(self._in_flight.values()) >= self.account_concurrency:
                throttled = Throttled("Rate Exceeded.", "ConcurrentInvocationLimitExceeded")
            if throttled is not None:
                self._stats.setdefault(spec.name, _Stats()).throttles += 1
            else:
                self._in_flight[spec.name] = in_flight + 1
        if throttled is not None:
            self.telemetry.record(spec, resource, None, throttled=True)
            raise throttled

    # -- environments ----------------------------------------------------------------
    def _pool(self, spec: FunctionSpec) -> _Pool:
        with self._lock:
            pool = self._pools.get(spec)
            if pool is not None:
                return pool
        view = ProcessView(
            task_root=str(extract_code(spec.name, spec.version, spec.code_sha256, spec.code,
                                       self.code_root)),
            sdk_dir=str(self.sdk_dir),
            opt_dir=_str_or_none(extract_layers(
                [(layer.code_sha256, layer.code) for layer in spec.layers], self.code_root)),
            tmp_mb=spec.ephemeral_mb, sandbox=self.sandbox)
        retired: list[ExecutionEnvironment] = []
        with self._lock:
            pool = self._pools.get(spec)
            if pool is None:
                pool = self._pools[spec] = _Pool(spec, view)
                old = self._by_slot.get(spec.slot)
                if old is not None and old != spec and old in self._pools:
                    old_pool = self._pools.pop(old)
                    old_pool.retired = True
                    retired, old_pool.idle = old_pool.idle, []
                self._by_slot[spec.slot] = spec
        for env in retired:
            self._flush_and_kill(env)
        return pool

    def _checkout(self, pool: _Pool) -> ExecutionEnvironment | None:
        with self._lock:
            while pool.idle:
                env = pool.idle.pop()
                if env.alive:
                    pool.busy.add(env)
                    return env
                self._dead.append(env)
            return None

    def _checkin(self, pool: _Pool, env: ExecutionEnvironment, healthy: bool) -> None:
        with self._lock:
            pool.busy.discard(env)
            keep = healthy and env.alive and not pool.retired and not self._closed
            if keep:
                env.last_used = time.monotonic()
                pool.idle.append(env)
            evict = self._over_capacity(pool.spec.arn) if keep else []
        if not keep:
            self._flush_and_kill(env)
        for old in evict:
            self._flush_and_kill(old)

    def _over_capacity(self, function_arn: str) -> list[ExecutionEnvironment]:
        """The function's idle environments beyond its cap (all its versions), least
        recently used first (with the lock). Other functions' are never touched."""
        pools = [p for p in self._pools.values() if p.spec.arn == function_arn]
        idle = [(w.last_used, id(w), w, p) for p in pools for w in p.idle]
        total = sum(len(p.idle) + len(p.busy) for p in pools)
        excess = total - self.max_environments
        evicted = []
        for _, _, env, pool in sorted(idle, key=lambda t: (t[0], t[1]))[:max(excess, 0)]:
            pool.idle.remove(env)
            evicted.append(env)
        return evicted

    def _flush_and_kill(self, env: ExecutionEnvironment) -> None:
        env.kill()
        logs = env.take_logs(settle=True)
        if logs:
            self._ship(env, logs)

    def _ship(self, env: ExecutionEnvironment, events: list[tuple[int, str]]) -> None:
        events = sorted((e for e in events if e[1]), key=lambda e: e[0])
        try:
            self.telemetry.put_logs(env.spec, env.stream, events)
        except Exception as exc:  # noqa: BLE001 - logs must not fail an invocation
            print(f"emulator: could not ship logs for {env.spec.name}: {exc}", file=sys.stderr)

    def _spawn(self, pool: _Pool) -> ExecutionEnvironment | None:
        """A new environment, or None when no interpreter can run the function's runtime."""
        interpreter = self.interpreters.find(pool.spec.runtime)
        with self._lock:
            self._runtimes[pool.spec.name] = interpreter.note or "" if interpreter else \
                f"{pool.spec.runtime} cannot run in the emulator"
        if interpreter is None:
            return None
        env = ExecutionEnvironment(pool.spec, interpreter, pool.view, self.env_root, self.endpoint)
        try:
            self.telemetry.create_stream(pool.spec, env.stream)
        except Exception as exc:  # noqa: BLE001
            print(f"emulator: could not create log stream: {exc}", file=sys.stderr)
        with self._lock:
            pool.busy.add(env)
        return env

    # -- one invocation --------------------------------------------------------------
    def _run(self, spec: FunctionSpec, event: str, invoked_arn: str,
             request_id: str) -> Invocation:
        """Schedule (a warm environment or a cold one), call, write the platform lines."""
        pool = self._pool(spec)
        env = self._checkout(pool)
        cold = env is None
        timeout_s: float = spec.timeout_s
        invoke_began: tuple[int, float] | None = None  # when a retried init ran in the invoke
        if env is None:
            env = self._spawn(pool)
            if env is None:
                return self._invalid_runtime(spec, request_id)
            env.wait_ready(INIT_TIMEOUT_S)
            if _init_timed_out(env):
                invoke_began = (now_ms(), time.perf_counter())
                env, timeout_s = self._reinit(pool, env, spec)
            with self._lock:
                self._sandbox_seen = env.sandbox if env.init_error is None else self._sandbox_seen
        start_ms, started = invoke_began or (now_ms(), time.perf_counter())
        init_ms = env.init_ms if not env.init_reported else None
        env.init_reported = True
        if timeout_s <= 0:  # the retried init used up the function's timeout
            outcome = self._timed_out(env, spec, request_id)
        elif env.init_error is not None:
            outcome = _init_failure(env.init_error)
        else:
            outcome = self._call(env, spec, event, invoked_arn, request_id, start_ms, timeout_s)
        if env.out_of_memory:
            with self._lock:
                self._stats.setdefault(spec.name, _Stats()).out_of_memory += 1
        duration_ms = (time.perf_counter() - started) * 1000
        if not outcome.healthy:
            env.kill()
        logs = env.take_logs(settle=not outcome.healthy)
        events = self._stream_events(
            spec, env, logs, cold=cold, start_ms=start_ms,
            report=Report(request_id, duration_ms, spec.memory_mb, outcome.memory_mb, init_ms,
                          outcome.status, outcome.error_type if outcome.status else None))
        self._ship(env, events)
        self._checkin(pool, env, outcome.healthy)
        tail = "".join(m for _, m in events if not m.startswith("INIT_START"))
        return Invocation(
            request_id=request_id, payload=outcome.payload.encode("utf-8"),
            function_error=None if outcome.ok else "Unhandled", executed_version=spec.version,
            duration_ms=duration_ms, init_ms=init_ms,
            log_tail=tail.encode("utf-8")[-LOG_TAIL_BYTES:].decode("utf-8", "ignore"),
            error_type=outcome.error_type,
        )

    def _reinit(self, pool: _Pool, env: ExecutionEnvironment,
                spec: FunctionSpec) -> tuple[ExecutionEnvironment, float]:
        """The init phase passed its 10 s. AWS: "Lambda retries the Init phase at the time
        of the first function invocation with the configured function timeout" (execution
        environment lifecycle, Init phase) — so a burst of cold starts on a loaded machine
        is slow, not failed. Returns the new environment and the part of the function's
        timeout its handler has left (<= 0: the retried init used it all)."""
        with self._lock:
            pool.busy.discard(env)
        self._flush_and_kill(env)
        started = time.monotonic()
        fresh = self._spawn(pool)
        assert fresh is not None  # the interpreter was found for the first attempt
        fresh.wait_ready(spec.timeout_s)
        if _init_timed_out(fresh):
            return fresh, 0.0
        return fresh, spec.timeout_s - (time.monotonic() - started)

    @staticmethod
    def _timed_out(env: ExecutionEnvironment, spec: FunctionSpec, request_id: str) -> _Outcome:
        """The deadline passed: kill the environment; Lambda's timeout error."""
        env.kill()
        message = timeout_message(request_id, spec.timeout_s)
        env.add_log(now_ms(), message + "\n")
        return _Outcome(json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"}),
                        ok=False, status="timeout", error_type="Sandbox.Timedout",
                        healthy=False)

    @classmethod
    def _call(cls, env: ExecutionEnvironment, spec: FunctionSpec, event: str, invoked_arn: str,
              request_id: str, start_ms: int, timeout_s: float) -> _Outcome:
        """Send one request to a ready environment and read its answer (or its end)."""
        try:
            env.send({"id": request_id, "event": event,
                      "deadline": start_ms + spec.timeout_s * 1000, "arn": invoked_arn})
            frame = env.next_frame(timeout_s)
        except OSError:  # the environment died while idle (e.g. killed from outside)
            frame = {"t": "eof"}
        if frame is None:
            return cls._timed_out(env, spec, request_id)
        if frame.get("t") == "result":
            payload, ok = frame["payload"], bool(frame["ok"])
            size = len(payload.encode("utf-8"))
            if size > RESPONSE_LIMIT:  # the runtime API refuses it; the caller sees this
                message = (f"Response payload size ({size} bytes) exceeded maximum allowed "
                           f"payload size ({RESPONSE_LIMIT} bytes).")
                env.add_log(now_ms(), f"[ERROR] Function.ResponseSizeTooLarge: {message}\n")
                return _Outcome(json.dumps({"errorMessage": message,
                                            "errorType": "Function.ResponseSizeTooLarge"}),
                                ok=False, memory_mb=int(frame.get("mem") or 0),
                                error_type="Function.ResponseSizeTooLarge")
            error_type = None
            if not ok:
                try:
                    error_type = json.loads(payload).get("errorType")
                except ValueError:
                    error_type = "Unhandled"
            return _Outcome(payload, ok, int(frame.get("mem") or 0), error_type=error_type)
        # The process exited mid-invocation (sys.exit, a crash, or killed at its memory size).
        peak = env.memory_mb()
        message = exit_message(request_id, env.exit_text())
        env.add_log(now_ms(), message + "\nRuntime.ExitError\n")
        return _Outcome(json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}),
                        ok=False, memory_mb=max(peak, spec.memory_mb if env.out_of_memory else 0),
                        status="error", error_type="Runtime.ExitError", healthy=False)

    @staticmethod
    def _stream_events(spec: FunctionSpec, env: ExecutionEnvironment,
                       logs: list[tuple[int, str]], *, cold: bool, start_ms: int,
                       report: Report) -> list[tuple[int, str]]:
        """The invocation's log events in stream order: on a cold start what the module
        printed while loading comes before START; the function's lines sit between
        START and END."""
        split = env.init_log_count if cold else 0
        before, body = logs[:split], logs[split:]
        end_ms = max(now_ms(), start_ms)
        events = sorted(before, key=lambda e: e[0]) + [(start_ms, start_line(spec, report.request_id,
                                                                             start_ms))]
        events += sorted(((max(ts, start_ms), m) for ts, m in body), key=lambda e: e[0])
        events += [(end_ms, line) for line in end_and_report_lines(spec, report, end_ms)]
        return events

    def _invalid_runtime(self, spec: FunctionSpec, request_id: str) -> Invocation:
        """A runtime the emulator cannot run: every invocation fails, saying so."""
        message = (f"The emulator cannot run runtime {spec.runtime!r}: only pythonX.Y functions "
                   f"run locally (deploy to AWS to run it)")
        payload = json.dumps({"errorMessage": message, "errorType": "Runtime.InvalidRuntime",
                              "requestId": request_id, "stackTrace": []})
        return Invocation(request_id=request_id, payload=payload.encode("utf-8"),
                          function_error="Unhandled", executed_version=spec.version,
                          duration_ms=0.0, log_tail=f"Runtime.InvalidRuntime: {message}\n",
                          error_type="Runtime.InvalidRuntime")

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
            for env in stale:
                self._flush_and_kill(env)


def _init_timed_out(env: ExecutionEnvironment) -> bool:
    return (env.init_error or {}).get("errorType") == "Runtime.InitTimeout"


def _init_failure(error: dict[str, Any]) -> _Outcome:
    error_type = str(error.get("errorType"))
    payload = json.dumps({"errorMessage": error.get("errorMessage"), "errorType": error_type,
                          "requestId": "", "stackTrace": error.get("stackTrace", [])})
    return _Outcome(payload, ok=False, status="error", error_type=error_type, healthy=False)


def _str_or_none(path: Path | None) -> str | None:
    return None if path is None else str(path)
