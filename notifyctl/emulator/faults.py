"""Fault injection: make chosen AWS calls fail, lose their answer, or slow down.

Users rehearse failure with ``notifyctl local faults add SERVICE OPERATION ...``; the
reliability tests (tests/reliability/) and benchmarks/bench_faults.py drive the same
engine. Faults live in the emulator process and act at its HTTP front door, before
moto, on the calls that match:

===================  =======================================================================
fault                what the caller sees
===================  =======================================================================
``error CODE``       an AWS error response in the caller's protocol (JSON, query XML or
                     REST-JSON), HTTP status from ERROR_STATUS (400 when not listed); the
                     call does NOT take effect
``lost_response``    the call takes effect (moto runs it), then the connection is dropped
                     without a response: botocore raises ConnectionClosedError
``latency_ms MS``    the call waits MS milliseconds, then runs normally
===================  =======================================================================

Which calls: SERVICE is matched on the request's SigV4 signing name (``ses`` for both SES
APIs, so ``ses SendEmail`` matches v1 and v2 alike; ``sesv2`` is accepted as a synonym),
OPERATION on the operation's API name (``X-Amz-Target``, the query ``Action``, or the
REST route from botocore's service model). By default only calls made by functions
running in the emulator match: they sign with the role credentials the runtime gives
every execution environment (issued by the emulator's STS and recorded in
iam_enforce.SESSIONS, or FUNCTION_ACCESS_KEY_ID without an issuer; reserved as on AWS: a
function cannot change them); ``all_clients`` matches every caller.
``count`` bounds how many calls a fault hits (then it is spent), ``percent`` makes it hit
that share of the matching calls. The first fault that matches wins.

Control: GET/POST/DELETE ``/_notifyctl/faults`` on the emulator (this module's
handle_control), or the stdlib client functions at the end (what the CLI uses).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs

CONTROL_PATH = "/_notifyctl/faults"
# The access key id of the role credentials every execution environment gets
# (emulator/runtime/view.py sets it; a unit test keeps them equal), with the keys the
# emulator's STS issues per function (iam_enforce.SESSIONS).
FUNCTION_ACCESS_KEY_ID = "ASIAEMULATOREXAMPLE00"
SERVICE_SYNONYMS = {"sesv2": "ses", "email": "ses", "cloudwatch": "monitoring",
                    "cloudwatchlogs": "logs"}
# HTTP status of an injected error (AWS's, per code); any other code answers 400.
ERROR_STATUS = {
    "InternalFailure": 500, "InternalError": 500, "InternalServerError": 500,
    "InternalErrorException": 500, "ServiceException": 500,
    "ServiceUnavailable": 503, "ServiceUnavailableException": 503,
    "TooManyRequestsException": 429, "RequestLimitExceeded": 429,
}
# Which botocore service models hold a signing name's REST routes.
_REST_MODELS = {"ses": ("sesv2",), "lambda": ("lambda",)}
_AUTH_RE = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")


class FaultSpecError(ValueError):
    """A fault that cannot be made (names the field)."""


@dataclass(frozen=True)
class FaultSpec:
    service: str
    operation: str
    error: str | None = None
    lost_response: bool = False
    latency_ms: int | None = None
    count: int | None = None  # None: every matching call
    percent: float = 100.0
    all_clients: bool = False

    @classmethod
    def create(cls, service: str, operation: str, *, error: str | None = None,
               lost_response: bool = False, latency_ms: int | None = None,
               count: int | None = None, percent: float | None = None,
               all_clients: bool = False) -> FaultSpec:
        """A checked spec; FaultSpecError names the field and what was expected."""
        service = (service or "").strip().lower()
        service = SERVICE_SYNONYMS.get(service, service)
        if not re.fullmatch(r"[a-z0-9-]{2,40}", service):
            raise FaultSpecError(f"SERVICE: expected an AWS service name such as ses, "
                                 f"dynamodb or sns, got {service!r}")
        operation = (operation or "").strip()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,80}", operation):
            raise FaultSpecError(f"OPERATION: expected an API operation name such as "
                                 f"SendEmail, got {operation!r}")
        kinds = [k for k, v in (("--error", error), ("--lost-response", lost_response),
                                ("--latency", latency_ms is not None)) if v]
        if len(kinds) != 1:
            raise FaultSpecError("choose exactly one of --error CODE, --lost-response, "
                                 "--latency MS" + (f" (got {', '.join(kinds)})" if kinds else ""))
        if error is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]{1,100}", error):
            raise FaultSpecError(f"--error: expected an AWS error code such as "
                                 f"SendingPausedException, got {error!r}")
        if latency_ms is not None and not 0 < latency_ms <= 600_000:
            raise FaultSpecError(f"--latency: expected 1 to 600000 ms, got {latency_ms}")
        if count is not None and count < 1:
            raise FaultSpecError(f"--count: expected 1 or more, got {count}")
        if percent is not None and not 0 < percent <= 100:
            raise FaultSpecError(f"--percent: expected more than 0 and at most 100, "
                                 f"got {percent:g}")
        return cls(service, operation, error, lost_response, latency_ms, count,
                   100.0 if percent is None else float(percent), all_clients)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultSpec:
        try:
            return cls.create(
                str(data.get("service", "")), str(data.get("operation", "")),
                error=data.get("error"), lost_response=bool(data.get("lost_response")),
                latency_ms=None if data.get("latency_ms") is None else int(data["latency_ms"]),
                count=None if data.get("count") is None else int(data["count"]),
                percent=None if data.get("percent") is None else float(data["percent"]),
                all_clients=bool(data.get("all_clients")))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, FaultSpecError):
                raise
            raise FaultSpecError(f"bad fault: {exc}") from None

    @property
    def kind(self) -> str:
        if self.error:
            return f"error {self.error}"
        if self.lost_response:
            return "lost response"
        return f"latency {self.latency_ms} ms"


@dataclass
class Fault:
    id: int
    spec: FaultSpec
    hits: int = 0

    @property
    def spent(self) -> bool:
        return self.spec.count is not None and self.hits >= self.spec.count

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self.spec), "hits": self.hits, "spent": self.spent}


@dataclass(frozen=True)
class Call:
    """What a request is: who signed it, for which service and operation."""

    service: str
    operation: str
    from_function: bool
    protocol: str  # json | query | rest


@dataclass
class FaultRegistry:
    """The faults of one emulator process (thread-safe)."""

    rng: Callable[[], float] = random.random
    _faults: list[Fault] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, spec: FaultSpec) -> Fault:
        with self._lock:
            fault = Fault(next(self._ids), spec)
            self._faults.append(fault)
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> int:
        with self._lock:
            n = len(self._faults)
            self._faults.clear()
            return n

    def take(self, call: Call) -> Fault | None:
        """The fault this call meets (counted as a hit), or None."""
        with self._lock:
            for fault in self._faults:
                spec = fault.spec
                if (fault.spent or spec.service != call.service
                        or spec.operation.lower() != call.operation.lower()
                        or not (spec.all_clients or call.from_function)):
                    continue
                if spec.percent < 100 and self.rng() * 100 >= spec.percent:
                    continue  # this call escapes it; a later fault may still match
                fault.hits += 1
                return fault
            return None


# ------------------------------------------------------------------- the front door
def identify(environ: dict[str, Any]) -> Call | None:
    """The call a WSGI request makes, or None when it is not a signed AWS call. Reads
    (and puts back) the body of a query-protocol request to find its Action."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _AUTH_RE.search(auth)
    if match is None:
        return None
    access_key, service = match.group(1), match.group(2)
    from_function = is_function_caller(access_key)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return Call(service, target.rsplit(".", 1)[-1], from_function, "json")
    content_type = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in content_type:
        body = _read_body(environ)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action:
            return Call(service, action, from_function, "query")
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    if action:
        return Call(service, action, from_function, "query")
    operation = _rest_operation(service, environ.get("REQUEST_METHOD", "GET"),
                                environ.get("PATH_INFO", ""))
    return Call(service, operation, from_function, "rest") if operation else None


