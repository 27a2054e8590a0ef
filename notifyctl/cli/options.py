"""Options that several commands share, defined once."""

from __future__ import annotations

import typer

from notifyctl.plans.waits import FUNCTION_STATE_TIMEOUT_S

WAIT_TIMEOUT = typer.Option(
    FUNCTION_STATE_TIMEOUT_S, "--wait-timeout", min=1.0, metavar="SECONDS",
    help="How long each wait for the function (State Active, an update finished) may take "
         "before giving up.")
