"""The emulator process: moto's WSGI app, our patches, our own endpoints.

    python -m notifyctl.emulator --host 127.0.0.1 --port 4566 --state-dir DIR

Our endpoints (everything else is moto):
    GET /_notifyctl/health        readiness: {"service": "notifyctl-emulator", "status": "ready", ...}
    GET /_notifyctl/status        health + functions (warm/busy environments, counts) + async queue
    GET /_notifyctl/outbox        the emails SES accepted, oldest first
    GET /_notifyctl/code/<account>/<region>/<function>/<version>   a version's zip (Code.Location)
    POST /_notifyctl/ses/verify   {"identity": ...}: a Pending SES identity becomes verified
    POST /_notifyctl/ttl/sweep    delete expired DynamoDB TTL items now: {"deleted": N}
    GET|POST|DELETE /_notifyctl/faults   list, add, clear injected faults (faults.py)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
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
    faults: Any = field(default_factory=lambda: _fault_registry())  # faults.FaultRegistry

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
                "async": self.dispatcher.snapshot(), "outbox": len(self.outbox.to_json()),
                "sqs_polls_waiting": polls_waiting()}

    def close(self) -> None:
        for engine in (self.alarms, self.deployments):
            if engine is not None:
                engine.close()
        self.dispatcher.close()
        self.runtime.close()
        if self.ttl is not None:
            self.ttl.close()


def _fault_registry() -> Any:
    from notifyctl.emulator.faults import FaultRegistry

    return FaultRegistry()


def _json(start_response: Any, data: Any, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(data).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


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
        if route == "ses/verify" and environ.get("REQUEST_METHOD") == "POST":
            return ses_verify(start_response, environ)
        if route == "ttl/sweep" and environ.get("REQUEST_METHOD") == "POST":
            return _json(start_response, {"deleted": hub.ttl.sweep()})
        if route.startswith("code/") and len(route.split("/")) == 5:
            from urllib.parse import unquote

            return code(start_response, [unquote(p) for p in route.split("/")[1:]])
        return _json(start_response, {"message": f"unknown endpoint {path}"}, "404 Not Found")

    return app


def _role_credentials(spec: Any) -> dict[str, str]:
    """A function's environment gets its execution role's STS credentials."""
    from notifyctl.emulator.iam_enforce import issue

    return issue(spec.account_id, spec.region, spec.role, spec.name)


def build_hub(endpoint: str, state_dir: Path, *, time_scale: float | None = None) -> Hub:
    """Create the runtime, dispatcher, outbox and engines and install the moto patches."""
    from notifyctl.emulator import clock, patches

    moto_version = patches.check_version()
    from notifyctl.emulator.backends import MotoBackend, MotoTelemetry, SesCapture
    from notifyctl.emulator.delivery import Dispatcher
    from notifyctl.emulator.function_states import AWS_STATE_CHANGE_S, FunctionStates
    from notifyctl.emulator.runtime import view
    from notifyctl.emulator.runtime.pool import Runtime

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
              backend=backend, outbox=SesCapture(), moto_version=moto_version, states=states,
              clock=the_clock, ttl=ttl)
    patches.install(hub)
    _start_engines(hub)
    return hub


def _start_engines(hub: Hub) -> None:
    """The alarm evaluator and the CodeDeploy engine, on the hub's clock."""
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


def serve(host: str, port: int, state_dir: Path, *, time_scale: float | None = None,
          port_file: Path | None = None) -> int:
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
        hub = build_hub(endpoint, state_dir, time_scale=time_scale)
    except (MotoVersionError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        server.server_close()
        return 4
    server.app = make_app(hub, DomainDispatcherApplication(create_backend_app))

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

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