def is_function_caller(access_key: str) -> bool:
    """Credentials the runtime gave an execution environment: its role's, issued by the
    emulator's STS (iam_enforce.SESSIONS), or the dummy key when the function has no
    issuer."""
    if access_key == FUNCTION_ACCESS_KEY_ID:
        return True
    from notifyctl.emulator.iam_enforce import SESSIONS

    return access_key in SESSIONS


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


_ROUTES: dict[str, list[tuple[str, re.Pattern[str], str]]] = {}
_ROUTES_LOCK = threading.Lock()


def _rest_operation(service: str, method: str, path: str) -> str | None:
    """The operation of a REST call, from botocore's model of the service's routes."""
    with _ROUTES_LOCK:
        routes = _ROUTES.get(service)
        if routes is None:
            routes = _ROUTES[service] = _load_routes(_REST_MODELS.get(service, (service,)))
    for route_method, pattern, name in routes:
        if route_method == method and pattern.fullmatch(path):
            return name
    return None


def _load_routes(models: Iterable[str]) -> list[tuple[str, re.Pattern[str], str]]:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    session = botocore.session.get_session()
    routes: list[tuple[str, re.Pattern[str], str]] = []
    for model_name in models:
        try:
            model = session.get_service_model(model_name)
        except UnknownServiceError:
            continue
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = str(http.get("requestUri", "/")).split("?", 1)[0]
            regex = re.sub(r"\\{[^}]+\\\+\\}", ".+", re.escape(uri))
            regex = re.sub(r"\\{[^}]+\\}", "[^/]+", regex)
            routes.append((str(http.get("method", "POST")), re.compile(regex), name))
    # Literal routes before templated ones: /functions/{Name}/configuration beats
    # /functions/{Name}.
    routes.sort(key=lambda r: -len(r[1].pattern.replace("[^/]+", "").replace(".+", "")))
    return routes


