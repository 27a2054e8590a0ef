"""The settings a command really uses: the environment's, with --profile, --region,
--endpoint-url and the AWS_* variables applied (precedence: `aws.session.resolve_settings`).

`config show` prints these, and every command builds its clients from them, so what
is shown is what is used. An endpoint given on the command line or in AWS_ENDPOINT_URL
is checked here: a URL without a scheme or with a port out of range is a user's
mistake (exit 2, naming where it came from), not a crash inside botocore.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from notifyctl.config.schema import endpoint_problem
from notifyctl.errors import UsageError

if TYPE_CHECKING:
    from notifyctl.aws.session import AwsSettings
    from notifyctl.config.schema import Environment


def check_endpoint(url: str | None, origin: str) -> None:
    """UsageError naming `origin` (a flag or a variable) when url is not a usable endpoint."""
    if url is None:
        return
    problem = endpoint_problem(url)
    if problem:
        raise UsageError(f"{origin}: {problem}, got {url!r}",
                         hint="For the local emulator: http://127.0.0.1:4566")


def effective_settings(env: Environment, *, flag_profile: str | None = None,
                       flag_region: str | None = None, flag_endpoint: str | None = None,
                       environ: dict[str, str] | None = None) -> AwsSettings:
    """The environment's AWS settings with flags and variables applied (checked)."""
    from notifyctl.aws.session import resolve_settings

    environ = dict(os.environ) if environ is None else environ
    check_endpoint(flag_endpoint, "--endpoint-url")
    if not flag_endpoint:
        check_endpoint(environ.get("AWS_ENDPOINT_URL") or None, "AWS_ENDPOINT_URL")
    return resolve_settings(
        config_profile=env.profile, config_region=env.region, config_endpoint=env.endpoint_url,
        flag_profile=flag_profile, flag_region=flag_region, flag_endpoint=flag_endpoint,
        environ=environ)
