"""Bounded waits where AWS is eventually consistent. Sleep and clock are parameters.

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
                  sleep: Sleep = time.sleep, clock: Clock = time.monotonic,
                  notify: Notify = _quiet, timeout: float = FUNCTION_STATE_TIMEOUT_S,
                  qualifier: str | None = None) -> dict[str, Any]:
    """Wait until the function is Active (and, with `updated`, its last update done)."""
    deadline = clock() + timeout
    kwargs: dict[str, Any] = {"FunctionName": function_name}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    while True:
        conf = client.get_function_configuration(**kwargs)
        state = conf.get("State", "Active")
        update = conf.get("LastUpdateStatus", "Successful")
        if state == "Failed":
            raise OperationError(f"function {function_name} failed to become active: "
                                 f"{conf.get('StateReason', 'no reason given')}")
        if updated and update == "Failed":
            raise OperationError(f"update of function {function_name} failed: "
                                 f"{conf.get('LastUpdateStatusReason', 'no reason given')}")
        if state == "Active" and (not updated or update != "InProgress"):
            return dict(conf)
        if clock() + 1.0 > deadline:
            raise OperationError(f"function {function_name} is still {state}/{update} "
                                 f"after {timeout:.0f} s.",
                                 hint="Re-run the command to continue once it is Active.")
        notify(f"waiting for function {function_name} ({state}, last update {update})")
        sleep(1.0)


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
