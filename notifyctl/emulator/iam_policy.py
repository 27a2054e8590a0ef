"""IAM policy evaluation, as AWS documents it, for one account (pure: no moto, no I/O).

The one evaluator the emulator uses: request enforcement (`iam_enforce`) and
`iam simulate-principal-policy` (`patches/iam.py`) both call `evaluate`.

AWS's logic for a request inside one account (IAM User Guide, "Policy evaluation
logic"), reduced to the policy types the emulator has (no SCPs, permission
boundaries or session policies):

    any matching Deny (identity OR resource policy)  -> explicitDeny
    else any matching Allow in an identity policy    -> allowed
    else a resource policy Allow naming the caller   -> allowed
         (a resource policy naming only the account root delegates to IAM:
          it grants nothing to a role or user by itself)
    else                                             -> implicitDeny

A statement matches when its Action/NotAction, Resource/NotResource,
Principal/NotPrincipal (resource policies) and every Condition match. In a
Condition block the operators are ANDed, the keys of one operator are ANDed,
and the values of one key are ORed (for negated operators: the request value
must match none). A key absent from the request makes a condition false, except
for negated operators, `...IfExists`, `Null` and `ForAllValues:` (AWS's rules).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True)
class Policy:
    """One policy document and where it comes from (its id shows in MatchedStatements)."""

    document: Mapping[str, Any]
    source_id: str = ""
    kind: str = "identity"  # "identity" | "resource"

    @classmethod
    def parse(cls, text: str | Mapping[str, Any], source_id: str = "",
              kind: str = "identity") -> Policy:
        """A policy from its JSON (AWS returns documents URL-encoded sometimes)."""
        if isinstance(text, str):
            from urllib.parse import unquote

            raw = text.strip()
            if raw.startswith("%"):
                raw = unquote(raw)
            doc = json.loads(raw)
        else:
            doc = text
        return cls(document=doc, source_id=source_id, kind=kind)

    def statements(self) -> list[Mapping[str, Any]]:
        st = self.document.get("Statement", [])
        return [st] if isinstance(st, Mapping) else list(st)


@dataclass(frozen=True)
class Request:
    """What is evaluated: who does what to which resource, with which context keys.

    `principal_arns`: the caller's ARNs as a resource policy may name them (for an
    assumed-role session: the session ARN and the role ARN). Context values are lists
    (multi-valued keys such as ses:Recipients); key lookups are case-insensitive.
    """

    action: str
    resource: str
    principal_arns: tuple[str, ...] = ()
    account: str = ""
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    service: str = ""  # a service principal acting (e.g. ses.amazonaws.com publishing to SNS)

    def value(self, key: str) -> list[str] | None:
        lowered = key.lower()
        for k, v in self.context.items():
            if k.lower() == lowered:
                return list(v)
        return None


@dataclass(frozen=True)
class Match:
    source_id: str
    kind: str
    sid: str
    effect: str


@dataclass(frozen=True)
class Decision:
    decision: str  # ALLOWED | EXPLICIT_DENY | IMPLICIT_DENY
    matched: tuple[Match, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    @property
    def denied_by(self) -> str | None:
        """"identity" / "resource" for an explicit deny, else None."""
        for m in self.matched:
            if m.effect == "Deny":
                return m.kind
        return None


def evaluate(request: Request, identity: Sequence[Policy],
             resource: Sequence[Policy] = ()) -> Decision:
    """AWS's decision for one action on one resource (see the module docstring)."""
    denies: list[Match] = []
    allows: list[Match] = []
    for policy in list(identity) + list(resource):
        for i, st in enumerate(policy.statements()):
            if not _statement_applies(st, request, policy.kind):
                continue
            effect = str(st.get("Effect", ""))
            match = Match(policy.source_id, policy.kind, str(st.get("Sid", f"#{i}")), effect)
            if effect == "Deny":
                denies.append(match)
            elif effect == "Allow":
                if policy.kind == "resource" and not _names_caller(st, request):
                    continue  # account-root principal: delegates to IAM, grants nothing alone
                allows.append(match)
    if denies:
        return Decision(EXPLICIT_DENY, tuple(denies))
    if allows:
        return Decision(ALLOWED, tuple(allows))
    return Decision(IMPLICIT_DENY)


