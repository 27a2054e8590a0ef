"""The emulator's time scale for AWS's long windows (the SES 24-hour quota, DynamoDB
TTL sweeps): one place until the emulator clock (emulator/clock.py, issue 15) lands.

    NOTIFYCTL_EMULATOR_TIME_SCALE=0.001   # a 24-hour window lasts 86.4 s

1.0 (the default) is AWS's own time.
"""

from __future__ import annotations

import os

ENV_TIME_SCALE = "NOTIFYCTL_EMULATOR_TIME_SCALE"


def time_scale() -> float:
    try:
        value = float(os.environ.get(ENV_TIME_SCALE) or 1.0)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0
