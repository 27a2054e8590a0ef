"""`iam simulate-principal-policy` / `simulate-custom-policy` on the emulator's one
evaluator (`iam_policy.evaluate`, the one that enforces requests).

As AWS's simulator: each (action, resource) pair is evaluated with the principal's
identity policies (plus `PolicyInputList`) and the optional `ResourcePolicy`; only the
context keys given in `ContextEntries` exist (no global keys are invented), and the
keys the matching statements' conditions needed but did not get are listed in
`MissingContextValues`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from notifyctl.emulator.iam_policy import Policy, Request, evaluate

_TYPES = {"identity": "IAM Policy", "resource": "Resource Policy"}


def simulate(policies: Sequence[Policy], params: Mapping[str, Any], *,
             caller_arns: tuple[str, ...] = (), account: str = "") -> dict[str, Any]:
    """The SimulatePolicyResponse for these identity policies and the request params."""
    actions = list(params.get("ActionNames") or [])
    resources = list(params.get("ResourceArns") or []) or ["*"]
    context = {str(e.get("ContextKeyName")): [str(v) for v in e.get("ContextKeyValues") or []]
               for e in params.get("ContextEntries") or []}
    resource_policy = params.get("ResourcePolicy")
    caller = params.get("CallerArn")
    arns = (caller,) if caller else caller_arns
    extra = [Policy.parse(p, source_id=f"PolicyInputList.{i + 1}")
             for i, p in enumerate(params.get("PolicyInputList") or [])]
    res_pols = [Policy.parse(resource_policy, source_id="ResourcePolicy", kind="resource")] \
        if resource_policy else []
    results = []
    for action in actions:
        for resource in resources:
            request = Request(action=action, resource=resource, principal_arns=tuple(arns),
                              account=account, context=context)
            decision = evaluate(request, list(policies) + extra, res_pols)
            results.append({
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision.decision,
                "MatchedStatements": [{"SourcePolicyId": m.source_id,
                                       "SourcePolicyType": _TYPES.get(m.kind, "IAM Policy")}
                                      for m in decision.matched],
                "MissingContextValues": _missing(list(policies) + extra + res_pols, context),
            })
    return {"EvaluationResults": results, "IsTruncated": False}


def _missing(policies: Sequence[Policy], context: Mapping[str, Any]) -> list[str]:
    given = {k.lower() for k in context}
    keys: list[str] = []
    for policy in policies:
        for st in policy.statements():
            for block in (st.get("Condition") or {}).values():
                if isinstance(block, Mapping):
                    keys.extend(k for k in block if k.lower() not in given and k not in keys)
    return keys


def simulate_principal(account: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """SimulatePrincipalPolicy: the policies of the user, role or group named by
    PolicySourceArn (a user's groups' policies included). Holds the moto lock (request)."""
    from moto.iam.models import iam_backends

    from notifyctl.emulator.iam_enforce import policies_of

    source = str(params.get("PolicySourceArn") or "")
    backend = iam_backends[account]["aws"]
    kind, _, path = source.split(":", 5)[-1].partition("/")
    name = path.rsplit("/", 1)[-1]
    holders: list[Any] = []
    if kind == "role":
        holders.append(backend.get_role(name))
    elif kind == "user":
        holders.append(backend.get_user(name))
        holders.extend(backend.get_groups_for_user(name))
    elif kind == "group":
        holders.append(backend.get_group(name))
    else:
        from moto.iam.exceptions import InvalidInput

        raise InvalidInput(f"Invalid ARN: {source}")
    policies = [p for h in holders for p in policies_of(h)]
    return simulate(policies, params, caller_arns=(source,), account=account)


def simulate_custom(account: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """SimulateCustomPolicy: only the given PolicyInputList (+ ResourcePolicy)."""
    return simulate([], params, account=account)