def error_response(call: Call, code: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """An AWS error in the caller's protocol: (status line, headers, body)."""
    status = ERROR_STATUS.get(code, 400)
    reason = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Error")
    message = f"{code} (injected by notifyctl local faults)"
    request_id = str(uuid.uuid4())
    if call.protocol == "query":
        kind = "Receiver" if status >= 500 else "Sender"
        body = (f'<ErrorResponse xmlns="http://{call.service}.amazonaws.com/doc/">'
                f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    elif call.protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0")]
    else:
        body = json.dumps({"message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    headers += [("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
    return f"{status} {reason}", headers, body


class LostResponse(ConnectionAbortedError):
    """Raised after the call took effect and the socket was shut: the WSGI server
    treats it as a dropped connection and writes nothing."""


def serve(registry: FaultRegistry, environ: dict[str, Any], start_response: Any,
          app: Callable[[dict[str, Any], Any], Iterable[bytes]], *,
          sleep: Callable[[float], None] = time.sleep) -> Iterable[bytes]:
    """Run one request through the faults, then (unless an error fault answers) `app`."""
    call = identify(environ) if registry.list() else None
    fault = registry.take(call) if call is not None else None
    if fault is None:
        return app(environ, start_response)
    spec = fault.spec
    assert call is not None
    if spec.error:
        status, headers, body = error_response(call, spec.error)
        start_response(status, headers)
        return [body]
    if spec.latency_ms is not None:
        sleep(spec.latency_ms / 1000.0)
        return app(environ, start_response)
    # Lost response: let the call take effect, then drop the connection unanswered.
    b"".join(app(environ, lambda *args, **kwargs: None))
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        import socket

        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise LostResponse(f"fault {fault.id}: response to {call.service} {call.operation} "
                       "dropped")


def handle_control(registry: FaultRegistry, environ: dict[str, Any],
                   start_response: Any) -> list[bytes]:
    """GET: the faults; POST (JSON spec): add one; DELETE: clear them all."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method == "GET":
        return _json(start_response, {"faults": [f.to_dict() for f in registry.list()]})
    if method == "DELETE":
        return _json(start_response, {"cleared": registry.clear()})
    if method == "POST":
        try:
            data = json.loads(_read_body(environ) or b"{}")
            if not isinstance(data, dict):
                raise FaultSpecError("expected a JSON object")
            spec = FaultSpec.from_dict(data)
        except (ValueError, FaultSpecError) as exc:
            return _json(start_response, {"message": str(exc)}, "400 Bad Request")
        return _json(start_response, {"fault": registry.add(spec).to_dict()}, "201 Created")
    return _json(start_response, {"message": f"{method} not allowed"},
                 "405 Method Not Allowed")


def _json(start_response: Any, data: Any, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(data).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


# ------------------------------------------------------------------- client (stdlib)
@dataclass(frozen=True)
class FaultView:
    """A fault as the emulator reports it (what `local faults list` renders)."""

    id: int
    spec: FaultSpec
    hits: int
    spent: bool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultView:
        spec = FaultSpec(
            str(data.get("service", "")), str(data.get("operation", "")), data.get("error"),
            bool(data.get("lost_response")), data.get("latency_ms"), data.get("count"),
            float(data.get("percent", 100.0)), bool(data.get("all_clients")))
        return cls(int(data["id"]), spec, int(data.get("hits", 0)), bool(data.get("spent")))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self.spec), "hits": self.hits, "spent": self.spent}


def add(endpoint: str, spec: FaultSpec, timeout: float = 5.0) -> FaultView:
    data = _request(endpoint, "POST", asdict(spec), timeout)
    return FaultView.from_dict(data["fault"])


def list_faults(endpoint: str, timeout: float = 5.0) -> list[FaultView]:
    data = _request(endpoint, "GET", None, timeout)
    return [FaultView.from_dict(item) for item in data.get("faults", [])]


def clear(endpoint: str, timeout: float = 5.0) -> int:
    return int(_request(endpoint, "DELETE", None, timeout).get("cleared", 0))


def _request(endpoint: str, method: str, payload: Any, timeout: float) -> Any:
    from notifyctl.errors import OperationError, UsageError

    url = endpoint.rstrip("/") + CONTROL_PATH
    body = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 400:
            message = json.loads(exc.read().decode("utf-8") or "{}").get("message", "")
            raise UsageError(message or "the emulator refused the fault") from None
        raise OperationError(f"{endpoint} is not a notifyctl emulator with fault injection "
                             f"(HTTP {exc.code} from {CONTROL_PATH})",
                             hint="start one with `notifyctl local start`") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None
