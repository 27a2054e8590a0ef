"""The function configuration notifyctl manages, in one place.

`bootstrap` creates the function with it and `deploy-lambda` compares the live
version against it, so both always agree on what "drift" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.release.package import HANDLER


@dataclass(frozen=True)
class FunctionConfig:
    runtime: str
    handler: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        """Keyword arguments for create_function / update_function_configuration."""
        return {
            "Runtime": self.runtime,
            "Handler": self.handler,
            "MemorySize": self.memory_mb,
            "Timeout": self.timeout_s,
            "Environment": {"Variables": dict(self.environment)},
        }

    def differences(self, live: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """{field: (live, wanted)} for each managed field of a get_function_configuration
        response that differs from this one."""
        wanted = self.as_api()
        live_env = (live.get("Environment") or {}).get("Variables") or {}
        out: dict[str, tuple[Any, Any]] = {}
        for key in ("Runtime", "Handler", "MemorySize", "Timeout"):
            if live.get(key) != wanted[key]:
                out[key] = (live.get(key), wanted[key])
        if live_env != self.environment:
            out["Environment"] = (live_env, dict(self.environment))
        return out


def desired_function_config(env: Environment, table_name: str | None = None) -> FunctionConfig:
    """What the notifier function should look like in this environment.

    The variables are the function's whole configuration (see lambda_src's
    handler): no secrets, only names and settings.
    """
    variables = {
        "TABLE_NAME": table_name or env.table_name,
        "SENDER": env.sender,
        "LINK_ALLOWED_HOSTS": ",".join(env.link_allowed_hosts),
        "ALLOW_HTTP_LINKS": "true" if env.allow_http_links else "false",
        "LOG_LEVEL": env.function.log_level,
        "DEDUP_RETENTION_HOURS": str(env.dedup.retention_hours),
        # Every send names it: its events close the feedback loop (issue 17).
        "SES_CONFIGURATION_SET": env.configuration_set_name,
    }
    return FunctionConfig(
        runtime=env.function.runtime,
        handler=HANDLER,
        memory_mb=env.function.memory_mb,
        timeout_s=env.function.timeout_s,
        environment=variables,
    )
