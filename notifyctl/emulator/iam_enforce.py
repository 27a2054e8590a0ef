"""IAM enforcement in the emulator: who is calling, what the call is in IAM's terms,
and whether the caller's policies (and the resource's policy) allow it.

Which callers are checked (the emulator's `--enforce-iam` mode):

| mode        | checked                                                     | not checked        |
|-------------|-------------------------------------------------------------|--------------------|
| `functions` | calls made with a function's execution-role credentials     | every other caller |
|  (default)  |   (STS-issued when its environment starts, see `issue`)     |                    |
| `all`       | the above + IAM users' access keys + any STS session        | other keys (root)  |
| `off`       | nothing                                                     |                    |

Keys the emulator does not know (the operator's `test`/`testing`) act as the
account's root user: unrestricted, as root is on AWS.

A request becomes an `iam_policy.Request` in `describe` (pure: service, operation
and parameters -> action, resource ARNs, context keys) and is decided by
`iam_policy.evaluate`, the same evaluator `SimulatePrincipalPolicy` uses. The
denial's shape (code, HTTP status, message) is AWS's per service (`DENIAL`).

`aws:SecureTransport`: the emulator serves plain HTTP where AWS serves HTTPS, and every
SDK call to AWS is TLS; so a request counts as TLS unless the emulator runs with
`NOTIFYCTL_EMULATOR_SECURE_TRANSPORT=false`, which evaluates every call as plain HTTP
(the way to try a policy that denies non-TLS requests).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from notifyctl.emulator.iam_policy import Decision, Policy, Request, evaluate

ENV_MODE = "NOTIFYCTL_EMULATOR_ENFORCE_IAM"
ENV_SECURE_TRANSPORT = "NOTIFYCTL_EMULATOR_SECURE_TRANSPORT"
MODES = ("functions", "all", "off")
DEFAULT_MODE = "functions"

# The IAM service prefix of a signing name, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
# IAM action names that differ from the API operation's name.
ACTION_NAMES = {("lambda", "Invoke"): "InvokeFunction"}
# Always allowed, even against an explicit deny (AWS: GetCallerIdentity needs no permission).
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


@dataclass(frozen=True)
class Denial:
    """How a service says "denied": error code, HTTP status, message style."""

    code: str
    status: int
    action_case: str = ""  # "SNS" writes its actions as `SNS:Publish` in the message


# AWS's error per service for an authorisation failure (each service's API reference,
# "Common errors" / the operation's errors).
DENIAL: dict[str, Denial] = {
    "dynamodb": Denial("AccessDeniedException", 400),
    "logs": Denial("AccessDeniedException", 400),
    "lambda": Denial("AccessDeniedException", 403),
    "sesv2": Denial("AccessDeniedException", 403),
    "ses": Denial("AccessDenied", 403),
    "sns": Denial("AuthorizationError", 403, action_case="SNS"),
    "sqs": Denial("AccessDenied", 403),
    "sts": Denial("AccessDenied", 403),
    "iam": Denial("AccessDenied", 403),
    "cloudwatch": Denial("AccessDenied", 403),
    "events": Denial("AccessDeniedException", 400),
    "s3": Denial("AccessDenied", 403),
}
DEFAULT_DENIAL = Denial("AccessDeniedException", 403)


def mode() -> str:
    value = (os.environ.get(ENV_MODE) or DEFAULT_MODE).strip().lower()
    return value if value in MODES else DEFAULT_MODE


def secure_transport() -> bool:
    return (os.environ.get(ENV_SECURE_TRANSPORT) or "true").strip().lower() not in (
        "0", "false", "no")


# -- The caller -------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """An authenticated principal whose policies are checked."""

    arn: str  # what `sts get-caller-identity` says
    account: str
    kind: str  # "role" | "user"
    name: str  # role or user name
    principal_arns: tuple[str, ...]


class FunctionSessions:
    """The access keys issued to functions' execution environments and whose they are
    (mode `functions` checks exactly these; a dict lookup on every call). Thread-safe:
    the runtime spawns environments in threads."""

    def __init__(self) -> None:
        self._callers: dict[str, Caller] = {}
        self._lock = threading.Lock()

    def add(self, access_key_id: str, caller: Caller) -> None:
        with self._lock:
            self._callers[access_key_id] = caller

    def get(self, access_key_id: str) -> Caller | None:
        with self._lock:
            return self._callers.get(access_key_id)

    def __contains__(self, access_key_id: object) -> bool:
        with self._lock:
            return access_key_id in self._callers


SESSIONS = FunctionSessions()


def issue(account: str, region: str, role_arn: str, function_name: str) -> dict[str, str]:
    """Credentials of `role_arn` for a function's environment, issued by the emulator's
    STS as Lambda does (session name = the function's name), so `get-caller-identity`
    inside the function answers `assumed-role/<role>/<function>`.

    Called by the runtime when it starts an environment (without the moto lock held).
    """
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    from notifyctl.emulator.backends import MOTO_LOCK

    with MOTO_LOCK.hold("iam"):
        role = sts_backends[account][get_partition(region)].assume_role(
            region_name=region, role_session_name=function_name[:64], role_arn=role_arn,
            policy="", duration=12 * 3600, external_id="")
    role_name = role_arn.split("/")[-1]
    SESSIONS.add(role.access_key_id, Caller(
        arn=role.arn, account=role.account_id, kind="role", name=role_name,
        principal_arns=(role.arn, role_arn)))
    return {"AWS_ACCESS_KEY_ID": role.access_key_id,
            "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
            "AWS_SESSION_TOKEN": role.session_token}


def access_key_of(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    marker = "Credential="
    if marker not in auth:
        return None
    return auth.split(marker, 1)[1].split("/", 1)[0]


def find_caller(access_key_id: str, enforce: str) -> Caller | None:
    """The principal to check for this key, or None (unchecked). Caller holds the moto lock."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if enforce == "off":
        return None
    known = SESSIONS.get(access_key_id)
    if known is not None or enforce == "functions":
        return known
    for sts_by_partition in list(sts_backends.values()):
        for backend in sts_by_partition.values():
            for assumed in backend.assumed_roles:
                if assumed.access_key_id == access_key_id:
                    role_name = assumed.role_arn.split("/")[-1]
                    return Caller(arn=assumed.arn, account=assumed.account_id, kind="role",
                                  name=role_name,
                                  principal_arns=(assumed.arn, assumed.role_arn))
    if enforce != "all":
        return None
    for account, by_partition in list(iam_backends.items()):
        for iam_backend in by_partition.values():
            user = iam_backend.get_user_from_access_key_id(access_key_id)
            if user is not None:
                return Caller(arn=user.arn, account=account, kind="user", name=user.name,
                              principal_arns=(user.arn,))
    return None


# A policy document as read from moto: (document text, where it comes from).
Document = tuple[str, str]


def identity_policies(caller: Caller, partition: str = "aws") -> list[Policy]:
    """The caller's identity policies: inline and attached managed (and its groups')."""
    return [_parsed(doc, source) for doc, source in identity_documents(caller, partition)]


def identity_documents(caller: Caller, partition: str = "aws") -> tuple[Document, ...]:
    """The texts of the caller's identity policies, read from moto's IAM as it is now
    (so whatever changed them, API or moto directly, shows at once)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[caller.account][partition]
    holders: list[Any] = []
    try:
        holders.append(backend.get_role(caller.name) if caller.kind == "role"
                       else backend.get_user(caller.name))
    except Exception:  # the role was deleted: no policies, everything implicitly denied
        return ()
    if caller.kind == "user":
        holders.extend(backend.get_groups_for_user(caller.name))
    return tuple(d for holder in holders for d in documents_of(holder))


def policies_of(holder: Any) -> list[Policy]:
    """Inline + attached managed policies of a moto role, user or group."""
    return [_parsed(doc, source) for doc, source in documents_of(holder)]


def documents_of(holder: Any) -> list[Document]:
    out = [(doc, name) for name, doc in holder.policies.items()]
    for arn, managed in holder.managed_policies.items():
        for version in managed.versions:
            if version.is_default:
                out.append((version.document, arn))
    return out


@lru_cache(maxsize=1024)
def _parsed(document: str, source_id: str, kind: str = "identity") -> Policy:
    """Parsed once per document text: every call a function makes is checked."""
    return Policy.parse(document, source_id=source_id, kind=kind)


# -- The request in IAM's terms ---------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One API call, as the enforcement sees it (built from moto's request object)."""

    service: str  # IAM prefix: dynamodb, ses, sns, ...
    api: str  # "sesv2" when the v2 API was called (ses is the IAM prefix of both)
    operation: str
    params: Mapping[str, Any]
    path: str
    region: str
    account: str
    source_ip: str = "127.0.0.1"
    secure: bool = True
    extra_context: Mapping[str, list[str]] = field(default_factory=dict)

    def param(self, *names: str) -> str | None:
        for name in names:
            value = self.params.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            if value not in (None, ""):
                return str(value)
        return None

    def arn(self, service: str, resource: str, *, region: bool = True,
            account: bool = True) -> str:
        return (f"arn:aws:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


def action_of(call: Call) -> str:
    return f"{call.service}:{ACTION_NAMES.get((call.service, call.operation), call.operation)}"


def resources_of(call: Call, ses_identity: Any = None, deployment_group: Any = None) -> list[str]:
    """The resource ARNs the call is authorised on (each must be allowed).

    `ses_identity(address)` tells which identity authorises a sender (address or
    domain); without it the address's domain is used. `deployment_group(id)` gives
    a CodeDeploy deployment's "application/group" (None when unknown).
    """
    s, op = call.service, call.operation
    if s == "codedeploy":
        return _codedeploy_resources(call, deployment_group)
    if s == "dynamodb":
        items = call.params.get("RequestItems")
        if isinstance(items, Mapping):
            return [call.arn("dynamodb", f"table/{t}") for t in items]
        transact = call.params.get("TransactItems")
        if isinstance(transact, list):
            ops: list[Any] = [next(iter(i.values()), {}) for i in transact
                              if isinstance(i, Mapping)]
            names = [op.get("TableName") for op in ops if isinstance(op, Mapping)]
            return [call.arn("dynamodb", f"table/{t}") for t in dict.fromkeys(names) if t]
        table = call.param("TableName")
        if table:
            if table.startswith("arn:"):
                return [table]
            index = call.param("IndexName")
            return [call.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))]
        return ["*"]
    if s == "sns":
        arn = call.param("TopicArn", "TargetArn", "ResourceArn")
        if arn:
            return [arn]
        name = call.param("Name")
        return [call.arn("sns", name)] if op == "CreateTopic" and name else ["*"]
    if s == "sqs":
        url = call.param("QueueUrl")
        name = url.rstrip("/").rsplit("/", 1)[-1] if url else call.param("QueueName")
        return [call.arn("sqs", name)] if name else ["*"]
    if s == "logs":
        group = call.param("logGroupName")
        if not group:
            ident = call.param("logGroupIdentifier")
            if ident and ident.startswith("arn:"):
                return [ident.removesuffix(":*")]
            group = ident
        if not group:
            return ["*"]
        stream = call.param("logStreamName")
        if stream:
            return [call.arn("logs", f"log-group:{group}:log-stream:{stream}")]
        return [call.arn("logs", f"log-group:{group}")]
    if s == "lambda":
        name = call.param("FunctionName")
        if not name:
            return ["*"]
        name = unquote(name)
        if name.startswith("arn:"):
            return [name]
        qualifier = call.param("Qualifier")
        if ":" in name:
            name, qualifier = name.split(":", 1)
        return [call.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else ""))]
    if s == "ses" and op in ("SendEmail", "SendRawEmail", "SendTemplatedEmail",
                             "SendBulkTemplatedEmail", "SendBulkEmail"):
        sender = _address(call.param("FromEmailAddress", "Source"))
        out = []
        if sender:
            identity = ses_identity(sender) if ses_identity else sender.rpartition("@")[2]
            out.append(call.arn("ses", f"identity/{identity}"))
        config_set = call.param("ConfigurationSetName")
        if config_set:
            out.append(call.arn("ses", f"configuration-set/{config_set}"))
        return out or ["*"]
    if s == "ses":
        ident = call.param("EmailIdentity", "Identity")
        if ident:
            return [call.arn("ses", f"identity/{ident}")]
        return ["*"]
    if s == "iam":
        role = call.param("RoleName")
        if role:
            return [call.arn("iam", f"role/{role}", region=False)]
        user = call.param("UserName")
        if user:
            return [call.arn("iam", f"user/{user}", region=False)]
        policy = call.param("PolicyArn")
        return [policy] if policy else ["*"]
    if s == "sts" and op == "AssumeRole":
        return [call.param("RoleArn") or "*"]
    if s == "cloudwatch":
        alarm = call.param("AlarmName")
        return [call.arn("cloudwatch", f"alarm:{alarm}")] if alarm else ["*"]
    return ["*"]


