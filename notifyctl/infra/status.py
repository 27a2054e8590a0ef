"""`notifyctl status`: what exists, what drifted, and the health facts around it.

Built on the planner (read-only by construction): a step to create is a missing
resource, a step to update a drifted one, a conflict a resource that is not ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifyctl.aws.errors import error_code
from notifyctl.config.schema import Environment
from notifyctl.infra import planner as p
from notifyctl.infra.bootstrap import plan as make_plan
from notifyctl.infra.executor import summarize_changes
from notifyctl.infra.plan import CONFLICT, CREATE, UPDATE

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


@dataclass
class StatusReport:
    environment: str
    resources: list[ResourceStatus]
    function: dict[str, Any]
    ses: dict[str, Any]
    queue: dict[str, Any]

    @property
    def ok(self) -> bool:
        """False when anything required is missing (or is not ours)."""
        return all(r.state in (PRESENT, DRIFTED) for r in self.resources)

    def as_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "ok": self.ok,
                "resources": [r.as_dict() for r in self.resources],
                "function": self.function, "ses": self.ses, "failure_queue": self.queue}


def collect(aws: Any, env: Environment) -> StatusReport:
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
        function=_function(aws, env) if exists.get(p.FUNCTION) else {},
        ses=_ses(aws, specs.ses_identity, specs.ses_identity_kind),
        queue=_queue(aws, env.dlq_name) if exists.get(p.QUEUE) else {},
    )


def _function(aws: Any, env: Environment) -> dict[str, Any]:
    lam = aws.client("lambda")
    versions = []
    for page in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=env.function_name):
        for v in page.get("Versions", []):
            if v["Version"] != "$LATEST":
                versions.append({"version": v["Version"], "code_sha256": v.get("CodeSha256"),
                                 "last_modified": v.get("LastModified")})
    live = None
    try:
        live = lam.get_alias(FunctionName=env.function_name,
                             Name=env.alias_name).get("FunctionVersion")
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    return {"name": env.function_name, "versions": versions, "alias": env.alias_name,
            "alias_version": live}


def _ses(aws: Any, identity: str, kind: str) -> dict[str, Any]:
    ses = aws.client("ses")
    out: dict[str, Any] = {"identity": identity, "kind": kind}
    attrs = ses.get_identity_verification_attributes(Identities=[identity]).get(
        "VerificationAttributes", {}).get(identity, {})
    out["verification"] = attrs.get("VerificationStatus", "missing")
    if kind == "domain":
        d = ses.get_identity_dkim_attributes(Identities=[identity]).get(
            "DkimAttributes", {}).get(identity, {})
        out["dkim"] = d.get("DkimVerificationStatus", "NotStarted") if d.get(
            "DkimEnabled") else "disabled"
    else:
        out["dkim"] = "n/a (email identity)"
    try:
        quota = ses.get_send_quota()
        out["quota"] = {"max_24h": quota.get("Max24HourSend"),
                        "max_per_second": quota.get("MaxSendRate"),
                        "sent_last_24h": quota.get("SentLast24Hours")}
    except Exception:  # an emulator may not answer; say so rather than fail
        out["quota"] = UNKNOWN
    out["sandbox"] = _sandbox(aws)
    return out


def _sandbox(aws: Any) -> Any:
    """True/False from SESv2 GetAccount (ProductionAccessEnabled); "unknown" where the
    API does not answer (moto and the emulator do not implement it)."""
    try:
        account = aws.client("sesv2").get_account()
    except Exception:
        return UNKNOWN
    if "ProductionAccessEnabled" not in account:
        return UNKNOWN
    return not account["ProductionAccessEnabled"]


def _queue(aws: Any, name: str) -> dict[str, Any]:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return {"name": name, "url": url,
            "depth": int(attrs.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))}
