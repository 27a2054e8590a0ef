"""The function's settings, read once from environment variables at init.

===========================  ========  ===============================================
variable                     required  meaning
===========================  ========  ===============================================
TABLE_NAME                   yes       the de-duplication table (partition key ``pk``)
SENDER                       yes       the verified SES From address
LINK_ALLOWED_HOSTS           no        comma-separated hosts links may point to
                                       (empty = any host)
ALLOW_HTTP_LINKS             no        ``true`` to accept http:// links (default false)
LOG_LEVEL                    no        DEBUG, INFO (default), WARNING or ERROR
DEDUP_RETENTION_HOURS        no        how long de-dup records live (default 168, never
                                       below 6: Lambda keeps async events up to 6 h)
SES_CONFIGURATION_SET        no        SES configuration set for every send
===========================  ========  ===============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from book_notifier.contract import LinkPolicy

DEFAULT_RETENTION_HOURS = 168
MIN_RETENTION_HOURS = 6
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigurationError(RuntimeError):
    """A required variable is missing or a value is malformed."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    sender: str
    link_policy: LinkPolicy = LinkPolicy()
    log_level: str = "INFO"
    retention_hours: int = DEFAULT_RETENTION_HOURS
    configuration_set: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def get(name: str) -> str:
            return environ.get(name, "").strip()

        missing = [name for name in ("TABLE_NAME", "SENDER") if not get(name)]
        if missing:
            raise ConfigurationError("missing required environment variable(s): "
                                     + ", ".join(missing))
        allow_http = get("ALLOW_HTTP_LINKS").lower() or "false"
        if allow_http not in ("true", "false"):
            raise ConfigurationError(f"ALLOW_HTTP_LINKS must be true or false, "
                                     f"not {allow_http!r}")
        level = (get("LOG_LEVEL") or "INFO").upper()
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                                     f"not {level!r}")
        retention_raw = get("DEDUP_RETENTION_HOURS") or str(DEFAULT_RETENTION_HOURS)
        try:
            retention = int(retention_raw)
        except ValueError:
            raise ConfigurationError(f"DEDUP_RETENTION_HOURS must be a whole number of "
                                     f"hours, not {retention_raw!r}") from None
        return cls(
            table_name=get("TABLE_NAME"),
            sender=get("SENDER"),
            link_policy=LinkPolicy.of(get("LINK_ALLOWED_HOSTS").split(","),
                                      allow_http == "true"),
            log_level=level,
            # A shorter retention would let a late Lambda retry email twice.
            retention_hours=max(MIN_RETENTION_HOURS, retention),
            configuration_set=get("SES_CONFIGURATION_SET") or None,
        )