def context_of(call: Call, caller: Caller, now: float | None = None) -> dict[str, list[str]]:
    """Global condition keys AWS sets on every request, plus the service's own keys."""
    t = time.time() if now is None else now
    ctx: dict[str, list[str]] = {
        "aws:SecureTransport": ["true" if call.secure else "false"],
        "aws:PrincipalArn": [caller.principal_arns[-1]],
        "aws:PrincipalAccount": [caller.account],
        "aws:PrincipalType": ["AssumedRole" if caller.kind == "role" else "User"],
        "aws:RequestedRegion": [call.region],
        "aws:SourceIp": [call.source_ip],
        "aws:CurrentTime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))],
        "aws:EpochTime": [str(int(t))],
    }
    if caller.kind == "user":
        ctx["aws:username"] = [caller.name]
    if call.service == "ses":
        raw_from = call.param("FromEmailAddress", "Source")
        if raw_from:
            display, address = parseaddr(raw_from)
            ctx["ses:FromAddress"] = [address]
            if display:
                ctx["ses:FromDisplayName"] = [display]
        recipients = _recipients(call.params)
        if recipients:
            ctx["ses:Recipients"] = recipients
        ctx["ses:ApiVersion"] = ["2" if call.api == "sesv2" else "1"]
    for key, values in call.extra_context.items():
        ctx[key] = list(values)
    return ctx


