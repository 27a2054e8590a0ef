"""Lambda entry point: ``book_notifier.handler.handler``.

Module scope reads the settings and builds the clients once per container (reused by
every warm invocation). A missing required variable fails the init with one JSON log
line. Endpoints are never set here: on Lambda botocore uses the Region's, and under the
embedded emulator its runtime sets AWS_ENDPOINT_URL, which botocore honours.

The clients come from botocore's session, not boto3's: the same client objects, without
importing boto3 or building its resource loader (the cold start's share, measured by
benchmarks/bench_lambda.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.config import Config

from book_notifier.config import ConfigurationError, Settings
from book_notifier.dedup import DedupStore
from book_notifier.log import JsonLogger
from book_notifier.mailer import Mailer
from book_notifier.notifier import Notifier

# Few, fast attempts: a transient failure must surface (and release the claim) well
# before the function's timeout; Lambda's own async retries take over from there.
# DynamoDB writes are idempotent for their owner, so the SDK may repeat them.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    user_agent_extra="book-notifier",
)
# SendEmail is not idempotent: ONE attempt, never repeated by the SDK on a timeout, a
# dropped connection or a 5xx (SES may have accepted it). The Mailer retries only
# throttling, which proves SES refused the request (mailer.py).
SES_CONFIG = BOTO_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


def build(environ: Mapping[str, str] | None = None) -> Notifier:
    """The Notifier for this container, from environment variables."""
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
    except ConfigurationError as exc:
        JsonLogger("INFO").error("configuration error: the function cannot start",
                                 outcome="init_failed", error=str(exc))
        raise
    session = botocore.session.get_session()
    store = DedupStore(
        settings.table_name,
        session.create_client("dynamodb", config=BOTO_CONFIG),
        retention_hours=settings.retention_hours,
    )
    mailer = Mailer(
        settings.sender,
        session.create_client("sesv2", config=SES_CONFIG),
        configuration_set=settings.configuration_set,
    )
    return Notifier(settings, store, mailer, JsonLogger(settings.log_level))


NOTIFIER = build()


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return NOTIFIER.handle(event, context)
