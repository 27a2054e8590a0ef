"""The one list of checks, in the order they run and print.

Later checks `require` the identity check: with no credentials or no endpoint every
call would fail the same way, so they are skipped with one reason instead.
"""

from __future__ import annotations

from notifyctl.doctor import access, drift, function, health, ses, wiring
from notifyctl.doctor.model import Check

_AWS = ("aws.endpoint", "aws.identity")

CHECKS: tuple[Check, ...] = (
    Check("aws.endpoint", access.endpoint),
    Check("aws.identity", access.identity, requires=("aws.endpoint",)),
    Check("ses.account", ses.account, requires=_AWS),
    Check("ses.sending", ses.sending, requires=_AWS),
    Check("ses.quota", ses.quota, requires=_AWS),
    Check("ses.identity", ses.identity, requires=_AWS),
    Check("ses.dkim", ses.dkim, requires=_AWS),
    Check("ses.dns", ses.dns, requires=_AWS),
    Check("ses.reputation", ses.reputation, requires=_AWS),
    Check("ses.recipients", ses.recipients, requires=_AWS),
    Check("wiring.topic", wiring.topic, requires=_AWS),
    Check("wiring.subscription", wiring.subscription, requires=_AWS),
    Check("wiring.permission", wiring.permission, requires=_AWS),
    Check("wiring.invoke_config", wiring.invoke_config, requires=_AWS),
    Check("function.state", function.state, requires=_AWS),
    Check("function.alias", function.alias, requires=_AWS),
    Check("function.environment", function.environment, requires=_AWS),
    Check("function.role", function.role, requires=_AWS),
    Check("health.failure_queue", health.failure_queue, requires=_AWS),
    Check("health.records", health.records, requires=_AWS),
    Check("health.alarms", health.alarms, requires=_AWS),
    Check("health.errors", health.errors, requires=_AWS),
    Check("drift.plan", drift.plan, requires=_AWS),
)

NAMES = tuple(c.name for c in CHECKS)
GROUPS = tuple(dict.fromkeys(c.group for c in CHECKS))