def _address(value: str | None) -> str | None:
    return parseaddr(value)[1] if value else None


def _recipients(params: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    dest = params.get("Destination")
    if isinstance(dest, Mapping):  # JSON (sesv2)
        for key in ("ToAddresses", "CcAddresses", "BccAddresses"):
            out.extend(_address(a) or "" for a in dest.get(key) or [])
    for key, values in params.items():  # query (ses v1): Destination.ToAddresses.member.1
        if isinstance(key, str) and key.startswith("Destination.") and ".member." in key:
            out.extend(_address(v) or "" for v in (values if isinstance(values, list)
                                                    else [values]))
    return [a for a in out if a]


def resource_policies(call: Call, resource: str) -> list[Policy]:
    """The resource policies notifyctl writes: the SNS topic's, the SQS queue's.
    Caller holds the moto lock."""
    out = []
    for doc, source in resource_documents(call, resource):
        try:
            out.append(_parsed(doc, source, "resource"))
        except ValueError:  # not JSON: no policy, as before
            return []
    return out


def resource_documents(call: Call, resource: str) -> tuple[Document, ...]:
    """The texts of those resource policies, read from moto as they are now."""
    try:
        if call.service == "sns" and resource.startswith("arn:"):
            from moto.sns.models import sns_backends

            topic = sns_backends[call.account][call.region].topics.get(resource)
            if topic is not None:
                return ((str(topic.policy), resource),)
        if call.service == "sqs" and resource.startswith("arn:"):
            from moto.sqs.models import sqs_backends

            queue = sqs_backends[call.account][call.region].queues.get(resource.split(":")[-1])
            if queue is not None and queue.policy:
                return ((str(queue.policy), resource),)
    except KeyError:
        return ()
    return ()


# -- The decision -----------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """A denied call: what to answer (AWS's code, status and message)."""

    code: str
    status: int
    message: str


def _codedeploy_resources(call: Call, deployment_group: Any) -> list[str]:
    """CodeDeploy authorises deployment calls on the deployment group, application
    calls on the application (AWS's service authorization reference)."""
    app, group = call.param("applicationName"), call.param("deploymentGroupName")
    deployment = call.param("deploymentId")
    if deployment and deployment_group is not None and not group:
        found = deployment_group(deployment)
        if found:
            app, _, group = found.partition("/")
    if app and group:
        return [call.arn("codedeploy", f"deploymentgroup:{app}/{group}")]
    if app:
        return [call.arn("codedeploy", f"application:{app}")]
    return ["*"]


def authorize(call: Call, caller: Caller, ses_identity: Any = None,
              deployment_group: Any = None) -> Refusal | None:
    """None when every resource of the call is allowed; else AWS's refusal."""
    for resource in resources_of(call, ses_identity, deployment_group):
        refused = authorize_on(call, caller, resource)
        if refused is not None:
            return refused
    return None


def authorize_on(call: Call, caller: Caller, resource: str) -> Refusal | None:
    """The call's action on one resource. Caller holds the moto lock."""
    action = action_of(call)
    if action in ALWAYS_ALLOWED:
        return None
    identity = identity_documents(caller)
    resource_docs = resource_documents(call, resource)
    try:
        documents = identity + resource_docs
        context = _frozen(context_of(call, caller), _keys_read(documents))
        decision = _decide(action, resource, caller.principal_arns, caller.account, context,
                           identity, resource_docs)
    except ValueError:  # a resource policy that is not JSON counts as none (as before)
        context = _frozen(context_of(call, caller), _keys_read(identity))
        decision = _decide(action, resource, caller.principal_arns, caller.account, context,
                           identity, ())
    if decision.allowed:
        return None
    return refusal(call, caller, action, resource, decision)


# -- Decisions, memoised ----------------------------------------------------------------
#
# Every call a function makes is checked (three per delivered email), and evaluating
# costs milliseconds of the emulator's one GIL. A decision is a pure function of the
# action, the resource, the principal, the context keys the policies' conditions read
# (the evaluator reads no other), and the policy TEXTS in force; the memo's key is
# exactly that, with the texts read from moto on every call. So any IAM write (a role
# policy put or deleted, a managed policy attached or detached or given a new default
# version, a topic or queue policy set), through the API or on moto's objects directly,
# changes the key and the next call is decided afresh: nothing to invalidate, nothing
# stale. A policy that conditions on the clock (aws:CurrentTime, aws:EpochTime) puts
# the clock's value in the key, so it is decided afresh every second, as it must be.

FrozenContext = tuple[tuple[str, tuple[str, ...]], ...]


@lru_cache(maxsize=1024)
def _keys_read(documents: tuple[Document, ...]) -> frozenset[str]:
    """The context keys (lower case) any condition of these policies reads."""
    keys: set[str] = set()
    for doc, source in documents:
        for st in _parsed(doc, source).statements():
            block = st.get("Condition") if isinstance(st, Mapping) else None
            if isinstance(block, Mapping):
                for operator_keys in block.values():
                    if isinstance(operator_keys, Mapping):
                        keys.update(str(k).lower() for k in operator_keys)
    return frozenset(keys)


def _frozen(context: Mapping[str, list[str]], keys: frozenset[str]) -> FrozenContext:
    return tuple(sorted((k, tuple(v)) for k, v in context.items() if k.lower() in keys))


@lru_cache(maxsize=8192)
def _decide(action: str, resource: str, principal_arns: tuple[str, ...], account: str,
            context: FrozenContext, identity: tuple[Document, ...],
            resource_docs: tuple[Document, ...]) -> Decision:
    request = Request(action=action, resource=resource, principal_arns=principal_arns,
                      account=account, context={k: list(v) for k, v in context})
    return evaluate(request, [_parsed(doc, source) for doc, source in identity],
                    [_parsed(doc, source, "resource") for doc, source in resource_docs])


def refusal(call: Call, caller: Caller, action: str, resource: str,
            decision: Decision) -> Refusal:
    denial = DENIAL.get(call.api, DENIAL.get(call.service, DEFAULT_DENIAL))
    shown = action
    if denial.action_case:
        shown = f"{denial.action_case}:{action.split(':', 1)[1]}"
    by = decision.denied_by
    if by == "resource":
        why = "with an explicit deny in a resource-based policy"
    elif by == "identity":
        why = "with an explicit deny in an identity-based policy"
    else:
        why = f"because no identity-based policy allows the {action} action"
    message = (f"User: {caller.arn} is not authorized to perform: {shown} on resource: "
               f"{resource} {why}")
    return Refusal(denial.code, denial.status, message)


def _looks_like_json(body: Any) -> bool:
    head = body[:1] if isinstance(body, str) else body[:1].decode("latin-1")
    return head == "{"


def parse_params(protocol: str, querystring: Mapping[str, Any], body: Any,
                 uri_params: Mapping[str, Any]) -> dict[str, Any]:
    """The call's parameters from moto's request parts, whatever the protocol."""
    params: dict[str, Any] = {}
    for key, values in querystring.items():
        params[key] = values
    if isinstance(body, Mapping):  # some moto responses (DynamoDB) hold it parsed
        params.update(body)
    elif body and (protocol in ("json", "rest-json") or _looks_like_json(body)):
        # botocore names smithy-rpc-v2-cbor first for some services (CodeDeploy) but
        # still sends JSON when it cannot speak CBOR: read what was sent.
        try:
            data = json.loads(body if isinstance(body, str) else body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict):
            params.update(data)
    for key, value in uri_params.items():
        params[key] = unquote(str(value))
    return params
