"""Errors that are the user's mistake although they surface as exceptions deep inside
botocore: recognised at the CLI boundary (`cli/main.run`) and turned into one line.

An endpoint that is not an AWS API (a web server, the wrong port) answers with HTML
or an empty body; botocore's parser then fails with ResponseParserError or a
KeyError on the missing result wrapper. Neither says "wrong endpoint".
"""

from __future__ import annotations

import traceback

from notifyctl.errors import AwsError, NotifyctlError, UsageError


def _raised_in_botocore_parser(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(f.filename.replace("\\", "/").endswith("botocore/parsers.py") for f in frames)


def explain(exc: BaseException, endpoint_url: str | None) -> NotifyctlError | None:
    """A NotifyctlError for a recognised mistake, or None."""
    name = type(exc).__name__
    if name == "ResponseParserError" or (isinstance(exc, KeyError | TypeError | AttributeError)
                                         and _raised_in_botocore_parser(exc)):
        where = endpoint_url or "the AWS endpoint"
        message = (f"{where} did not answer like an AWS API (its response could not be "
                   "read as one)")
        if endpoint_url:
            return UsageError(message + "; is this endpoint an AWS endpoint or the "
                              "notifyctl emulator?",
                              hint="Check --endpoint-url / AWS_ENDPOINT_URL / the config's "
                                   "endpoint_url; `notifyctl local status` finds the emulator.")
        return AwsError(message, hint="A proxy may be answering instead of AWS; "
                                      "check HTTPS_PROXY.", code="NotAnAwsAnswer")
    return None
