"""`notifyctl status`: what exists, what drifted, and the health facts around it.

Built on the planner (read-only by construction): a step to create is a missing
resource, a step to update a drifted one, a conflict a resource that is not ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifyctl.aws.calls import ClientFactory
from notifyctl.aws.errors import error_code
from notifyctl.config.schema import Environment
from notifyctl.infra import planner as p
from notifyctl.infra import reads
from notifyctl.infra.bootstrap import plan as make_plan
from notifyctl.infra.reputation import OK as REPUTATION_OK
from notifyctl.infra.reputation import Reputation
from notifyctl.plans.model import CONFLICT, CREATE, UPDATE, summarize_changes

PRESENT, MISSING, DRIFTED, NOT_OURS = "present", "missing", "drifted", "not-ours"
STATE = {CREATE: MISSING, UPDATE: DRIFTED, CONFLICT: NOT_OURS}
UNKNOWN = "unknown"


@dataclass
class ResourceStatus:
    resource: str
    name: str
    state: str
    detail: str = ""
    changes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "name": self.name, "state": self.state,
                "detail": self.detail, "changes": self.changes}


@dataclass(frozen=True)
class VersionStatus:
    version: str
    code_sha256: str | None
    last_modified: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "code_sha256": self.code_sha256,
                "last_modified": self.last_modified}


@dataclass(frozen=True)
class FunctionStatus:
    name: str
    versions: list[VersionStatus]
    alias: str
    alias_version: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "versions": [v.as_dict() for v in self.versions],
                "alias": self.alias, "alias_version": self.alias_version}


@dataclass(frozen=True)
class SendQuota:
    max_24h: float | None
    max_per_second: float | None
    sent_last_24h: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"max_24h": self.max_24h, "max_per_second": self.max_per_second,
                "sent_last_24h": self.sent_last_24h}


@dataclass(frozen=True)
class SesStatus:
    identity: str
    kind: str
    verification: str
    dkim: str
    quota: SendQuota | str  # UNKNOWN where the API does not answer
    sandbox: bool | str     # UNKNOWN likewise

    def as_dict(self) -> dict[str, Any]:
        quota = self.quota.as_dict() if isinstance(self.quota, SendQuota) else self.quota
        return {"identity": self.identity, "kind": self.kind,
                "verification": self.verification, "dkim": self.dkim, "quota": quota,
                "sandbox": self.sandbox}


@dataclass(frozen=True)
class QueueStatus:
    name: str
    url: str
    depth: int
    in_flight: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "depth": self.depth,
                "in_flight": self.in_flight}


@dataclass
class StatusReport:
    environment: str
    resources: list[ResourceStatus]
    function: FunctionStatus | None
    ses: SesStatus
    queue: QueueStatus | None
    reputation: Reputation | str = UNKNOWN  # UNKNOWN where the APIs do not answer

    @property
    def ok(self) -> bool:
        """False when anything required is missing (or is not ours)."""
        return all(r.state in (PRESENT, DRIFTED) for r in self.resources)

    @property
    def reputation_ok(self) -> bool:
        """False past AWS's review threshold (bounces 5 %, complaints 0.1 %)."""
        return not isinstance(self.reputation, Reputation) or \
            self.reputation.level == REPUTATION_OK

    def as_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "ok": self.ok,
                "reputation": (self.reputation.as_dict()
                               if isinstance(self.reputation, Reputation) else self.reputation),
                "resources": [r.as_dict() for r in self.resources],
                "function": self.function.as_dict() if self.function else {},
                "ses": self.ses.as_dict(),
                "failure_queue": self.queue.as_dict() if self.queue else {}}


