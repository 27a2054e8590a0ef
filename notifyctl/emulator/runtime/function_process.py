"""The child: one Lambda execution environment, a Python process running one function.

The parent's handle on it is `environment.ExecutionEnvironment`, which starts it as
`python -I -S function_process.py` with the variables of `view.function_environment`;
stdlib only, so it starts in ~20 ms and imports boto3 only if the function does.
Before the function's module is imported it builds the runtime's view (view.py):
the private mount namespace when asked, then sys.path = task root, layers,
standard library, runtime SDK.

Why a lean process and not awslambdaric (the official Runtime Interface Client):
awslambdaric is not installed here, and it speaks the Runtime API over HTTP
(a long-poll GET /next and a POST per result), which would need an HTTP server
per environment and costs a few milliseconds per invocation. A pipe carrying one
JSON line per message costs microseconds. What the function can observe is the
same: the handler string, the environment variables, the context object, the
logging setup (root handler with the `[LEVEL]\\t<time>\\t<request id>\\t<msg>`
format, or one JSON object per record under LoggingConfig LogFormat=JSON), the
error payload shape, module code run once per environment.

Protocol (one JSON object per line):
  parent -> child (stdin):  {"id": request id, "event": "<event JSON>", "deadline": epoch ms,
                             "arn": invoked function ARN}
  child -> parent (the original stdout, kept on a private fd):
      {"t": "ready", "init_ms": float, "sandbox": str}  or  {"t": "ready", "error": {...}}
      {"t": "log", "ts": epoch ms, "m": text}                               any time
      {"t": "result", "id": ..., "ok": bool, "payload": "<JSON>", "mem": MB}  per request
File descriptors 1 and 2 of the child both go to the parent's stderr drain, so
output written below Python (C extensions, subprocesses) still reaches the logs.
Must run on every Python a Lambda runtime names (3.9+): no newer syntax at runtime.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

_send_lock = threading.Lock()
_ctl: Any = None
_request_id = ""


def _send(message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode("utf-8")
    with _send_lock:
        _ctl.write(data)
        _ctl.flush()


def _log(text: str) -> None:
    _send({"t": "log", "ts": int(time.time() * 1000), "m": text})


class _LogStream:
    """sys.stdout/sys.stderr: each complete line becomes one log event (as on Lambda)."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self) -> None:
        self._buf = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._buf += text
            if "\n" not in self._buf:
                return len(text)
            *lines, self._buf = self._buf.split("\n")
        for line in lines:
            _log(line + "\n")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._buf = self._buf, ""
        if rest:
            _log(rest)

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 2


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


class _LambdaLogHandler(logging.Handler):
    """One log event per record, multi-line messages kept whole (as on Lambda)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _log(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the handler
            self.handleError(record)


class _JsonFormatter(logging.Formatter):
    """LoggingConfig LogFormat=JSON: one JSON object per record, the fields Lambda's
    runtime writes (timestamp, level, message, logger, requestId, and the error
    fields when the record carries an exception), plus the record's `extra` keys."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message", "asctime", "aws_request_id"}

    def format(self, record: logging.LogRecord) -> str:
        message = record.msg if isinstance(record.msg, dict) and not record.args \
            else record.getMessage()
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname, "message": message, "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None) or None,
        }
        if record.exc_info and record.exc_info[0] is not None:
            out.update(errorType=record.exc_info[0].__name__,
                       errorMessage=str(record.exc_info[1]),
                       stackTrace=traceback.format_tb(record.exc_info[2]),
                       location=f"{record.pathname}:{record.funcName}:{record.lineno}")
        out.update((k, v) for k, v in vars(record).items() if k not in self._STANDARD)
        return json.dumps(out, default=str) + "\n"


def _json_logs() -> bool:
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def _setup_logging() -> None:
    # The same set-up as Lambda's runtime: root handler, UTC times, request id in
    # every line; the root level is left at its default (WARNING) unless
    # AWS_LAMBDA_LOG_LEVEL (LoggingConfig ApplicationLogLevel) says otherwise.
    logging.Formatter.converter = time.gmtime
    handler = _LambdaLogHandler()
    if _json_logs():
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        ))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper().replace("TRACE", "DEBUG")
    if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL"):
        root.setLevel(level)


class LambdaContext:
    """The context object (same attributes as awslambdaric's LambdaContext).

    memory_limit_in_mb is a string there too (it is read from the environment).
    """

    def __init__(self, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},"
                f"function_name={self.function_name},"
                f"function_version={self.function_version}])")


class _InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error = {"errorMessage": message, "errorType": error_type,
                      "requestId": "", "stackTrace": stack or []}


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    tb = traceback.extract_tb(exc.__traceback__)
    # Drop our own frame so the stack starts in the function's code, as on Lambda.
    frames = [f for f in tb if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(error: dict[str, Any]) -> None:
    if _json_logs():
        _log(json.dumps({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "level": "ERROR", **error}) + "\n")
        return
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in error["stackTrace"])
    _log("\n".join(lines) + "\n")


