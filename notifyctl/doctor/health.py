"""Health: what already went wrong, from the failure queue, the de-dup table,
CloudWatch alarms and the function's metrics.

The de-dup table has no index on `status`, so finding FAILED / UNCONFIRMED records and
claims stuck past their lease needs a Scan. It is bounded: at most `SCAN_PAGES` pages
of `SCAN_PAGE` items (5,000 items read, a few hundred read units at most), projecting
only the attributes shown; on a bigger table the evidence says how much was read and
the result is a sample, never a full scan of a production table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notifyctl.aws.calls import DYNAMODB_NOT_FOUND, is_error
from notifyctl.doctor.context import DoctorContext
from notifyctl.doctor.model import Outcome, failed, passed, warned
from notifyctl.infra import reads
from notifyctl.infra.specs import MAX_EVENT_AGE_S

SCAN_PAGE = 1000
SCAN_PAGES = 5
SHOW = 3
ERROR_RATE_FAIL = 0.10

FAILURES_FIX = "`notifyctl failures list`, then `notifyctl failures redrive ID` once fixed"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _now(ctx: DoctorContext) -> datetime:
    return datetime.fromtimestamp(ctx.clock(), UTC)


def _metric(ctx: DoctorContext, namespace: str, metric: str, dims: dict[str, str],
            stat: str, window_s: int) -> list[dict[str, Any]]:
    now = _now(ctx)
    return list(ctx.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(seconds=window_s), EndTime=now, Period=window_s,
        Statistics=[stat]).get("Datapoints", []))


def failure_queue(ctx: DoctorContext) -> Outcome:
    sqs = ctx.client("sqs")
    name = ctx.env.dlq_name
    url = reads.queue_url(sqs, name)
    if url is None:
        return failed(f"failure queue {name} does not exist", "`notifyctl bootstrap`")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    depth = int(attrs.get("ApproximateNumberOfMessages", 0))
    in_flight = int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
    if not depth and not in_flight:
        return passed(f"{name} is empty")
    ages = _metric(ctx, "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": name},
                   "Maximum", 900)
    oldest = (f", oldest {_ago(max(p['Maximum'] for p in ages))}" if ages
              else ", oldest: unknown (no ApproximateAgeOfOldestMessage datapoint yet)")
    return failed(f"{depth} event(s) failed after Lambda's retries wait in {name}"
                  f"{f' ({in_flight} being read)' if in_flight else ''}{oldest}",
                  FAILURES_FIX)


def records(ctx: DoctorContext) -> Outcome:
    ddb = ctx.client("dynamodb")
    table = ctx.env.table_name
    now = ctx.clock()
    found: dict[str, list[dict[str, Any]]] = {"FAILED": [], "UNCONFIRMED": [], "stuck": []}
    scanned = 0
    pages = 0
    partial = False
    params: dict[str, Any] = {
        "TableName": table, "Limit": SCAN_PAGE,
        "FilterExpression": "#s IN (:failed, :unconfirmed) OR "
                            "(#s = :in_progress AND lease_until < :now)",
        "ProjectionExpression": "pk, #s, lease_until, claimed_at, reason, book_id",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":failed": {"S": "FAILED"},
                                      ":unconfirmed": {"S": "UNCONFIRMED"},
                                      ":in_progress": {"S": "IN_PROGRESS"},
                                      ":now": {"N": str(int(now))}},
    }
    try:
        while pages < SCAN_PAGES:
            page = ddb.scan(**params)
            pages += 1
            scanned += int(page.get("ScannedCount", 0))
            for item in page.get("Items", []):
                _classify(item, now, found)
            if not page.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            partial = pages == SCAN_PAGES
    except Exception as exc:
        if is_error(exc, *DYNAMODB_NOT_FOUND):
            return failed(f"de-dup table {table} does not exist", "`notifyctl bootstrap`")
        raise
    bound = (f"first {scanned} items read (bounded scan: {SCAN_PAGES} x {SCAN_PAGE})"
             if partial else f"{scanned} items read")
    parts = []
    for label, items in (("FAILED", found["FAILED"]), ("UNCONFIRMED", found["UNCONFIRMED"]),
                         ("stuck IN_PROGRESS past the lease", found["stuck"])):
        if items:
            shown = ", ".join(_describe(i, now) for i in items[:SHOW])
            more = f" and {len(items) - SHOW} more" if len(items) > SHOW else ""
            parts.append(f"{len(items)} {label}: {shown}{more}")
    if not parts:
        return passed(f"no FAILED, UNCONFIRMED or stuck records ({bound})")
    first = (found["stuck"] or found["FAILED"] or found["UNCONFIRMED"])[0]
    return failed(f"{'; '.join(parts)} ({bound})",
                  f"`notifyctl trace {_trace_id(first)}` tells each one's story; "
                  + FAILURES_FIX)


def _trace_id(item: dict[str, Any]) -> str:
    """What to hand `trace`: the producer's event id for an `event:<id>` key."""
    pk = str(item["pk"]["S"])
    return pk.removeprefix("event:")


