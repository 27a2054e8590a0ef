"""Bounded waits where AWS is eventually consistent, the only ones in notifyctl.
Sleep and clock are parameters.

IAM propagation: a role created seconds ago may not yet be assumable by Lambda,
and create_function then fails with InvalidParameterValueException "The role
defined for the function cannot be assumed by Lambda." That error, and only that
one, is retried:

    attempt:  1    2    3    4    5    6 ...      (gives up after `timeout` s)
    sleep:     1s   2s   4s   8s  10s  10s ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from notifyctl.aws.errors import error_code
from notifyctl.errors import OperationError

Sleep = Callable[[float], None]
Clock = Callable[[], float]
Notify = Callable[[str], None]

ROLE_NOT_ASSUMABLE = "cannot be assumed by Lambda"
CREATE_FUNCTION_TIMEOUT_S = 120.0
FUNCTION_STATE_TIMEOUT_S = 300.0
TABLE_TIMEOUT_S = 300.0
MAX_DELAY_S = 10.0
FIRST_POLL_S = 0.5
MAX_POLL_S = 3.0


def _quiet(_: str) -> None:
    pass


def is_role_not_ready(exc: BaseException) -> bool:
    if error_code(exc) != "InvalidParameterValueException":
        return False
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return ROLE_NOT_ASSUMABLE in message


def create_function(client: Any, params: dict[str, Any], *, sleep: Sleep = time.sleep,
                    clock: Clock = time.monotonic, notify: Notify = _quiet,
                    timeout: float = CREATE_FUNCTION_TIMEOUT_S) -> dict[str, Any]:
    """create_function, retried while the new role is not yet assumable."""
    deadline = clock() + timeout
    delay = 1.0
    attempt = 1
    while True:
        try:
            return dict(client.create_function(**params))
        except Exception as exc:
            if not is_role_not_ready(exc):
                raise
            if clock() + delay > deadline:
                raise OperationError(
                    f"Lambda still cannot assume role {params.get('Role')} after "
                    f"{attempt} attempts ({timeout:.0f} s).",
                    hint="IAM changes usually propagate within a minute; re-run "
                         "`notifyctl bootstrap` to continue.") from exc
            notify(f"waiting for the new IAM role to propagate (attempt {attempt})")
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
            attempt += 1


def wait_function(client: Any, function_name: str, *, updated: bool = False,
                  fail_on_failed: bool = True, sleep: Sleep = time.sleep,
                  clock: Clock = time.monotonic, notify: Notify = _quiet,
                  timeout: float = FUNCTION_STATE_TIMEOUT_S,
                  qualifier: str | None = None) -> dict[str, Any]:
    """The one wait for a Lambda function (bootstrap and deploy-lambda alike).

    Without `updated`: until State is Active (after CreateFunction). With it: until
    State is not Pending and LastUpdateStatus not InProgress (after an update;
    Lambda refuses the next update or a publish before that). State Failed is an
    error; LastUpdateStatus Failed too, unless `fail_on_failed` is False (the first
    wait of a deploy only lets a running update finish: an earlier failed update
    is what the deploy replaces). Polls at 0.5 s, then 1.5x longer, at most 3 s.
    """
    deadline = clock() + timeout
    kwargs: dict[str, Any] = {"FunctionName": function_name}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    delay = FIRST_POLL_S
    while True:
        conf = client.get_function_configuration(**kwargs)
        state = conf.get("State", "Active")
        update = conf.get("LastUpdateStatus", "Successful")
        if state == "Failed":
            raise OperationError(f"{function_name} is in state Failed: "
                                 f"{conf.get('StateReason') or 'no reason given'}")
        if updated and update == "Failed" and fail_on_failed:
            reason = conf.get("LastUpdateStatusReason") or "no reason given"
            code = conf.get("LastUpdateStatusReasonCode")
            raise OperationError(f"The update of {function_name} failed: {reason}"
                                 + (f" ({code})" if code else ""),
                                 hint="The live alias was not moved. Fix the cause and run "
                                      "the command again.")
        done = (state != "Pending" and update != "InProgress") if updated else state == "Active"
        if done:
            return dict(conf)
        remaining = deadline - clock()
        if remaining <= 0:
            raise OperationError(f"{function_name}: still {state}/{update}; the update did "
                                 f"not finish within {timeout:.0f} s.",
                                 hint="The live alias was not moved; run the command again "
                                      "later, or wait longer with --wait-timeout SECONDS.")
        notify(f"waiting for function {function_name} ({state}, last update {update})")
        sleep(min(delay, remaining))
        delay = min(delay * 1.5, MAX_POLL_S)


def wait_table(client: Any, table_name: str, *, sleep: Sleep = time.sleep,
               clock: Clock = time.monotonic, notify: Notify = _quiet,
               timeout: float = TABLE_TIMEOUT_S) -> dict[str, Any]:
    deadline = clock() + timeout
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        if table.get("TableStatus") == "ACTIVE":
            return dict(table)
        if clock() + 1.0 > deadline:
            raise OperationError(f"table {table_name} is still {table.get('TableStatus')} "
                                 f"after {timeout:.0f} s.", hint="Re-run to continue.")
        notify(f"waiting for table {table_name} ({table.get('TableStatus')})")
        sleep(1.0)