def collect(aws: ClientFactory, env: Environment) -> StatusReport:
    specs, the_plan = make_plan(aws, env)
    resources = []
    for step in the_plan.steps:
        state = STATE.get(step.action, PRESENT)
        if state == DRIFTED:
            detail = summarize_changes(step)
        elif state == NOT_OURS or step.resource == p.ALIAS and state == PRESENT:
            detail = step.note
        elif step.resource == p.PUBLISHER_POLICY:
            detail = specs.arns.publisher_policy
        else:
            detail = ""
        resources.append(ResourceStatus(
            step.resource, step.name, state, detail,
            {k: {"live": v[0], "wanted": v[1]} for k, v in step.changes.items()}
            if state == DRIFTED else {}))
    exists = {r.resource: r.state in (PRESENT, DRIFTED) for r in resources}
    return StatusReport(
        environment=env.name,
        resources=resources,
        function=_function(aws, env) if exists.get(p.FUNCTION) else None,
        ses=_ses(aws, specs.ses_identity, specs.ses_identity_kind),
        queue=_queue(aws, env.dlq_name) if exists.get(p.QUEUE) else None,
        reputation=_reputation(aws),
    )


def _reputation(aws: ClientFactory) -> Reputation | str:
    from notifyctl.infra import reputation

    try:
        return reputation.read(aws.client("cloudwatch"), aws.client("ses"))
    except Exception as exc:
        if not _not_answered(exc):
            raise
        return UNKNOWN


def _function(aws: ClientFactory, env: Environment) -> FunctionStatus:
    lam = aws.client("lambda")
    versions = []
    for page in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=env.function_name):
        for v in page.get("Versions", []):
            if v["Version"] != "$LATEST":
                versions.append(VersionStatus(v["Version"], v.get("CodeSha256"),
                                              v.get("LastModified")))
    alias = reads.alias(lam, env.function_name, env.alias_name)
    return FunctionStatus(env.function_name, versions, env.alias_name,
                          alias.get("FunctionVersion") if alias else None)


# What an emulator answers for an API it does not implement (moto in-process
# raises NotImplementedError; the emulator answers HTTP 404 or 500). Anything else, such as
# AccessDenied, is an error the operator must see, never "unknown".
_NOT_ANSWERED = frozenset({"NotImplemented", "NotImplementedException", "InternalFailure",
                           "InternalServerError", "404", "500", "501"})


def _not_answered(exc: BaseException) -> bool:
    return isinstance(exc, NotImplementedError) or error_code(exc) in _NOT_ANSWERED


def _ses(aws: ClientFactory, identity: str, kind: str) -> SesStatus:
    ses = aws.client("ses")
    attrs = ses.get_identity_verification_attributes(Identities=[identity]).get(
        "VerificationAttributes", {}).get(identity, {})
    if kind == "domain":
        d = ses.get_identity_dkim_attributes(Identities=[identity]).get(
            "DkimAttributes", {}).get(identity, {})
        dkim = d.get("DkimVerificationStatus", "NotStarted") if d.get(
            "DkimEnabled") else "disabled"
    else:
        dkim = "n/a (email identity)"
    quota: SendQuota | str
    try:
        got = ses.get_send_quota()
        quota = SendQuota(got.get("Max24HourSend"), got.get("MaxSendRate"),
                          got.get("SentLast24Hours"))
    except Exception as exc:
        if not _not_answered(exc):
            raise
        quota = UNKNOWN
    return SesStatus(identity, kind, attrs.get("VerificationStatus", "missing"), dkim, quota,
                     _sandbox(aws))


def _sandbox(aws: ClientFactory) -> bool | str:
    """True/False from SESv2 GetAccount (ProductionAccessEnabled); "unknown" where the
    API does not answer (moto and the emulator do not implement it)."""
    try:
        account = aws.client("sesv2").get_account()
    except Exception as exc:
        if not _not_answered(exc):
            raise
        return UNKNOWN
    if "ProductionAccessEnabled" not in account:
        return UNKNOWN
    return not account["ProductionAccessEnabled"]


def _queue(aws: ClientFactory, name: str) -> QueueStatus:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return QueueStatus(name, url, int(attrs.get("ApproximateNumberOfMessages", 0)),
                       int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))