def _classify(item: dict[str, Any], now: float, found: dict[str, list[dict[str, Any]]]) -> None:
    status = item.get("status", {}).get("S")
    if status in ("FAILED", "UNCONFIRMED"):
        found[status].append(item)
        return
    lease = int(item.get("lease_until", {}).get("N", "0"))
    claimed_s = int(item.get("claimed_at", {}).get("N", "0")) / 1000
    # lease_until 0: released after a transient error, Lambda's retry is coming; it is
    # stuck only once Lambda has stopped retrying (the maximum event age).
    if lease > 0 or now - claimed_s > MAX_EVENT_AGE_S:
        found["stuck"].append(item)


def _describe(item: dict[str, Any], now: float) -> str:
    pk = _trace_id(item)
    reason = item.get("reason", {}).get("S")
    lease = int(item.get("lease_until", {}).get("N", "0"))
    if item.get("status", {}).get("S") == "IN_PROGRESS" and lease:
        return f"{pk} (lease ended {_ago(now - lease)} ago)"
    return f"{pk} ({reason})" if reason else pk


def alarms(ctx: DoctorContext) -> Outcome:
    env = ctx.env
    ours = {env.function_name, env.dlq_name, env.table_name, env.topic_name}
    firing = []
    for page in ctx.client("cloudwatch").get_paginator("describe_alarms").paginate(
            StateValue="ALARM"):
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            dims = {d.get("Value") for d in alarm.get("Dimensions", [])}
            if alarm["AlarmName"].startswith(env.prefix) or dims & ours:
                firing.append(alarm)
    if not firing:
        return passed("no alarm on this environment's resources is in ALARM")
    names = ", ".join(a["AlarmName"] for a in firing)
    reason = firing[0].get("StateReason", "")
    return failed(f"{len(firing)} in ALARM: {names}" + (f" ({reason})" if reason else ""),
                  f"`aws cloudwatch describe-alarm-history --alarm-name {firing[0]['AlarmName']}`;"
                  " `notifyctl logs --since 1h --by-request` shows the errors")


def errors(ctx: DoctorContext) -> Outcome:
    dims = {"FunctionName": ctx.env.function_name}
    invocations = sum(p["Sum"] for p in _metric(ctx, "AWS/Lambda", "Invocations", dims,
                                                 "Sum", 3600))
    errs = sum(p["Sum"] for p in _metric(ctx, "AWS/Lambda", "Errors", dims, "Sum", 3600))
    if not invocations:
        return passed("no invocations in the last hour")
    rate = errs / invocations
    evidence = f"{errs:.0f} errors in {invocations:.0f} invocations in the last hour ({rate:.1%})"
    fix = "`notifyctl logs --since 1h --by-request` shows them; each is retried by Lambda"
    if errs and rate >= ERROR_RATE_FAIL:
        return failed(evidence, fix)
    if errs:
        return warned(evidence, fix)
    return passed(evidence)