def _load_handler(handler: str) -> Any:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _InitError("Runtime.MalformedHandlerName",
                         f"Bad handler '{handler}': {exc}") from None
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except ImportError as exc:
        raise _InitError("Runtime.ImportModuleError",
                         f"Unable to import module '{modname}': {exc}") from None
    except SyntaxError as exc:
        raise _InitError("Runtime.UserCodeSyntaxError",
                         f"Syntax error in module '{modname}': {exc}") from None
    except Exception as exc:  # noqa: BLE001 - an init error is reported, not raised
        payload = _error_payload(exc, "")
        raise _InitError(payload["errorType"], payload["errorMessage"],
                         payload["stackTrace"]) from None
    func = getattr(module, fname, None)
    if func is None:
        raise _InitError("Runtime.HandlerNotFound",
                         f"Handler '{fname}' missing on module '{modname}'")
    return func


def _max_memory_mb() -> int:
    # Peak resident memory of this process. Not getrusage's ru_maxrss: Linux
    # carries that across fork+exec from the (large) emulator process.
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) // 1024 + 1
    except OSError:
        pass
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024) + 1
    except Exception:  # noqa: BLE001 - not on every platform
        return 0


# -- the runtime's view (see view.py) ------------------------------------------------
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT = 1, 2, 4, 32
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18


def _enter_sandbox(tmp_mb: int, keep: list[str], opt: str | None, task_root: str) -> str:
    """A private mount namespace: tmpfs /tmp, the task root read-only, layers at /opt.

    `keep` are paths under /tmp the function still needs (the emulator's state
    directory may live there): opened before /tmp is replaced, bound back after.
    Raises OSError when the kernel refuses; the caller then keeps the host's view.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def call(result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def mount(source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        call(libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                        flags, data and data.encode()), f"mount {target}")

    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWNS) != 0:  # not root: a user namespace makes us root in it
        call(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
    mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    read_only = [task_root] + ([opt] if opt else [])
    visible = {path: os.open(path, os.O_PATH | os.O_DIRECTORY)
               for path in dict.fromkeys(read_only + keep) if os.path.isdir(path)}
    if opt and os.path.isdir("/opt"):
        mount(opt, "/opt", None, _MS_BIND | _MS_REC)
        mount(None, "/opt", None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
    mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for path, fd in visible.items():
        if path in read_only or not os.path.isdir(path):  # hidden by the new /tmp
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
            if path in read_only:
                mount(None, path, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
        os.close(fd)
    os.chdir(task_root)  # the read-only mount, not the directory under it
    os.environ["TMPDIR"] = "/tmp"
    return "private /tmp, read-only task root"


def _build_view(view: dict[str, Any]) -> str:
    """Enter the sandbox (if asked) and set sys.path; returns what the sandbox is."""
    task_root = view.get("task_root") or os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    opt = view.get("opt")
    sandbox = "off"
    if view.get("sandbox"):
        try:
            sandbox = _enter_sandbox(int(view["sandbox"]["tmp_mb"]), view["sandbox"]["keep"],
                                     opt, task_root)
            if opt and os.path.isdir("/opt/python"):
                opt = "/opt"
        except OSError as exc:
            sandbox = f"unavailable ({exc.strerror or exc}): /tmp shared, task root writable"
    layers = []
    if opt:
        python = os.path.join(opt, "python")
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        layers = [os.path.join(python, "lib", version, "site-packages"), python]
    sys.path[:0] = [task_root, *layers]
    if view.get("sdk"):
        sys.path.append(view["sdk"])
    return sandbox


def main() -> None:
    global _ctl, _request_id
    # Keep the real stdout as the control channel; point fd 1 at fd 2 so stray
    # writes below Python land in the log drain instead of corrupting the protocol.
    _ctl = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = _LogStream()  # type: ignore[assignment]
    sys.stderr = _LogStream()  # type: ignore[assignment]

    sandbox = _build_view(json.loads(os.environ.pop("_NOTIFYCTL_VIEW", "{}") or "{}"))
    _setup_logging()

    started = time.perf_counter()
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        _log_error(exc.error)
        _send({"t": "ready", "error": exc.error})
        return
    _send({"t": "ready", "init_ms": (time.perf_counter() - started) * 1000, "sandbox": sandbox})

    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        _request_id = request["id"]
        context = LambdaContext(_request_id, request["deadline"], request["arn"])
        try:
            result = handler(json.loads(request["event"]), context)
            try:
                body = json.dumps(result)
                ok = True
            except (TypeError, ValueError) as exc:
                error = {"errorMessage": f"Unable to marshal response: {exc}",
                         "errorType": "Runtime.MarshalError", "requestId": _request_id,
                         "stackTrace": []}
                _log_error(error)
                body, ok = json.dumps(error), False
        except Exception as exc:  # noqa: BLE001 - reported to the caller like Lambda does
            error = _error_payload(exc, _request_id)
            _log_error(error)
            body, ok = json.dumps(error), False
        sys.stdout.flush()
        sys.stderr.flush()
        _send({"t": "result", "id": _request_id, "ok": ok, "payload": body,
               "mem": _max_memory_mb()})


if __name__ == "__main__":
    main()