def _statement_applies(st: Mapping[str, Any], request: Request, kind: str) -> bool:
    if "Action" in st:
        if not any(action_matches(p, request.action) for p in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(action_matches(p, request.action) for p in _as_list(st["NotAction"])):
            return False
    else:
        return False
    if "Resource" in st:
        if not any(resource_matches(p, request.resource) for p in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(resource_matches(p, request.resource) for p in _as_list(st["NotResource"])):
            return False
    elif kind == "identity":
        return False
    if kind == "resource":
        if "Principal" in st:
            if not _principal_matches(st["Principal"], request):
                return False
        elif "NotPrincipal" in st:
            if _principal_matches(st["NotPrincipal"], request):
                return False
        else:
            return False
    return conditions_match(st.get("Condition") or {}, request)


# -- Action / Resource / Principal ---------------------------------------------------

@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """`service:Action` patterns: case-insensitive, `*` and `?` wildcards."""
    return bool(_wildcard(pattern, True).match(action))


def resource_matches(pattern: str, arn: str) -> bool:
    """Resource ARNs: case-sensitive, `*`/`?` may span segments (as IAM matches them)."""
    return pattern == "*" or bool(_wildcard(pattern, False).match(arn))


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for value in _as_list(principal.get("AWS")):
        if value == "*":
            return True
        if _account_of(value) == request.account and _is_account_principal(value):
            return True
        if value in request.principal_arns:
            return True
    # a service acting on the account's behalf (SES publishing events to a topic)
    return bool(request.service) and request.service in _as_list(principal.get("Service"))


def _names_caller(st: Mapping[str, Any], request: Request) -> bool:
    """An Allow in a resource policy grants by itself only when it names the caller
    (its ARN or `*`), not just the caller's account."""
    principal = st.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return "NotPrincipal" in st
    if request.service and request.service in _as_list(principal.get("Service")):
        return True
    return any(v == "*" or v in request.principal_arns for v in _as_list(principal.get("AWS")))


def _is_account_principal(value: str) -> bool:
    return value.isdigit() or value.endswith(":root")


def _account_of(value: str) -> str:
    if value.isdigit():
        return value
    parts = value.split(":")
    return parts[4] if len(parts) > 4 else ""


# -- Conditions -----------------------------------------------------------------------

def conditions_match(block: Mapping[str, Any], request: Request) -> bool:
    """Every operator, every key of it: true (see the module docstring)."""
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            return False
        for key, expected in keys.items():
            if not _condition(operator, key, _as_list(expected), request.value(key)):
                return False
    return True


def _condition(operator: str, key: str, expected: list[str], actual: list[str] | None) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[:-len("IfExists")] if if_exists else operator
    if base == "Null":
        absent = not actual
        return any((e.lower() == "true") == absent for e in expected)
    negated = base in _NEGATED
    test = _OPERATORS.get(_NEGATED.get(base, base))
    if test is None:
        return False  # an operator we do not know never matches (fail closed for Allow)
    if not actual:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def one(value: str) -> bool:
        hit = any(test(value, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    if negated and not qualifier:
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


def _num(a: str, b: str, op: str) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return {"eq": x == y, "lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[op]


def _date(a: str, b: str, op: str) -> bool:
    def parse(v: str) -> float:
        if v.replace(".", "", 1).isdigit():
            return float(v)
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()

    try:
        return _num(str(parse(a)), str(parse(b)), op)
    except ValueError:
        return False


def _ip(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _arn_like(value: str, pattern: str) -> bool:
    # ArnLike compares the six colon-separated segments, each with wildcards.
    v, p = value.split(":", 5), pattern.split(":", 5)
    if len(v) != 6 or len(p) != 6:
        return False
    return all(_wildcard(ps, False).match(vs) for vs, ps in zip(v, p, strict=True))


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda v, e: v == e,
    "StringEqualsIgnoreCase": lambda v, e: v.lower() == e.lower(),
    "StringLike": lambda v, e: bool(_wildcard(e, False).match(v)),
    "NumericEquals": lambda v, e: _num(v, e, "eq"),
    "NumericLessThan": lambda v, e: _num(v, e, "lt"),
    "NumericLessThanEquals": lambda v, e: _num(v, e, "le"),
    "NumericGreaterThan": lambda v, e: _num(v, e, "gt"),
    "NumericGreaterThanEquals": lambda v, e: _num(v, e, "ge"),
    "DateEquals": lambda v, e: _date(v, e, "eq"),
    "DateLessThan": lambda v, e: _date(v, e, "lt"),
    "DateLessThanEquals": lambda v, e: _date(v, e, "le"),
    "DateGreaterThan": lambda v, e: _date(v, e, "gt"),
    "DateGreaterThanEquals": lambda v, e: _date(v, e, "ge"),
    "Bool": lambda v, e: v.lower() == e.lower(),
    "BinaryEquals": lambda v, e: v == e,
    "IpAddress": _ip,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]
