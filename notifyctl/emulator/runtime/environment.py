"""The parent's handle on one execution environment (the child: function_process.py).

It starts the child with the function's interpreter and view (view.py), reads its
two pipes on daemon threads (protocol frames and log lines), and enforces the two
limits Lambda enforces from outside the process: the timeout (the caller stops
waiting and kills it) and the memory size (this handle kills it when its resident
memory passes MemorySize, as Lambda's cgroup does; polled every few milliseconds
while an invocation runs, on systems with /proc).

The memory poll is ONE thread for the whole runtime (`MemoryWatcher`), not a wake-up
per running invocation: the invoking thread blocks on the child's next frame until it
comes or the deadline passes, with no timer in between. (Per-invocation 5 ms polls
were ~15 % of the emulator's GIL time at 8 busy environments, and every wake-up took
the GIL from a request being served.)
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notifyctl.emulator.runtime.interpreters import Interpreter
from notifyctl.emulator.runtime.platform_log import init_start_line, now_ms
from notifyctl.emulator.runtime.view import FUNCTION_PROCESS, ProcessView, function_environment

if TYPE_CHECKING:
    from notifyctl.emulator.runtime.pool import FunctionSpec

MEMORY_POLL_S = 0.005
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def new_stream_name(version: str, when: float | None = None) -> str:
    """AWS's stream name for an execution environment: YYYY/MM/DD/[VERSION]<32 hex>."""
    import uuid

    day = time.strftime("%Y/%m/%d", time.gmtime(when if when is not None else time.time()))
    return f"{day}/[{version}]{uuid.uuid4().hex}"


