"""The emulator process: moto's WSGI app, our patches, our own endpoints.

    python -m notifyctl.emulator --host 127.0.0.1 --port 4566 --state-dir DIR

Our endpoints (everything else is moto):
    GET /_notifyctl/health        readiness: {"service": "notifyctl-emulator", "status": "ready", ...}
    GET /_notifyctl/status        health + functions (warm/busy environments, counts) + async queue
    GET /_notifyctl/outbox        the emails SES accepted, oldest first
    GET /_notifyctl/outbox/page   ?since_ms=&to=&limit=: the newest matching, with counts
    GET /_notifyctl/code/<account>/<region>/<function>/<version>   a version's zip (Code.Location)
    POST /_notifyctl/ses/verify   {"identity": ...}: a Pending SES identity becomes verified
    GET|POST /_notifyctl/ses/mailboxes   scripted recipients: {"address": ..., "behaviour":
                                  "bounce" | "complain" | "deliver"} (ses_account.py)
    POST /_notifyctl/ttl/sweep    delete expired DynamoDB TTL items now: {"deleted": N}
    GET|POST|DELETE /_notifyctl/faults   list, add, clear injected faults (faults.py)
    POST /_notifyctl/reset        empty everything (moto, engines, queue, outbox): `local reset`
    POST /_notifyctl/stop         {"timeout": S}: wait for deliveries, save the state, exit
    GET /_notifyctl/memory        ?top=N: RSS, stored vs kept record counts per service, and the
                                  allocations that grew most since the mark (memory.py)
    POST /_notifyctl/memory/mark  ?frames=N: start tracing allocations (or mark a snapshot)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifyctl.emulator import iam_enforce

SERVICE = "notifyctl-emulator"
PREFIX = "/_notifyctl/"
ENV_CHECK_PERMISSIONS = "NOTIFYCTL_EMULATOR_CHECK_PERMISSIONS"
ENV_VERBOSE = "NOTIFYCTL_EMULATOR_VERBOSE"  # log every HTTP request


@dataclass
class Hub:
    """Everything the patches reach: one per process."""

    endpoint: str
    state_dir: Path
    runtime: Any
    dispatcher: Any
    backend: Any
    outbox: Any
    moto_version: str
    states: Any = None  # function_states.FunctionStates
    ttl: Any = None  # ttl.TtlSweeper
    started_at: float = field(default_factory=time.time)
    clock: Any = None  # clock.Clock: the one time scale
    alarms: Any = None  # alarms.AlarmEngine
    deployments: Any = None  # codedeploy.CodeDeployEngine
    ses_simulator: Any = None  # ses_simulator.SesSimulator: SES events after a send
    faults: Any = field(default_factory=lambda: _fault_registry())  # faults.FaultRegistry
    snapshots: Any = None  # state.Snapshotter
    requests: int = 0  # moto requests served: what changed since the last snapshot
    restored: dict[str, Any] = field(default_factory=dict)  # what start-up restored
    shutdown: Any = None  # stops the HTTP server (set by serve)
    stopped: bool = False  # stop() ran: the state is saved, deliveries paused

    def health(self) -> dict[str, Any]:
        return {"service": SERVICE, "status": "ready", "pid": os.getpid(),
                "endpoint": self.endpoint, "started_at": self.started_at,
                "uptime_s": round(time.time() - self.started_at, 3),
                "moto_version": self.moto_version, "state_dir": str(self.state_dir),
                "time_scale": self.clock.factor if self.clock is not None else None,
                "enforce_iam": iam_enforce.mode()}

    def status(self) -> dict[str, Any]:
        from notifyctl.emulator.patches.sqs import polls_waiting

        functions = self.runtime.status()
        totals = {k: sum(f.get(k, 0) for f in functions)
                  for k in ("invocations", "errors", "throttles", "timeouts", "cold_starts",
                            "warm", "busy")}
        return {**self.health(), "runtime": self.runtime.describe(),
                "functions": functions, "totals": totals,
                "async": self.dispatcher.snapshot(), "outbox": self.outbox.count(),
                "sqs_polls_waiting": polls_waiting(),
                "refused": self.dispatcher.snapshot_refused(),
                "persistence": self.persistence()}

    def persistence(self) -> dict[str, Any]:
        snaps = self.snapshots
        last = snaps.last.to_dict() if snaps is not None and snaps.last is not None else None
        return {"state_dir": str(self.state_dir),
                "interval_s": snaps.interval if snaps is not None else None,
                "last_snapshot": last, "restored": self.restored}

    def log_saved(self, report: Any) -> None:
        """After a periodic snapshot (only when something changed): one log line with the
        async queue's counts, so the log tells what was queued, retried, dead-lettered."""
        stats = self.dispatcher.snapshot()
        where = "a child process" if report.forked else "the emulator"
        print(f"emulator: state saved ({report.bytes} bytes, moto held {report.capture_ms:.0f} "
              f"ms, {report.cpu_ms:.0f} ms CPU in {where}); async: {stats['pending']} queued, "
              f"{stats['in_flight']} in flight, {stats['retries']} retried, "
              f"{stats['dead_letters']} dead-lettered, {stats['failed']} failed, "
              f"{stats['sns_failed']} refused; {self.outbox.count()} emails", flush=True)

    def saved(self, report: Any) -> None:
        """After a periodic snapshot: log it, then give the memory freed since (a drained
        backlog, an in-process snapshot's pickle) back to the OS (allocator.py)."""
        from notifyctl.emulator import allocator

        self.log_saved(report)
        allocator.release()

    def generation(self) -> int:
        """Changes since start: moto requests and deliveries (which write logs and
        metrics without a request)."""
        stats = self.dispatcher.snapshot()
        return self.requests + stats["succeeded"] + stats["failed"] + stats["queued"]

    def stop(self, timeout: float) -> dict[str, Any]:
        """Wait up to `timeout` s for deliveries under way, then save the state (queued
        events included). The dispatcher stays paused: the process is ending."""
        from notifyctl.emulator.delivery import Drained

        self.stopped = True
        drained: Drained = self.dispatcher.pause(timeout)
        report = self.snapshots.save(force=True) if self.snapshots is not None else None
        print(f"emulator: stopping: {drained.queued} queued and {drained.unfinished} "
              f"unfinished async events saved, {drained.finished} finished"
              + (f"; state saved to {report.path} ({report.bytes} bytes)" if report else ""),
              file=sys.stderr, flush=True)
        return {"queued": drained.queued, "finished": drained.finished,
                "unfinished": drained.unfinished,
                "snapshot": report.to_dict() if report is not None else None}

    def close(self, drain_s: float = 2.0) -> None:
        if self.snapshots is not None:
            self.snapshots.close()
        if self.snapshots is not None and not self.stopped:  # SIGTERM / Ctrl-C
            try:
                self.stop(drain_s)
            except Exception as exc:  # noqa: BLE001 - say so; the process is ending anyway
                print(f"emulator: could not save the state: {exc!r}", file=sys.stderr,
                      flush=True)
        for engine in (self.alarms, self.deployments, self.ses_simulator):
            if engine is not None:
                engine.close()
        self.dispatcher.close()
        self.runtime.close()
        if self.ttl is not None:
            self.ttl.close()
        self.outbox.store.close()


