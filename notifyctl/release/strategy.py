"""Release strategies: how `deploy-lambda` shifts `live` to a new version.

`all-at-once` moves the alias in one UpdateAlias (the direct path, no CodeDeploy).
Every other strategy is a CodeDeploy deployment config; the short names map to
CodeDeploy's predefined Lambda configs, and any other name is passed through as a
config name (a custom one created in CodeDeploy, or `CodeDeployDefault.Lambda...`),
which CodeDeploy checks when the deployment is created.

    canary10-5m   CodeDeployDefault.LambdaCanary10Percent5Minutes (also 10m, 15m, 30m)
    linear10-1m   CodeDeployDefault.LambdaLinear10PercentEvery1Minute (also 2m, 3m, 10m)
"""

from __future__ import annotations

import re

from notifyctl.errors import UsageError

ALL_AT_ONCE = "all-at-once"
_SHORT = re.compile(r"^(canary|linear)(\d+)-(\d+)m$")
CANARY_MINUTES = (5, 10, 15, 30)
LINEAR_MINUTES = (1, 2, 3, 10)
SHORT_NAMES = tuple([f"canary10-{m}m" for m in CANARY_MINUTES]
                    + [f"linear10-{m}m" for m in LINEAR_MINUTES])


def config_name(strategy: str) -> str | None:
    """The CodeDeploy deployment config of `strategy`; None for all-at-once."""
    if strategy == ALL_AT_ONCE:
        return None
    short = _SHORT.match(strategy)
    if short is None:
        return strategy
    kind, percent, minutes = short.group(1), int(short.group(2)), int(short.group(3))
    if kind == "canary" and percent == 10 and minutes in CANARY_MINUTES:
        return f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"
    if kind == "linear" and percent == 10 and minutes in LINEAR_MINUTES:
        every = "1Minute" if minutes == 1 else f"{minutes}Minutes"
        return f"CodeDeployDefault.LambdaLinear10PercentEvery{every}"
    raise UsageError(
        f"--strategy {strategy}: CodeDeploy has no predefined config for it; expected "
        f"{ALL_AT_ONCE}, one of {', '.join(SHORT_NAMES)}, or a deployment config name",
        hint="Create a custom config (aws deploy create-deployment-config "
             "--compute-platform Lambda ...) and pass its name.")
