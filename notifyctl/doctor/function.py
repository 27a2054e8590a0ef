"""The function: it can run, `live` serves a released version with the configured
environment, and its role allows every call the function makes.

The role check asks IAM's policy simulator (SimulatePrincipalPolicy) about each
statement of the policy bootstrap writes (`Specs.function_policy`), on the exact
resource ARNs and with the statement's condition keys, so the list of what the
function does is kept in one place and a missing, denied or narrowed permission is
named action by action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifyctl.aws.calls import IAM_NOT_FOUND, LAMBDA_NOT_FOUND, get_or_none, is_error
from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, not_implemented, passed, warned
from notifyctl.infra import reads
from notifyctl.release.function_spec import desired_function_config

BOOTSTRAP = "`notifyctl bootstrap`"


def _config(ctx: DoctorContext, qualifier: str | None) -> dict[str, Any] | None:
    def call() -> dict[str, Any] | None:
        params: dict[str, Any] = {"FunctionName": ctx.env.function_name}
        if qualifier:
            params["Qualifier"] = qualifier
        got = get_or_none(ctx.client("lambda").get_function_configuration,
                          *LAMBDA_NOT_FOUND, **params)
        return dict(got) if got else None
    return ctx.memo(f"lambda.config:{qualifier}", call)


def state(ctx: DoctorContext) -> Outcome:
    name = ctx.env.function_name
    latest = _config(ctx, None)
    if latest is None:
        return failed(f"function {name} does not exist", f"{BOOTSTRAP} (creates it)")
    live = _config(ctx, ctx.env.alias_name) or latest
    state_, update = live.get("State", "Active"), latest.get("LastUpdateStatus", "Successful")
    evidence = f"State {state_}, LastUpdateStatus {update}"
    if state_ == "Failed":
        return failed(f"{evidence}: {live.get('StateReason', '')}".rstrip(": "),
                      "`notifyctl deploy-lambda --force` (a fresh version)")
    if update == "Failed":
        return failed(f"{evidence}: {latest.get('LastUpdateStatusReason', '')}".rstrip(": "),
                      "`notifyctl deploy-lambda --force`")
    if state_ == "Inactive":
        return warned(f"{evidence}: idle; the next invocation wakes it (slower)", "")
    if state_ == "Pending" or update == "InProgress":
        return warned(f"{evidence}: an update is being applied", "run doctor again in a minute")
    return passed(evidence)


def alias(ctx: DoctorContext) -> Outcome:
    env = ctx.env
    live = reads.alias(ctx.client("lambda"), env.function_name, env.alias_name)
    if live is None:
        return failed(f"alias {env.alias_name} does not exist on {env.function_name}",
                      f"{BOOTSTRAP} (publishes a version and creates it)")
    version = live.get("FunctionVersion")
    if version == "$LATEST" or not str(version).isdigit():
        return failed(f"{env.alias_name} -> {version}: unreleased code serves events",
                      "`notifyctl deploy-lambda` (publishes a version and moves the alias)")
    weights = (live.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if weights:
        split = ", ".join(f"{w:.0%} to {v}" for v, w in weights.items())
        return warned(f"{env.alias_name} -> version {version}, with {split} (a deployment in "
                      "progress?)", "`notifyctl rollback` if it is stuck")
    return passed(f"{env.alias_name} -> version {version}")


def environment(ctx: DoctorContext) -> Outcome:
    live = _config(ctx, ctx.env.alias_name)
    if live is None:
        return failed(f"no {ctx.env.alias_name} alias to read the environment of", BOOTSTRAP)
    wanted = desired_function_config(ctx.env).environment
    have = (live.get("Environment") or {}).get("Variables") or {}
    wrong = sorted(k for k in set(wanted) | set(have) if wanted.get(k) != have.get(k))
    if wrong:
        shown = ", ".join(f"{k}={have.get(k)!r} (config: {wanted.get(k)!r})" for k in wrong)
        return failed(f"version {live.get('Version')} runs with {shown}",
                      f"{BOOTSTRAP} (publishes the configured environment and moves "
                      f"{ctx.env.alias_name})")
    return passed(f"version {live.get('Version')}: {len(have)} variables match the config")


@dataclass(frozen=True)
class Question:
    """One SimulatePrincipalPolicy request: actions on resources, with context keys."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    context: tuple[tuple[str, str], ...] = ()

    def params(self, role_arn: str) -> dict[str, Any]:
        params: dict[str, Any] = {"PolicySourceArn": role_arn,
                                  "ActionNames": list(self.actions),
                                  "ResourceArns": list(self.resources)}
        if self.context:
            params["ContextEntries"] = [
                {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
                for k, v in self.context]
        return params


def questions(policy: dict[str, Any]) -> list[Question]:
    """What to ask the simulator, from the function policy bootstrap writes. A
    resource ending in `:*` (the log group's streams) is asked about one concrete
    stream, the way Lambda's calls name it."""
    out = []
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement["Action"]
        resources = statement["Resource"]
        actions = (actions,) if isinstance(actions, str) else tuple(actions)
        resources = (resources,) if isinstance(resources, str) else tuple(resources)
        resources = tuple(r[:-1] + "log-stream:2026/01/01/[1]doctor" if r.endswith(":*")
                          else r for r in resources)
        context = tuple((k, v) for cond in (statement.get("Condition") or {}).values()
                        for k, v in cond.items() if isinstance(v, str))
        out.append(Question(actions, resources, context))
    return out


def role(ctx: DoctorContext) -> Outcome:
    latest = _config(ctx, ctx.env.alias_name) or _config(ctx, None)
    if latest is None:
        return failed(f"function {ctx.env.function_name} does not exist", BOOTSTRAP)
    role_arn = latest.get("Role", "")
    iam = ctx.client("iam")
    denied: list[str] = []
    asked = 0
    for question in questions(ctx.specs.function_policy):
        try:
            pages = iam.get_paginator("simulate_principal_policy").paginate(
                **question.params(role_arn))
            results = [r for page in pages for r in page.get("EvaluationResults", [])]
        except Exception as exc:
            if not_implemented(exc):
                return warned("not checked: the endpoint does not implement iam "
                              "SimulatePrincipalPolicy",
                              f"on AWS: `aws iam simulate-principal-policy "
                              f"--policy-source-arn {role_arn} --action-names ...`")
            if is_error(exc, *IAM_NOT_FOUND):
                return failed(f"the function's role {role_arn} does not exist", BOOTSTRAP)
            raise
        for result in results:
            asked += 1
            if result.get("EvalDecision") != "allowed":
                resource = result.get("EvalResourceName", "")
                denied.append(f"{result.get('EvalActionName')} on {resource} "
                              f"({result.get('EvalDecision')})")
    if denied:
        return failed(f"role {role_arn.rsplit('/', 1)[-1]} may not: {'; '.join(denied)}",
                      f"{BOOTSTRAP} (restores the role's inline policy)")
    return passed(f"role {role_arn.rsplit('/', 1)[-1]} may make all {asked} calls the "
                  "function makes, on the exact ARNs")
