"""In-process calls into moto's backends (no HTTP): resolve functions, write
Lambda logs and metrics, send destination records, keep the SES outbox.

Only the emulator process imports this module (it imports moto).
"""

from __future__ import annotations

import calendar
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email import policy
from email.parser import Parser
from typing import Any

from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.logs.models import logs_backends
from moto.utilities.utils import get_partition

from notifyctl.emulator.delivery import AsyncConfig, FunctionNotFound, Target
from notifyctl.emulator.function_states import FunctionStates
from notifyctl.emulator.outbox_store import OutboxStore
from notifyctl.emulator.runtime.pool import FunctionSpec, Invocation, Layer, LoggingConfig

# Lock groups, in the one order every thread takes them (a thread holding a group
# never waits for one earlier in the list). A request takes its service's groups
# before moto runs; the cross-service calls moto or our patches make inside a
# request are listed with it (SES event publishing -> SNS -> SQS subscriptions,
# S3 notifications). "iam" (IAM, STS) comes last and is a leaf: the IAM check of
# every request reads it while holding the request's own group.
LOCK_ORDER = ("other", "codedeploy", "s3", "ses", "cloudwatch", "sns", "lambda", "dynamodb",
              "logs", "sqs", "iam")
# SigV4 signing name -> the groups its requests hold. Unknown or unsigned: every group.
SERVICE_GROUPS: dict[str, tuple[str, ...]] = {
    "ses": ("ses", "sns", "sqs"),  # SES and SESv2 share moto's ses backend
    "sns": ("sns", "sqs"),  # SQS subscriptions are written inside Publish
    "monitoring": ("cloudwatch", "sns", "sqs"),  # SetAlarmState runs the alarm's actions
    "lambda": ("s3", "lambda"),  # CreateFunction/UpdateFunctionCode read S3Bucket/S3Key
    "dynamodb": ("dynamodb",),
    "logs": ("logs",),
    "sqs": ("sqs",),
    "iam": ("iam",),
    "sts": ("iam",),
    "s3": ("s3", "sns", "lambda", "sqs"),  # bucket notifications
}