class ExecutionEnvironment:
    """One execution environment (a child process) of one function version."""

    def __init__(self, spec: FunctionSpec, interpreter: Interpreter, view: ProcessView,
                 env_root: Path, endpoint: str) -> None:
        self.spec = spec
        self.created = time.time()
        self.stream = new_stream_name(spec.version, self.created)
        self.tmpdir = env_root / self.stream.rsplit("]", 1)[1]
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.last_used = time.monotonic()
        self.init_ms: float | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_reported = False
        self.init_log_count = 0  # log events of the init phase (they precede START)
        self.sandbox = "starting"
        self.out_of_memory = False
        self._frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self._logs: list[tuple[int, str]] = []
        self._logs_lock = threading.Lock()
        env = function_environment(spec, view, stream=self.stream, tmpdir=str(self.tmpdir),
                                   endpoint=endpoint)
        self.add_log(now_ms(), init_start_line(spec, interpreter))
        self.proc = subprocess.Popen(
            [interpreter.path, "-I", "-S", FUNCTION_PROCESS],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=view.task_root, env=env, close_fds=True,
        )
        self._statm = Path(f"/proc/{self.proc.pid}/statm")
        self._watch_memory = self._statm.exists()  # Linux; elsewhere no memory limit
        self._stdout_thread = threading.Thread(target=self._read_frames, daemon=True,
                                               name=f"lambda-out-{self.proc.pid}")
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True,
                                               name=f"lambda-err-{self.proc.pid}")
        self._stdout_thread.start()
        self._stderr_thread.start()

    # -- reader threads --------------------------------------------------------------
    def add_log(self, ts: int, message: str) -> None:
        with self._logs_lock:
            self._logs.append((ts, message))

    def _read_frames(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                frame = json.loads(line)
            except ValueError:
                self.add_log(now_ms(), line.decode("utf-8", "replace"))
                continue
            if frame.get("t") == "log":
                self.add_log(int(frame["ts"]), frame["m"])
            else:
                self._frames.put(frame)
        self._frames.put({"t": "eof"})

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.add_log(now_ms(), line.decode("utf-8", "replace"))

    # -- control ---------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Wait for the init phase; sets init_ms or init_error."""
        frame = self.next_frame(timeout)
        if frame is None:
            self.kill()
            if self.out_of_memory:
                frame = {"t": "eof"}
            else:
                self.init_error = {"errorType": "Runtime.InitTimeout",
                                   "errorMessage": f"Init phase exceeded {timeout:.0f} seconds"}
                return
        with self._logs_lock:
            self.init_log_count = len(self._logs)
        if frame.get("t") == "ready" and "error" not in frame:
            # Init Duration covers the whole init phase: interpreter start + module import.
            self.init_ms = (time.time() - self.created) * 1000
            self.sandbox = str(frame.get("sandbox", "off"))
            return
        if frame.get("t") == "ready":
            self.init_error = frame["error"]
        else:
            self.init_error = {"errorType": "Runtime.ExitError",
                               "errorMessage": f"Runtime exited with error: {self.exit_text()}"}
        self.kill()

    def send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def next_frame(self, timeout: float) -> dict[str, Any] | None:
        """The child's next frame, or None at the timeout. The memory watcher kills the
        child when it passes its memory size meanwhile: then this returns its
        end-of-file frame (the reader thread sees the pipe close) with out_of_memory set."""
        watched = self._watch_memory
        if watched:
            MEMORY_WATCHER.watch(self)
        try:
            return self._frames.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        finally:
            if watched:
                MEMORY_WATCHER.unwatch(self)

    def check_memory(self) -> None:
        """Kill the child if its resident memory is past MemorySize (Lambda's cgroup:
        "Runtime exited with error: signal: killed"); the flag is set before the kill so
        whoever reads the end-of-file frame sees why."""
        if not self.out_of_memory and self.memory_mb() > self.spec.memory_mb:
            self.out_of_memory = True
            with contextlib.suppress(OSError):
                self.proc.kill()

    def memory_mb(self) -> int:
        """The child's resident memory now (0 where /proc is not available)."""
        # Polled every MEMORY_POLL_S by each running invocation: three system calls,
        # not pathlib's text layer (it was a tenth of the emulator's CPU under load).
        try:
            fd = os.open(self._statm, os.O_RDONLY)
            try:
                text = os.read(fd, 128)
            finally:
                os.close(fd)
            return int(text.split()[1]) * _PAGE // (1024 * 1024)
        except (OSError, ValueError, IndexError):
            return 0

    def take_logs(self, settle: bool = False) -> list[tuple[int, str]]:
        if settle:  # the process is gone: let the drains read what it wrote last
            self._stderr_thread.join(timeout=1.0)
            self._stdout_thread.join(timeout=1.0)
        with self._logs_lock:
            logs, self._logs = self._logs, []
        return logs

    def exit_text(self) -> str:
        """How the process ended, in Lambda's words ("signal: killed", "exit status 2")."""
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:  # it closed our pipe but lives on: end it
            self.proc.kill()
            code = self.proc.wait(timeout=5)
        if code < 0:
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
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class MemoryWatcher:
    """One daemon thread polling the resident memory of every environment that is
    running something (an invocation or its init phase), every MEMORY_POLL_S.
    Idle (no thread wake-ups) while nothing runs."""

    def __init__(self, interval_s: float = MEMORY_POLL_S) -> None:
        self.interval_s = interval_s
        self._cond = threading.Condition()
        self._watched: dict[ExecutionEnvironment, int] = {}
        self._thread: threading.Thread | None = None

    def watch(self, env: ExecutionEnvironment) -> None:
        with self._cond:
            self._watched[env] = self._watched.get(env, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="lambda-memory")
                self._thread.start()
            self._cond.notify()

    def unwatch(self, env: ExecutionEnvironment) -> None:
        with self._cond:
            left = self._watched.get(env, 0) - 1
            if left > 0:
                self._watched[env] = left
            else:
                self._watched.pop(env, None)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._watched:
                    self._cond.wait()
                envs = list(self._watched)
            for env in envs:
                env.check_memory()
            time.sleep(self.interval_s)


MEMORY_WATCHER = MemoryWatcher()
