"""Configuration drift of the function, and bootstrap's way to correct it.

`bootstrap` measures drift against the version `live` serves (both it and
`deploy-lambda` compare with `FunctionConfig.differences`, so they agree on
what drift is) and corrects it with these calls:

    update_function_configuration (managed fields only, never code)
    -> wait until the update is done
    -> publish_version, with CodeSha256 = the code `live` serves now
       (AWS refuses to publish if $LATEST's code differs; the planner puts the
       code `live` serves back into $LATEST first, or refuses: see
       `infra.planner.Planner._code_to_restore`)
    -> update_alias live -> the new version

Shipping new code is deploy-lambda's job and is not looked at here.
"""

from __future__ import annotations

from typing import Any

from notifyctl.plans.model import ApiCall, Var
from notifyctl.release.function_spec import FunctionConfig
from notifyctl.release.versions import alias_description, bootstrap_version_description

NEW_VERSION = "function_version"


def config_drift(live: dict[str, Any], wanted: FunctionConfig,
                 role_arn: str | None = None) -> dict[str, tuple[Any, Any]]:
    """{field: (live, wanted)} of the managed configuration (and the role, if given)."""
    changes = wanted.differences(live)
    if role_arn is not None and live.get("Role") != role_arn:
        changes["Role"] = (live.get("Role"), role_arn)
    return changes


def config_update_calls(function_name: str, wanted: FunctionConfig, *,
                        role_arn: str | None = None, alias: str | None = None,
                        alias_code_sha256: str | None = None,
                        alias_version: str | None = None,
                        ) -> tuple[ApiCall, ...]:
    """The calls that bring the function's configuration to `wanted` and, when an
    alias exists, publish it as a new version and move the alias to it.

    The version and alias descriptions record the version the alias left, in the
    same form deploy-lambda writes, so `notifyctl rollback` can go back to it."""
    params: dict[str, Any] = {"FunctionName": function_name, **wanted.as_api()}
    if role_arn is not None:
        params["Role"] = role_arn
    calls = [
        ApiCall("lambda", "update_function_configuration", params),
        ApiCall("wait", "function_updated", {"FunctionName": function_name}),
    ]
    if alias is not None:
        description = bootstrap_version_description(alias_version,
                                                    alias_code_sha256 or "unknown")
        publish: dict[str, Any] = {"FunctionName": function_name, "Description": description}
        if alias_code_sha256:
            publish["CodeSha256"] = alias_code_sha256
        calls += [
            ApiCall("lambda", "publish_version", publish, output=NEW_VERSION,
                    output_key="Version"),
            ApiCall("lambda", "update_alias", {
                "FunctionName": function_name, "Name": alias, "FunctionVersion": Var(NEW_VERSION),
                "Description": alias_description("bootstrap", alias_version)}),
        ]
    return tuple(calls)