class MotoLock:
    """One lock per group of moto services (LOCK_ORDER), never one for all.

    moto's models are not thread-safe (a DynamoDB conditional put is a check then
    a write) and its server is threaded; the de-duplication table must behave like
    DynamoDB under concurrent deliveries. So each service's backend is serialised by
    its group's lock, while requests to different services run at once (an SQS long
    poll no longer stalls SNS or DynamoDB). A thread takes the groups it needs in
    LOCK_ORDER, all at once (`hold`); nested holds are re-entrant. `with MOTO_LOCK:`
    holds every group (rare paths: CodeDeploy, sweeps, our endpoints).

    A thread releases everything it holds while a Lambda function runs or an SQS
    long poll waits (`released()`): the function calls back into the emulator, and a
    poll must let SendMessage in.
    """

    def __init__(self) -> None:
        self._locks = {name: threading.RLock() for name in LOCK_ORDER}
        self._local = threading.local()

    def _held(self) -> dict[str, int]:
        held: dict[str, int] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def _stack(self) -> list[tuple[str, ...]]:
        stack: list[tuple[str, ...]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _acquire(self, groups: tuple[str, ...]) -> None:
        held = self._held()
        last = max((LOCK_ORDER.index(g) for g in held), default=-1)
        taken: list[str] = []
        for name in groups:
            lock = self._locks[name]
            if name in held or LOCK_ORDER.index(name) > last:
                lock.acquire()
                last = max(last, LOCK_ORDER.index(name))
            elif not lock.acquire(timeout=OUT_OF_ORDER_WAIT_S):
                # Taking a group out of order could deadlock: never wait forever.
                self._release(tuple(taken))
                raise RuntimeError(f"emulator lock order: {name} wanted while holding "
                                   f"{sorted(held)}")
            held[name] = held.get(name, 0) + 1
            taken.append(name)

    def _release(self, groups: tuple[str, ...]) -> None:
        held = self._held()
        for name in reversed(groups):
            held[name] -= 1
            if not held[name]:
                del held[name]
            self._locks[name].release()

    @contextmanager
    def hold(self, *groups: str) -> Iterator[None]:
        """Hold these groups (names from LOCK_ORDER) for the block."""
        ordered = tuple(sorted(set(groups), key=LOCK_ORDER.index))
        self._acquire(ordered)
        try:
            yield
        finally:
            self._release(ordered)

    def for_service(self, signing_name: str | None) -> tuple[str, ...]:
        """The groups a request to this service (SigV4 signing name) holds."""
        return SERVICE_GROUPS.get(signing_name or "", LOCK_ORDER)

    def __enter__(self) -> MotoLock:
        self._acquire(LOCK_ORDER)
        self._stack().append(LOCK_ORDER)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release(self._stack().pop())

    @contextmanager
    def released(self) -> Iterator[None]:
        held = dict(self._held())
        for name, depth in held.items():
            for _ in range(depth):
                self._locks[name].release()
        self._held().clear()
        try:
            yield
        finally:
            for name in sorted(held, key=LOCK_ORDER.index):
                for _ in range(held[name]):
                    self._locks[name].acquire()
            self._held().update(held)


OUT_OF_ORDER_WAIT_S = 30.0


MOTO_LOCK = MotoLock()


def _lambda_backend(account_id: str, region: str) -> Any:
    return lambda_backends[account_id][region]


def spec_from_model(fn: LambdaFunction, latest: LambdaFunction | None = None) -> FunctionSpec:
    """Snapshot a moto function version into what the runtime needs."""
    env = fn.environment_vars or {}
    reserved = (latest or fn).reserved_concurrency
    return FunctionSpec(
        account_id=fn.account_id, region=fn.region, name=fn.function_name,
        version=str(fn.version),
        arn=f"arn:{get_partition(fn.region)}:lambda:{fn.region}:{fn.account_id}:function:"
            f"{fn.function_name}",
        handler=fn.handler or "", runtime=fn.run_time or "python3.11",
        memory_mb=int(fn.memory_size or 128), timeout_s=int(fn.timeout or 3),
        environment=tuple(sorted((str(k), str(v)) for k, v in env.items())),
        code_sha256=str(getattr(fn, "code_sha_256", "")),
        code=getattr(fn, "code_bytes", b"") or b"",
        reserved_concurrency=None if reserved in (None, "") else int(reserved),
        role=str(fn.role or ""),
        layers=tuple(_layers_of(fn)),
        logging=logging_config_of(fn),
        ephemeral_mb=int(getattr(fn, "ephemeral_storage", 512) or 512),
    )


def _layers_of(fn: LambdaFunction) -> list[Layer]:
    """The function's layer versions with their zips, in the function's order."""
    backend = _lambda_backend(fn.account_id, fn.region)
    out = []
    for entry in fn.layers or []:
        arn = entry["Arn"] if isinstance(entry, dict) else str(entry)
        layer = backend.layers_versions_by_arn(arn)
        if layer is not None:
            out.append(Layer(arn, str(layer.code_sha_256), layer.code_bytes or b""))
    return out


def logging_config_of(fn: LambdaFunction) -> LoggingConfig:
    """The LoggingConfig the Lambda patch stored on the moto object (moto drops it)."""
    return getattr(fn, "notifyctl_logging", None) or LoggingConfig()


def split_function(function: str, qualifier: str | None) -> tuple[str, str | None]:
    """(name, qualifier) from a name, `name:qualifier`, or a (qualified) ARN."""
    if function.startswith("arn:"):
        parts = function.split(":")
        name = parts[6] if len(parts) > 6 else parts[-1]
        return name, (parts[7] if len(parts) > 7 else None) or qualifier
    if ":" in function:
        name, _, qual = function.partition(":")
        return name, qual or qualifier
    return function, qualifier


class MotoBackend:
    """The `delivery.Backend` over moto's Lambda/SQS/SNS backends."""

    def __init__(self, rng: random.Random | None = None,
                 states: FunctionStates | None = None) -> None:
        self._rng = rng or random.Random()
        self._states = states or FunctionStates()

    def resolve(self, account_id: str, region: str, function: str,
                qualifier: str | None = None) -> Target:
        """Which version runs for `function`[:qualifier]; honours alias routing weights."""
        with MOTO_LOCK.hold("lambda"):
            return self._resolve(account_id, region, function, qualifier)

    def _resolve(self, account_id: str, region: str, function: str,
                 qualifier: str | None) -> Target:
        name, qualifier = split_function(function, qualifier)
        storage = _lambda_backend(account_id, region)._lambdas
        entry = storage._functions.get(name)
        if not entry or entry.get("latest") is None:
            raise FunctionNotFound(name)
        latest = entry["latest"]
        # During an update, $LATEST's invocations run the previous code and configuration.
        serving = self._states.serving((account_id, region, name)) or latest
        base_arn = f"arn:{get_partition(region)}:lambda:{region}:{account_id}:function:{name}"
        if qualifier is None or qualifier == "$LATEST":
            fn = serving
        elif qualifier.isdigit():
            fn = storage._get_version(name, qualifier)
        else:
            alias = storage._aliases.get(base_arn, {}).get(qualifier)
            if alias is None:
                raise FunctionNotFound(f"{name}:{qualifier}")
            version = self._pick_version(alias)
            fn = serving if version == "$LATEST" else storage._get_version(name, version)
        if fn is None:
            raise FunctionNotFound(f"{name}:{qualifier}")
        invoked = f"{base_arn}:{qualifier}" if qualifier else base_arn
        resource = f"{name}:{qualifier}" if qualifier else None
        return Target(spec_from_model(fn, latest), invoked, resource)

    def _pick_version(self, alias: Any) -> str:
        weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
        roll = self._rng.random()
        for version, weight in weights.items():
            roll -= float(weight)
            if roll < 0:
                return str(version)
        return str(alias.function_version)

    def async_config(self, account_id: str, region: str, function: str) -> AsyncConfig:
        """The event invoke config of exactly the (qualified) function invoked: a config
        put on `live` applies to `live` only; unqualified means $LATEST's."""
        with MOTO_LOCK.hold("lambda"):
            return self._async_config(account_id, region, function)

    def _async_config(self, account_id: str, region: str, function: str) -> AsyncConfig:
        name, qualifier = split_function(function, None)
        storage = _lambda_backend(account_id, region)._lambdas
        entry = storage._functions.get(name) or {}
        latest = entry.get("latest")
        dead_letter = getattr(latest, "notifyctl_dead_letter", None)
        configs = getattr(latest, "notifyctl_event_configs", None) or {}
        found = configs.get(qualifier or "$LATEST")
        if found is None:
            return AsyncConfig(dead_letter=dead_letter)
        config = found.config
        dest = config.get("DestinationConfig") or {}
        return AsyncConfig(
            max_retries=int(config.get("MaximumRetryAttempts", 2)),
            max_event_age_s=float(config.get("MaximumEventAgeInSeconds", 21600)),
            on_success=(dest.get("OnSuccess") or {}).get("Destination"),
            on_failure=(dest.get("OnFailure") or {}).get("Destination"),
            dead_letter=dead_letter,
        )

    def may_invoke(self, account_id: str, region: str, function: str, *, principal: str,
                   source_arn: str | None) -> bool:
        """Whether the function's resource policy lets `principal` invoke exactly this
        (qualified) ARN, from `source_arn`. Policies are per qualifier, as on AWS: a
        permission on the alias does not cover the unqualified function."""
        name, qualifier = split_function(function, None)
        storage = _lambda_backend(account_id, region)._lambdas
        entry = storage._functions.get(name) or {}
        base = f"arn:{get_partition(region)}:lambda:{region}:{account_id}:function:{name}"
        wanted = f"{base}:{qualifier}" if qualifier and qualifier != "$LATEST" else base
        with MOTO_LOCK.hold("lambda"):
            policies = {id(fn.policy): fn.policy
                        for fn in [entry.get("latest"), *entry.get("versions", [])]
                        if fn is not None}
            statements = [dict(st) for policy in policies.values() for st in policy.statements]
        return any(_allows(st, wanted, principal, source_arn, account_id) for st in statements)

    def send_to_destination(self, account_id: str, region: str, arn: str,
                            record: dict[str, Any]) -> None:
        import json

        service = arn.split(":")[2]
        body = json.dumps(record)
        with MOTO_LOCK.hold(*MOTO_LOCK.for_service(service)):
            self._send(service, arn, body)

    def send_to_dead_letter(self, account_id: str, region: str, arn: str, payload: str,
                            attributes: dict[str, str]) -> None:
        """The function's DeadLetterConfig target gets the original event."""
        service = arn.split(":")[2]
        with MOTO_LOCK.hold(*MOTO_LOCK.for_service(service)):
            self._send(service, arn, payload, attributes)

    @staticmethod
    def _send(service: str, arn: str, body: str,
              attributes: dict[str, str] | None = None) -> None:
        numeric = {"ErrorCode"}
        attributes = attributes or {}
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[arn.split(":")[4]][arn.split(":")[3]].send_message(
                arn.split(":")[5], body, message_attributes={
                    k: {"DataType": "Number" if k in numeric else "String", "StringValue": v}
                    for k, v in attributes.items()} or None)
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[arn.split(":")[4]][arn.split(":")[3]].publish(
                body, arn=arn, message_attributes={
                    k: {"Type": "Number" if k in numeric else "String", "Value": v}
                    for k, v in attributes.items()} or None)
        else:
            raise ValueError(f"destination type {service} is not emulated")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(statement: dict[str, Any], resource: str, principal: str, source_arn: str | None,
            account_id: str) -> bool:
    from fnmatch import fnmatchcase

    if statement.get("Effect") != "Allow":
        return False
    who = statement.get("Principal")
    services = _as_list(who.get("Service", []) if isinstance(who, dict) else who)
    if principal not in services and "*" not in services:
        return False
    actions = _as_list(statement.get("Action", []))
    if not {"lambda:InvokeFunction", "lambda:*", "*"} & set(actions):
        return False
    if resource not in _as_list(statement.get("Resource", [])):
        return False
    # ArnLike/ArnEquals/StringEquals/StringLike: a wildcard match covers them all here.
    for checks in (statement.get("Condition") or {}).values():
        for key, expected in checks.items():
            values = [str(v) for v in _as_list(expected)]
            if key.lower() == "aws:sourcearn":
                if source_arn is None or not any(fnmatchcase(source_arn, v) for v in values):
                    return False
            elif key.lower() == "aws:sourceaccount" and not any(
                    fnmatchcase(account_id, v) for v in values):
                return False
    return True


class MotoTelemetry:
    """Lambda logs to CloudWatch Logs and metrics to CloudWatch, in-process."""

    def create_stream(self, spec: FunctionSpec, stream: str) -> None:
        logs = logs_backends[spec.account_id][spec.region]
        with MOTO_LOCK.hold("logs"):
            # AWS creates the group on first write when the role may; never
            # touch an existing group (its retention is the operator's).
            if spec.log_group not in logs.groups:
                logs.ensure_log_group(spec.log_group)
            logs.ensure_log_stream(spec.log_group, stream)

    def put_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        if not events:
            return
        self.create_stream(spec, stream)  # the group may have been deleted meanwhile
        logs = logs_backends[spec.account_id][spec.region]
        with MOTO_LOCK.hold("logs"):
            logs.put_log_events(spec.log_group, stream,
                                [{"timestamp": ts, "message": msg} for ts, msg in events])

    def record(self, spec: FunctionSpec, resource: str | None, invocation: Invocation | None,
               throttled: bool = False) -> None:
        dims: list[list[dict[str, str]]] = [[{"Name": "FunctionName", "Value": spec.name}]]
        if resource:
            dims.append([{"Name": "FunctionName", "Value": spec.name},
                         {"Name": "Resource", "Value": resource}])
            if invocation is not None and not resource.endswith(f":{spec.version}"):
                dims.append([{"Name": "FunctionName", "Value": spec.name},
                             {"Name": "Resource", "Value": resource},
                             {"Name": "ExecutedVersion", "Value": spec.version}])
        now = utcnow()
        data: list[dict[str, Any]] = []
        for dim in dims:
            if throttled or invocation is None:
                data.append({"MetricName": "Throttles", "Value": 1.0, "Unit": "Count",
                             "Dimensions": dim, "Timestamp": now})
                continue
            data += [
                {"MetricName": "Invocations", "Value": 1.0, "Unit": "Count",
                 "Dimensions": dim, "Timestamp": now},
                {"MetricName": "Errors", "Value": 0.0 if invocation.ok else 1.0,
                 "Unit": "Count", "Dimensions": dim, "Timestamp": now},
                {"MetricName": "Duration", "Value": round(invocation.duration_ms, 2),
                 "Unit": "Milliseconds", "Dimensions": dim, "Timestamp": now},
            ]
        with MOTO_LOCK.hold("cloudwatch"):
            cloudwatch_backends[spec.account_id][spec.region].put_metric_data("AWS/Lambda", data)


@dataclass
class CapturedEmail:
    """One email as the emulator captured it inside SES (served by /_notifyctl/outbox)."""

    message_id: str
    source: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    text: str | None
    html: str | None
    time: str
    raw: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class SesCapture:
    """Inside the emulator: every email SES accepted, with both bodies (moto keeps only one),
    kept in an OutboxStore (on disk in the state directory; never dropped).

    The operator's side (the CLI reading it over HTTP) is `emulator/outbox.py`."""

    def __init__(self, store: OutboxStore | None = None) -> None:
        self.store = store or OutboxStore(None)
        self.pending = threading.local()  # bodies seen by the response layer

    def record_simple(self, message: Any, source: str, subject: str, body: str,
                      destinations: Any) -> None:
        bodies = getattr(self.pending, "bodies", None) or {}
        self.pending.bodies = None
        text, html = bodies.get("text"), bodies.get("html")
        if text is None and html is None:
            looks_html = body.lstrip().startswith("<")
            text, html = (None, body) if looks_html else (body, None)
        dest = destinations or {}
        self._add(CapturedEmail(
            message_id=message.id, source=source, to=list(dest.get("ToAddresses") or []),
            cc=list(dest.get("CcAddresses") or []), bcc=list(dest.get("BccAddresses") or []),
            subject=subject, text=text, html=html, time=_iso_now(),
        ))

    def record_raw(self, message: Any, source: str | None, destinations: list[str],
                   raw_data: str) -> None:
        parsed = Parser(policy=policy.default).parsestr(raw_data)
        text = html = None
        for part in parsed.walk():
            if part.is_multipart() or part.get_content_disposition() == "attachment":
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain" and text is None:
                text = str(part.get_content())
            elif ctype == "text/html" and html is None:
                html = str(part.get_content())
        self._add(CapturedEmail(
            message_id=message.id, source=source or str(parsed.get("From", "")),
            to=list(destinations) or [a.strip() for a in str(parsed.get("To", "")).split(",")
                                      if a.strip()],
            cc=[], bcc=[], subject=str(parsed.get("Subject", "")), text=text, html=html,
            time=_iso_now(), raw=True,
        ))

    def _add(self, email: CapturedEmail) -> None:
        self.store.add(asdict(email), _ms_of(email.time))

    def count(self) -> int:
        return self.store.count()

    def to_json(self) -> list[dict[str, Any]]:
        return list(self.store.all())


def _ms_of(iso: str) -> int:
    return int(calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) * 1000
               + int(iso[20:23] or 0))


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