@contextlib.contextmanager
def moto_quiesced() -> Iterator[None]:
    """Every lock that serialises moto's backends, held: nothing changes moto's state
    inside (snapshots, `local reset`). `with MOTO_LOCK:` takes every service group, in
    LOCK_ORDER (backends.MotoLock); a new lock on moto state must be taken here too."""
    from notifyctl.emulator.backends import MOTO_LOCK

    with MOTO_LOCK:
        yield


def _fault_registry() -> Any:
    from notifyctl.emulator.faults import FaultRegistry

    return FaultRegistry()


def _json(start_response: Any, data: Any, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(data).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def _read_json(environ: dict[str, Any]) -> Any:
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        return json.loads(environ["wsgi.input"].read(size) or b"{}") if size else {}
    except (ValueError, KeyError):
        return None


def signing_name(environ: dict[str, Any]) -> str | None:
    """The service a request is for, from its SigV4 credential scope
    (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`, header or presigned query)."""
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    _, found, scope = auth.partition("Credential=")
    if not found:
        query = environ.get("QUERY_STRING") or ""
        _, found, scope = query.partition("X-Amz-Credential=")
        scope = scope.replace("%2F", "/").replace("%2f", "/")
    parts = scope.split(",")[0].split("&")[0].split("/")
    return parts[3] if found and len(parts) > 3 else None


def make_app(hub: Hub, moto_app: Any) -> Any:
    """Our endpoints in front of moto's WSGI app."""
    from notifyctl.emulator.backends import MOTO_LOCK

    def code(start_response: Any, parts: list[str]) -> list[bytes]:
        from moto.awslambda.models import lambda_backends

        account, region, name, version = parts
        with MOTO_LOCK.hold("lambda"):
            storage = lambda_backends[account][region]._lambdas
            entry = storage._functions.get(name) or {}
            fn = entry.get("latest") if version == "$LATEST" else storage._get_version(name, version)
            data = getattr(fn, "code_bytes", b"") if fn is not None else b""
        if not data:
            return _json(start_response, {"message": "no such code"}, "404 Not Found")
        start_response("200 OK", [("Content-Type", "application/zip"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    from notifyctl.emulator import faults

    def moto(environ: dict[str, Any], start_response: Any) -> Any:
        hub.requests += 1  # a change marker for the snapshotter (a lost += is harmless)
        # see MotoLock: moto's models are not thread-safe; one lock per service group
        with MOTO_LOCK.hold(*MOTO_LOCK.for_service(signing_name(environ))):
            return moto_app(environ, start_response)

    def ses_verify(start_response: Any, environ: dict[str, Any]) -> list[bytes]:
        from notifyctl.emulator.patches.ses import mark_verified

        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            doc = json.loads(environ["wsgi.input"].read(size) or b"{}")
            identity = str(doc["identity"])
        except (ValueError, KeyError):
            return _json(start_response, {"message": "expected {\"identity\": ...}"},
                         "400 Bad Request")
        with MOTO_LOCK.hold("ses"):
            found = mark_verified(str(doc.get("account") or "123456789012"),
                                  str(doc.get("region") or "us-east-1"), identity)
        if not found:
            return _json(start_response, {"message": f"no identity {identity}"}, "404 Not Found")
        return _json(start_response, {"identity": identity, "status": "Success"})

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return faults.serve(hub.faults, environ, start_response, moto)
        route = path[len(PREFIX):].strip("/")
        if route == "faults":
            return faults.handle_control(hub.faults, environ, start_response)
        if route == "health":
            return _json(start_response, hub.health())
        if route == "status":
            return _json(start_response, hub.status())
        if route == "outbox":
            return _json(start_response, hub.outbox.to_json())
        if route == "outbox/page":
            return _outbox_page(hub, environ, start_response)
        if route == "ses/verify" and environ.get("REQUEST_METHOD") == "POST":
            return ses_verify(start_response, environ)
        if route == "ses/mailboxes":
            from notifyctl.emulator.ses_account import mailbox_request

            status, body = mailbox_request(environ.get("REQUEST_METHOD", "GET"),
                                           _read_json(environ))
            return _json(start_response, body, status)
        if route == "reset" and environ.get("REQUEST_METHOD") == "POST":
            return _json(start_response, _reset(hub))
        if route == "stop" and environ.get("REQUEST_METHOD") == "POST":
            return _stop(hub, environ, start_response)
        if route == "memory":
            return _memory(environ, start_response)
        if route == "memory/mark" and environ.get("REQUEST_METHOD") == "POST":
            return _memory(environ, start_response, mark=True)
        if route == "ttl/sweep" and environ.get("REQUEST_METHOD") == "POST":
            return _json(start_response, {"deleted": hub.ttl.sweep()})
        if route.startswith("code/") and len(route.split("/")) == 5:
            from urllib.parse import unquote

            return code(start_response, [unquote(p) for p in route.split("/")[1:]])
        return _json(start_response, {"message": f"unknown endpoint {path}"}, "404 Not Found")

    return app


def _reset(hub: Hub) -> dict[str, Any]:
    from notifyctl.emulator import state

    done = state.reset(hub, moto_quiesced)
    if hub.snapshots is not None:
        hub.snapshots.save(force=True)
    print(f"emulator: reset: {done}", file=sys.stderr, flush=True)
    return done


def _stop(hub: Hub, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """POST /_notifyctl/stop {"timeout": S}: drain, save, answer, then shut down."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        timeout = float(json.loads(environ["wsgi.input"].read(size) or b"{}").get("timeout", 10))
    except (ValueError, TypeError, AttributeError):
        return _json(start_response, {"message": "expected {\"timeout\": seconds}"},
                     "400 Bad Request")
    report = hub.stop(max(0.0, timeout))
    return _ThenShutdown(_json(start_response, report), hub.shutdown)


class _ThenShutdown(list[bytes]):
    """A response body that shuts the server down once it has been sent (the WSGI
    server calls close() after writing it): the caller gets its answer first."""

    def __init__(self, body: list[bytes], shutdown: Any) -> None:
        super().__init__(body)
        self._shutdown = shutdown

    def close(self) -> None:
        if self._shutdown is not None:
            self._shutdown()


def _outbox_page(hub: Hub, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """GET /_notifyctl/outbox/page?since_ms=&to=&limit=: the newest `limit` matching emails."""
    from urllib.parse import parse_qs

    query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    try:
        since = int(query["since_ms"]) if query.get("since_ms") else None
        limit = int(query["limit"]) if query.get("limit") else None
    except ValueError:
        return _json(start_response, {"message": "since_ms and limit are integers"},
                     "400 Bad Request")
    page = hub.outbox.store.page(since_ms=since, to=query.get("to") or None, limit=limit)
    return _json(start_response, page.to_dict())


def _memory(environ: dict[str, Any], start_response: Any, mark: bool = False) -> list[bytes]:
    """GET /_notifyctl/memory?top=N, POST /_notifyctl/memory/mark?frames=N (memory.py)."""
    from urllib.parse import parse_qs

    from notifyctl.emulator import memory

    name = "frames" if mark else "top"
    raw = parse_qs(environ.get("QUERY_STRING", "")).get(name, ["12" if mark else "0"])[-1]
    if not raw.isdigit():
        return _json(start_response, {"message": f"{name} is a whole number"},
                     "400 Bad Request")
    if mark:
        return _json(start_response, {"tracing": memory.mark(int(raw))})
    collect = parse_qs(environ.get("QUERY_STRING", "")).get("collect", ["0"])[-1] == "1"
    return _json(start_response, memory.report(int(raw), full_collection=collect))


def _role_credentials(spec: Any) -> dict[str, str]:
    """A function's environment gets its execution role's STS credentials."""
    from notifyctl.emulator.iam_enforce import issue

    return issue(spec.account_id, spec.region, spec.role, spec.name)


def build_hub(endpoint: str, state_dir: Path, *, time_scale: float | None = None,
              fresh: bool = False) -> Hub:
    """Create the runtime, dispatcher, outbox and engines and install the moto patches."""
    from notifyctl.emulator import clock, patches

    moto_version = patches.check_version()
    from notifyctl.emulator.backends import MotoBackend, MotoTelemetry, SesCapture
    from notifyctl.emulator.delivery import Dispatcher
    from notifyctl.emulator.function_states import AWS_STATE_CHANGE_S, FunctionStates
    from notifyctl.emulator.outbox_store import FILE_NAME as OUTBOX_FILE
    from notifyctl.emulator.outbox_store import OutboxStore
    from notifyctl.emulator.runtime import view
    from notifyctl.emulator.runtime.pool import Runtime

    if fresh:
        from notifyctl.emulator.state import discard

        discard(state_dir)
    the_clock = clock.configure(clock.resolve(time_scale))
    retry_scale = the_clock.factor
    view.set_credential_issuer(_role_credentials)
    runtime = Runtime(state_dir, endpoint, MotoTelemetry())
    states = FunctionStates(delay_s=the_clock.scale(AWS_STATE_CHANGE_S))
    backend = MotoBackend(states=states)
    check = os.environ.get(ENV_CHECK_PERMISSIONS, "true").strip().lower() not in ("0", "false", "no")
    dispatcher = Dispatcher(runtime, backend, retry_scale=retry_scale, check_permissions=check)
    from notifyctl.emulator.ttl import SWEEP_INTERVAL_S, TtlSweeper

    ttl = TtlSweeper(the_clock.scale(SWEEP_INTERVAL_S)).start()
    hub = Hub(endpoint=endpoint, state_dir=state_dir, runtime=runtime, dispatcher=dispatcher,
              backend=backend, outbox=SesCapture(OutboxStore(state_dir / OUTBOX_FILE)),
              moto_version=moto_version, states=states,
              clock=the_clock, ttl=ttl)
    patches.install(hub)
    _start_engines(hub)
    _persistence(hub, moto_version, fresh)
    return hub


def _persistence(hub: Hub, moto_version: str, fresh: bool) -> None:
    """Restore the saved state (unless --fresh), then snapshot periodically.
    SnapshotRefused (other versions, unreadable) stops the start: serve() says why."""
    from notifyctl.emulator import state

    path = hub.state_dir / state.FILE_NAME
    if not fresh:
        started = time.monotonic()
        data = state.read(path, state.Header.current(moto_version))
        if data is not None:
            events = state.restore(hub, data, moto_quiesced)
            hub.restored = {"from": str(path), "async_events": events,
                            "emails": hub.outbox.count(),
                            "seconds": round(time.monotonic() - started, 3)}
            print(f"emulator: restored the state saved in {path} ({events} async events "
                  f"queued again, {hub.outbox.count()} emails in the outbox)", flush=True)
    fork = ((lambda to, header: state.capture_forked(hub, moto_quiesced, to, header))
            if state.can_fork() else None)  # periodic saves pickle in a child process
    hub.snapshots = state.Snapshotter(
        path, lambda: state.Header.current(moto_version),
        lambda: state.capture(hub, moto_quiesced), hub.generation,
        state.interval_s(), on_saved=hub.saved, fork=fork).start()


def _start_engines(hub: Hub) -> None:
    """The alarm evaluator, the CodeDeploy engine and the SES simulator, on the hub's clock."""
    from notifyctl.emulator.alarms import AlarmEngine
    from notifyctl.emulator.codedeploy import CodeDeployEngine
    from notifyctl.emulator.patches.cloudwatch import MotoAlarmStore
    from notifyctl.emulator.patches.codedeploy import (
        DispatcherHooks,
        MotoAlarmStates,
        MotoAliases,
        MotoDeploymentSink,
    )

    hub.alarms = AlarmEngine(MotoAlarmStore(hub.clock.scale), hub.clock)
    hub.alarms.start()
    hub.deployments = CodeDeployEngine(MotoAliases(), MotoAlarmStates(), DispatcherHooks(),
                                       MotoDeploymentSink(), hub.clock)
    from notifyctl.emulator.patches.ses import MotoSesSink
    from notifyctl.emulator.ses_simulator import SesSimulator

    hub.ses_simulator = SesSimulator(MotoSesSink(), hub.clock)


def serve(host: str, port: int, state_dir: Path, *, time_scale: float | None = None,
          port_file: Path | None = None, fresh: bool = False) -> int:
    """Run the emulator until SIGTERM/SIGINT. Returns the process exit code.

    port_file: where to write the port really bound (port 0 picks a free one), once
    the server answers requests."""
    # AWS managed policies (AWSLambdaBasicExecutionRole...) must exist for bootstrap.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    state_dir.mkdir(parents=True, exist_ok=True)
    import logging

    # One line per HTTP request fills the log and costs time under load; keep it
    # for debugging only.
    if not os.environ.get(ENV_VERBOSE):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from notifyctl.emulator.patches import MotoVersionError
    from notifyctl.emulator.state import SnapshotRefused

    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from notifyctl.emulator.http_server import KeepAliveRequestHandler

        server = make_server(host, port, None, threaded=True,  # type: ignore[arg-type]
                             request_handler=KeepAliveRequestHandler)
    except OSError as exc:
        print(f"emulator: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    actual_port = server.server_address[1]
    endpoint = f"http://{connect_host}:{actual_port}"
    try:
        hub = build_hub(endpoint, state_dir, time_scale=time_scale, fresh=fresh)
    except (MotoVersionError, ValueError, SnapshotRefused) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        server.server_close()
        return 4
    server.app = make_app(hub, DomainDispatcherApplication(create_backend_app))

    def shutdown() -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def stop(signum: int, frame: Any) -> None:
        shutdown()

    hub.shutdown = shutdown

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"emulator: ready on {endpoint} (pid {os.getpid()}, moto {hub.moto_version}, "
          f"time scale {hub.clock.factor}, state {state_dir})", flush=True)
    if port_file is not None:
        tmp = port_file.with_name(port_file.name + ".tmp")
        tmp.write_text(json.dumps({"port": actual_port}))
        tmp.replace(port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        hub.close()
        server.server_close()
        print("emulator: stopped", flush=True)
    return 0
