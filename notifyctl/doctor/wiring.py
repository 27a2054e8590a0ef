"""Wiring: the path an event takes from the topic to the function's `live` alias.

An event reaches the function only if the topic exists, a confirmed subscription
points at the alias (not the unqualified function or `$LATEST`, which run unreleased
code and are not what the invoke permission covers), the alias's resource policy lets
SNS invoke it for this topic and account, and failures have somewhere to go (the
event invoke config's on-failure destination).
"""

from __future__ import annotations

import json
from typing import Any

from notifyctl.aws.calls import LAMBDA_NOT_FOUND, SNS_NOT_FOUND, get_or_none, is_error
from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, passed, warned
from notifyctl.infra import reads
from notifyctl.infra.planner import lambda_subscriptions, permission_facts
from notifyctl.infra.specs import MAX_EVENT_AGE_S, MAX_RETRY_ATTEMPTS

BOOTSTRAP = "`notifyctl bootstrap`"


def topic(ctx: DoctorContext) -> Outcome:
    arn = ctx.specs.arns.topic
    if reads.topic_attributes(ctx.client("sns"), arn) is None:
        return failed(f"topic {arn} does not exist", f"{BOOTSTRAP} (creates it)")
    return passed(f"topic {ctx.env.topic_name} exists")


def subscription(ctx: DoctorContext) -> Outcome:
    arns = ctx.specs.arns
    sns = ctx.client("sns")
    try:
        subs = [s for s in lambda_subscriptions(sns, arns.topic)
                if _function_of(s.get("Endpoint", "")) == arns.function]
    except Exception as exc:
        if is_error(exc, *SNS_NOT_FOUND):
            return failed("no topic, so no subscription", f"{BOOTSTRAP}")
        raise
    to_alias = [s for s in subs if s.get("Endpoint") == arns.alias]
    others = [s for s in subs if s.get("Endpoint") != arns.alias]
    wrong = ", ".join(_target(s.get("Endpoint", "")) for s in others)
    if not to_alias:
        if others:
            first = others[0]
            return failed(f"the topic is subscribed to {wrong}, not alias "
                          f"{ctx.env.alias_name}: events would run unreleased code, without "
                          "the invoke permission the alias has",
                          f"`aws sns unsubscribe --subscription-arn "
                          f"{first.get('SubscriptionArn')}`, then {BOOTSTRAP} "
                          f"(subscribes :{ctx.env.alias_name})")
        return failed(f"the topic has no subscription to {arns.alias}: events reach nobody",
                      f"{BOOTSTRAP} (subscribes the alias)")
    sub = to_alias[0]
    sub_arn = sub.get("SubscriptionArn", "")
    if not sub_arn.startswith("arn:"):
        return failed(f"the subscription to {ctx.env.alias_name} is {sub_arn or 'unconfirmed'}",
                      f"`aws sns unsubscribe` it and run {BOOTSTRAP}")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn).get("Attributes", {})
    if attrs.get("PendingConfirmation") == "true":
        return failed(f"subscription {sub_arn} is pending confirmation", BOOTSTRAP)
    if others:
        return warned(f"confirmed subscription to :{ctx.env.alias_name}, but also to {wrong} "
                      "(each event runs twice)",
                      f"`aws sns unsubscribe --subscription-arn "
                      f"{others[0].get('SubscriptionArn')}`")
    return passed(f"confirmed subscription {sub_arn.rsplit(':', 1)[-1]} -> "
                  f"{ctx.env.function_name}:{ctx.env.alias_name}")


def _function_of(endpoint: str) -> str:
    """`arn:aws:lambda:r:a:function:name[:qualifier]` -> the unqualified ARN."""
    parts = endpoint.split(":")
    return ":".join(parts[:7]) if len(parts) >= 7 else endpoint


def _target(endpoint: str) -> str:
    parts = endpoint.split(":")
    if len(parts) == 7:
        return "the unqualified function"
    return f":{parts[7]}" if len(parts) > 7 else endpoint


def permission(ctx: DoctorContext) -> Outcome:
    env, arns = ctx.env, ctx.specs.arns
    got = get_or_none(ctx.client("lambda").get_policy, *LAMBDA_NOT_FOUND,
                      FunctionName=env.function_name, Qualifier=env.alias_name)
    doc = json.loads(got["Policy"]) if got else {"Statement": []}
    sns_statements = [permission_facts(s) for s in doc.get("Statement", [])
                      if s.get("Effect", "Allow") == "Allow"
                      and permission_facts(s)["Principal"] == "sns.amazonaws.com"]
    exact = [s for s in sns_statements if s["SourceArn"] == arns.topic
             and s["SourceAccount"] == ctx.specs.account
             and s["Action"] in ("lambda:InvokeFunction", "lambda:*")]
    broader = [s for s in sns_statements if s not in exact]
    if not exact:
        loose = [s for s in broader if s["SourceArn"] in (None, arns.topic)]
        if loose:
            return warned(f"SNS may invoke {env.function_name}:{env.alias_name}, but the "
                          "permission lacks SourceArn/SourceAccount (any topic could)",
                          f"{BOOTSTRAP} (replaces it with one scoped to the topic)")
        return failed(f"{env.function_name}:{env.alias_name}'s resource policy does not let "
                      f"SNS invoke it for {env.topic_name}: every delivery is refused",
                      f"{BOOTSTRAP} (adds the permission: SourceArn the topic, "
                      "SourceAccount this account)")
    if broader:
        return warned(f"this topic is allowed, and {len(broader)} broader SNS statement(s) "
                      f"too: {', '.join(str(s['SourceArn'] or 'any topic') for s in broader)}",
                      f"`aws lambda remove-permission --function-name {env.function_name} "
                      f"--qualifier {env.alias_name} --statement-id SID` for each extra one")
    return passed(f"SNS may invoke :{env.alias_name} for {env.topic_name} only "
                  f"(SourceArn, SourceAccount {ctx.specs.account})")


def invoke_config(ctx: DoctorContext) -> Outcome:
    env, arns = ctx.env, ctx.specs.arns
    live: dict[str, Any] | None = get_or_none(
        ctx.client("lambda").get_function_event_invoke_config, *LAMBDA_NOT_FOUND,
        FunctionName=env.function_name, Qualifier=env.alias_name)
    if live is None:
        return failed(f"no event invoke config on :{env.alias_name}: failed events are "
                      "dropped after Lambda's retries instead of kept in the failure queue",
                      BOOTSTRAP)
    destination = ((live.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination")
    if destination != arns.queue:
        return failed(f"on-failure destination is {destination or 'none'}, not "
                      f"{env.dlq_name}: failed events are not kept where notifyctl looks",
                      BOOTSTRAP)
    retries = live.get("MaximumRetryAttempts")
    age = live.get("MaximumEventAgeInSeconds")
    evidence = (f"{retries} retries, max event age {age} s, on failure -> {env.dlq_name}")
    if retries != MAX_RETRY_ATTEMPTS or age != MAX_EVENT_AGE_S:
        return warned(f"{evidence} (expected {MAX_RETRY_ATTEMPTS} and {MAX_EVENT_AGE_S} s)",
                      BOOTSTRAP)
    return passed(evidence)
