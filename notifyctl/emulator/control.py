"""Start, stop and inspect the emulator as a background process.

Per port, under the state directory ($XDG_STATE_HOME/notifyctl, default
~/.local/state/notifyctl):
    emulator-<port>.json   the running instance: pid, endpoint, log file, start time
    emulator-<port>.log    its output
    emulator-<port>/       its working state (function code, environments' TMPDIR)

With --port 0 the emulator picks a free port and writes it to a port file; the
record is then filed under the port it really listens on (its log and state keep
the name emulator-auto-<pid>).

Readiness is an HTTP check of GET /_notifyctl/health, never a sleep. Stdlib only
(no boto3, no moto): the CLI imports this module.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from notifyctl.errors import OperationError, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
SERVICE = "notifyctl-emulator"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# A loaded machine can keep the status answer waiting for seconds: never call a slow
# emulator "not running".
STATUS_TIMEOUT_S = 15.0
MAX_PORT = 65535

# Popen objects of emulators this process started, so stop() can reap them.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class EmulatorInfo:
    endpoint: str
    pid: int
    host: str
    port: int
    log_file: str | None
    state_dir: str | None
    started_at: float
    already_running: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EmulatorStatus:
    running: bool
    endpoint: str
    info: EmulatorInfo | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # False: its process is alive but it did not answer within the timeout.
    answering: bool = True

    @property
    def uptime_s(self) -> float | None:
        return self.details.get("uptime_s")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"running": self.running, "endpoint": self.endpoint,
                                "answering": self.answering}
        if self.info is not None:
            data.update(pid=self.info.pid, log_file=self.info.log_file,
                        started_at=self.info.started_at)
        if self.details:
            for key in ("uptime_s", "moto_version", "runtime", "functions", "totals", "async",
                        "outbox", "refused", "persistence"):
                if key in self.details:
                    data[key] = self.details[key]
        return data


def state_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return Path(base) / "notifyctl"


def endpoint_for(host: str, port: int) -> str:
    connect = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in connect and not connect.startswith("["):
        connect = f"[{connect}]"
    return f"http://{connect}:{port}"


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_options(port: int, time_scale: float | None = None, *, allow_zero: bool = True,
                  scale_flag: str = "--time-scale") -> None:
    """UsageError (exit 2) naming the option, before anything starts."""
    low = 0 if allow_zero else 1
    if not low <= port <= MAX_PORT:
        raise UsageError(f"--port: expected {low} to {MAX_PORT}"
                         + (" (0: any free port)" if allow_zero else "") + f", got {port}")
    if time_scale is not None and not time_scale > 0:
        raise UsageError(f"{scale_flag}: expected a number > 0 (1 = AWS's real delays), "
                         f"got {time_scale:g}")


def _paths(root: Path, port: int) -> tuple[Path, Path, Path]:
    return (root / f"emulator-{port}.json", root / f"emulator-{port}.log",
            root / f"emulator-{port}")


def _get_json(url: str, timeout: float = 1.0) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


def health(endpoint: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The emulator's health document, or None if nothing of ours answers there."""
    try:
        data = _get_json(f"{endpoint}/_notifyctl/health", timeout)
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) and data.get("service") == SERVICE else None


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                       socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise UsageError(f"cannot use {host}:{port}: {exc.strerror}",
                             hint="check --host and --port") from None
    return False


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie still answers kill(0)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _is_emulator_pid(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"notifyctl.emulator" in fh.read()
    except OSError:
        return True  # no /proc (macOS): trust the record, which names this pid


def _read_record(path: Path) -> EmulatorInfo | None:
    try:
        data = json.loads(path.read_text())
        return EmulatorInfo(**{k: data[k] for k in EmulatorInfo.__dataclass_fields__
                               if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _log_tail(path: Path | None, lines: int = 15) -> str:
    if path is None:
        return ""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _port_from_file(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def wait_ready(endpoint: str, *, pid: int | None = None, timeout: float = START_TIMEOUT_S,
               log_file: Path | None = None, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic,
               port_file: Path | None = None, host: str = DEFAULT_HOST) -> dict[str, Any]:
    """Poll the health endpoint until it answers (our process), it dies, or time runs out.

    With port_file (an emulator started on port 0), the endpoint is unknown until the
    emulator writes the port it bound there; the health document names it."""
    deadline = clock() + timeout
    delay = 0.01
    target: str | None = None if port_file is not None else endpoint
    while True:
        if target is None and port_file is not None:
            bound = _port_from_file(port_file)
            target = endpoint_for(host, bound) if bound else None
        doc = health(target, timeout=1.0) if target else None
        if doc is not None and (pid is None or doc.get("pid") == pid):
            return doc
        if pid is not None and not _alive(pid):
            tail = _log_tail(log_file)
            raise OperationError(
                f"the emulator exited during start-up{': ' + tail.splitlines()[-1] if tail else ''}",
                hint=f"see {log_file}" if log_file else None)
        if clock() >= deadline:
            raise OperationError(f"the emulator did not answer at {endpoint} within {timeout:.0f} s",
                                 hint=f"see {log_file}" if log_file else None)
        sleep(delay)
        delay = min(delay * 1.5, 0.1)


def emulator_environment(environ: Mapping[str, str],
                         extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The emulator's process environment: none of the user's AWS settings.

    moto uses boto3 internally, which would read $AWS_PROFILE, keys and ~/.aws; a
    profile this machine lacks would break it, and real keys have no business in
    an emulator (nor in the functions it runs, whose environment is built anew)."""
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_")}
    env.update({
        "PYTHONUNBUFFERED": "1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    })
    env.update(extra or {})
    return env


def start(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, state_dir: Path | str | None = None,
          wait: bool = True, *, timeout: float = START_TIMEOUT_S, time_scale: float | None = None,
          extra_env: dict[str, str] | None = None,
          retry_scale: float | None = None, fresh: bool = False) -> EmulatorInfo:
    """Start the emulator in the background (idempotent) and return where it listens.

    `time_scale`: real seconds per AWS second (emulator/clock.py); `retry_scale` is its
    deprecated former name. Already running here -> its info with already_running=True
    (with `fresh`: UsageError, it cannot be emptied by a start). The port taken by
    something else -> OperationError. With wait=True, returns once it answers.
    The state saved in its state dir is restored; `fresh` discards it first.
    """
    scale = time_scale if time_scale is not None else retry_scale
    check_options(port, scale)
    root = Path(state_dir) if state_dir else state_root()
    if port == 0:
        return _start_on_any_port(host, root, timeout=timeout, time_scale=scale,
                                  extra_env=extra_env, wait=wait, fresh=fresh)
    record_path, log_path, work_dir = _paths(root, port)
    endpoint = endpoint_for(host, port)
    record = _read_record(record_path)
    if record is not None and _alive(record.pid):
        doc = health(record.endpoint)
        if doc is not None and doc.get("pid") == record.pid:
            _refuse_fresh(fresh, record.endpoint, record.pid)
            return EmulatorInfo(**{**record.to_dict(), "already_running": True})
    doc = health(endpoint, timeout=0.5)
    if doc is not None:  # ours, started elsewhere (another state dir)
        _refuse_fresh(fresh, endpoint, int(doc.get("pid", 0)))
        return EmulatorInfo(endpoint=endpoint, pid=int(doc.get("pid", 0)), host=host, port=port,
                            log_file=None, state_dir=doc.get("state_dir"),
                            started_at=float(doc.get("started_at", 0)), already_running=True)
    if _port_in_use(host, port):
        raise OperationError(f"port {port} on {host} is in use by another program",
                             hint="choose another port with --port, or stop that program")
    root.mkdir(parents=True, exist_ok=True)
    proc = _launch(host, port, work_dir, log_path, scale, extra_env, fresh=fresh)
    info = EmulatorInfo(endpoint=endpoint, pid=proc.pid, host=host, port=port,
                        log_file=str(log_path), state_dir=str(work_dir), started_at=time.time())
    tmp = record_path.with_suffix(f".tmp{proc.pid}")
    tmp.write_text(json.dumps(info.to_dict()))
    tmp.replace(record_path)
    if wait:
        try:
            wait_ready(endpoint, pid=proc.pid, timeout=timeout, log_file=log_path)
        except BaseException:
            _terminate(proc.pid, 2.0)
            record_path.unlink(missing_ok=True)
            raise
    return info


def _refuse_fresh(fresh: bool, endpoint: str, pid: int) -> None:
    if fresh:
        raise UsageError(f"--fresh: the emulator at {endpoint} (pid {pid}) is already running "
                         "with its state", hint="empty it with `notifyctl local reset`, or "
                                                "`notifyctl local stop` first")


def _launch(host: str, port: int, work_dir: Path, log_path: Path, time_scale: float | None,
            extra_env: dict[str, str] | None,
            port_file: Path | None = None, *, fresh: bool = False) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "notifyctl.emulator", "--host", host, "--port", str(port),
               "--state-dir", str(work_dir)] + (["--fresh"] if fresh else [])
    if time_scale is not None:
        command += ["--time-scale", str(time_scale)]
    if port_file is not None:
        command += ["--port-file", str(port_file)]
    env = emulator_environment(os.environ, extra_env)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                close_fds=True)
    _children[proc.pid] = proc
    return proc


def _start_on_any_port(host: str, root: Path, *, timeout: float, time_scale: float | None,
                       extra_env: dict[str, str] | None, wait: bool,
                       fresh: bool = False) -> EmulatorInfo:
    """--port 0: the emulator binds a free port and reports it; we file it under that port.

    The port is known only once the emulator has bound it, so this always waits for
    the port file (wait=False still skips the health check)."""
    import uuid

    root.mkdir(parents=True, exist_ok=True)
    name = f"emulator-auto-{uuid.uuid4().hex[:8]}"
    log_path, work_dir, port_file = root / f"{name}.log", root / name, root / f"{name}.port"
    proc = _launch(host, 0, work_dir, log_path, time_scale, extra_env, port_file, fresh=fresh)
    try:
        doc = wait_ready("", pid=proc.pid, timeout=timeout, log_file=log_path,
                         port_file=port_file, host=host)
        port = int(urllib.parse.urlsplit(str(doc["endpoint"])).port or 0)
    except BaseException:
        _terminate(proc.pid, 2.0)
        raise
    finally:
        port_file.unlink(missing_ok=True)
    info = EmulatorInfo(endpoint=endpoint_for(host, port), pid=proc.pid, host=host, port=port,
                        log_file=str(log_path), state_dir=str(work_dir), started_at=time.time())
    record_path = _paths(root, port)[0]
    tmp = record_path.with_suffix(f".tmp{proc.pid}")
    tmp.write_text(json.dumps(info.to_dict()))
    tmp.replace(record_path)
    return info


def _wait_exit(pid: int, timeout: float) -> None:
    child = _children.get(pid)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM (the emulator saves its state and exits), SIGKILL after `timeout`."""
    child = _children.pop(pid, None)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    if child is not None:
        try:
            child.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)
            return
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class StopReport:
    """An emulator stopped: which, and what became of its queued async events."""

    info: EmulatorInfo
    queued: int | None = None  # saved in the snapshot (None: it did not say: SIGTERM)
    finished: int | None = None  # deliveries under way that ended before the stop
    unfinished: int | None = None  # still running at the timeout: saved, run again later
    snapshot: dict[str, Any] | None = None  # state.SaveReport

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.info.pid, "endpoint": self.info.endpoint,
                "state_dir": self.info.state_dir, "queued": self.queued,
                "finished": self.finished, "unfinished": self.unfinished,
                "snapshot": self.snapshot}


def _owned(root: Path, state_dir: str | None) -> bool:
    if not state_dir:
        return False
    try:
        return Path(state_dir).resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def stop(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, state_dir: Path | str | None = None,
         *, timeout: float = STOP_TIMEOUT_S) -> StopReport | None:
    """Stop the emulator on host:port; None if none was running.

    Only one whose state directory is under ours (`state_dir`, default the XDG state
    dir): another user's or another state dir's emulator is refused (OperationError
    naming its pid). The emulator is asked first (POST /_notifyctl/stop): it waits up
    to `timeout` s for deliveries under way, saves its state with the queued events,
    answers with the counts and exits; one that does not answer gets SIGTERM."""
    root = Path(state_dir) if state_dir else state_root()
    record_path, _, _ = _paths(root, port)
    record = _read_record(record_path)
    info: EmulatorInfo | None = None
    if record is not None and _alive(record.pid) and _is_emulator_pid(record.pid):
        info = record
    else:
        endpoint = endpoint_for(host, port)
        doc = health(endpoint)
        if doc is not None and doc.get("pid"):
            info = EmulatorInfo(endpoint=endpoint, pid=int(doc["pid"]), host=host,
                                port=port, log_file=None, state_dir=doc.get("state_dir"),
                                started_at=float(doc.get("started_at", 0)))
            if not _owned(root, info.state_dir):
                raise OperationError(
                    f"the emulator at {endpoint} (pid {info.pid}) was not started from this "
                    f"state directory ({root}): its state is in {info.state_dir or '?'}",
                    hint=f"stop it where it was started (`notifyctl local stop` with that "
                         f"XDG_STATE_HOME), or with `kill {info.pid}` if it is yours")
    report = None
    if info is not None:
        report = _ask_to_stop(info, timeout)
        if report.snapshot is not None:  # it answered and is exiting by itself
            _wait_exit(info.pid, STOP_TIMEOUT_S)
        _terminate(info.pid, STOP_TIMEOUT_S)
    record_path.unlink(missing_ok=True)
    return report


def _ask_to_stop(info: EmulatorInfo, timeout: float) -> StopReport:
    """POST /_notifyctl/stop; a report without counts when it does not answer."""
    body = json.dumps({"timeout": timeout}).encode("utf-8")
    request = urllib.request.Request(f"{info.endpoint}/_notifyctl/stop", data=body,
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout + START_TIMEOUT_S) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return StopReport(info)
    if not isinstance(data, dict):
        return StopReport(info)
    return StopReport(info, data.get("queued"), data.get("finished"), data.get("unfinished"),
                      data.get("snapshot"))


def reset(endpoint: str, timeout: float = 60.0) -> dict[str, int]:
    """`local reset`: empty the running emulator at `endpoint` (moto, our engines, the
    async queue, the outbox). Returns what it dropped."""
    request = urllib.request.Request(f"{endpoint}/_notifyctl/reset", data=b"{}", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return dict(json.loads(resp.read().decode("utf-8")))
    except urllib.error.HTTPError as exc:
        raise OperationError(f"{endpoint} did not reset (HTTP {exc.code}): is it a notifyctl "
                             "emulator of this version?") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None


def status(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           state_dir: Path | str | None = None, *, timeout: float = STATUS_TIMEOUT_S,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> EmulatorStatus:
    """Whether an emulator answers at host:port, with its details.

    A refused connection with no live emulator process recorded is "not running" at
    once. A slow answer is asked again until `timeout`; if the recorded process is
    alive but never answered, it is reported running and not answering, never "not
    running"."""
    root = Path(state_dir) if state_dir else state_root()
    record_path, _, _ = _paths(root, port)
    record = _read_record(record_path)
    endpoint = record.endpoint if record is not None else endpoint_for(host, port)
    alive = record is not None and _alive(record.pid) and _is_emulator_pid(record.pid)
    deadline = clock() + timeout
    details: Any = None
    while True:
        left = deadline - clock()
        try:
            details = _get_json(f"{endpoint}/_notifyctl/status", timeout=max(0.5, min(left, 5.0)))
            break
        except (OSError, ValueError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", exc)
            refused = isinstance(reason, ConnectionRefusedError)
            if (refused and not alive) or clock() >= deadline:
                break
            sleep(0.2)
    if not isinstance(details, dict) or details.get("service") != SERVICE:
        if alive and details is None:
            return EmulatorStatus(running=True, endpoint=endpoint, info=record, answering=False)
        return EmulatorStatus(running=False, endpoint=endpoint)
    if record is None or record.pid != details.get("pid"):
        record = EmulatorInfo(endpoint=endpoint, pid=int(details.get("pid", 0)), host=host,
                              port=port, log_file=None, state_dir=details.get("state_dir"),
                              started_at=float(details.get("started_at", 0)))
    return EmulatorStatus(running=True, endpoint=endpoint, info=record, details=details)


@contextlib.contextmanager
def private_emulator(host: str = DEFAULT_HOST, *, time_scale: float | None = None,
                     retry_scale: float | None = None,
                     extra_env: dict[str, str] | None = None,
                     timeout: float = START_TIMEOUT_S) -> Iterator[EmulatorInfo]:
    """An emulator of our own on a free port in a temporary state dir, always stopped
    afterwards (also on exceptions and Ctrl-C)."""
    root = Path(tempfile.mkdtemp(prefix="notifyctl-emulator-"))
    info: EmulatorInfo | None = None
    try:
        for attempt in range(3):
            port = free_port(host)
            try:
                info = start(host, port, state_dir=root,
                             time_scale=time_scale if time_scale is not None else retry_scale,
                             extra_env=extra_env, timeout=timeout)
                break
            except OperationError:
                if attempt == 2 or not _port_in_use(host, port):
                    raise
        assert info is not None
        yield info
    finally:
        if info is not None:
            stop(host, info.port, state_dir=root)
        shutil.rmtree(root, ignore_errors=True)
