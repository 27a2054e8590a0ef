"""Moving `live` back: to the version it pointed at before its last move, or to N.

Where "back" is comes from AWS alone: the alias's Description records the
version it pointed at before its last move and which move that was (deploy or
rollback); each version's own Description records the version that was live when
it was published.

    after a deploy (alias: "deploy; previous=3", live 4)   -> back to 3
    after a rollback (alias: "rollback; previous=4", live 3; version 3 says
      previous=2)                                           -> further back, to 2

A second rollback goes further back through the release history, never forward
to the version just rolled back from (that would be a redeploy, and surprising
when a bad release spans two versions); to undo a rollback, `--to-version N`
names the version, and the result says which N that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifyctl.errors import OperationError
from notifyctl.release import versions as history
from notifyctl.release.deploy import read_live


@dataclass(frozen=True)
class RollbackResult:
    function: str
    alias: str
    from_version: str
    to_version: str
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "alias": self.alias,
                "from_version": self.from_version, "to_version": self.to_version,
                "changed": self.changed}


def rollback_target(live_description: str, alias_description: str) -> str | None:
    """The version before the live one in the release history (see the module docstring)."""
    if alias_description.startswith("notifyctl rollback"):
        # Live is itself the result of a rollback: its own record goes further back.
        return history.parse_previous(live_description)
    return history.parse_previous(alias_description) or history.parse_previous(live_description)


def rollback(lam: Any, function_name: str, alias: str, to_version: int | None = None
             ) -> RollbackResult:
    from notifyctl.aws.calls import LAMBDA_NOT_FOUND, get_or_none

    live = read_live(lam, function_name, alias)
    if not live.alias_exists or live.version is None:
        raise OperationError(f"{function_name} has no alias {alias}: nothing to roll back.",
                             hint="Deploy first with `notifyctl deploy-lambda`.")
    if to_version is not None:
        target = str(to_version)
    else:
        found = rollback_target(live.config.get("Description") or "", live.alias_description)
        if found is None:
            undo = history.parse_previous(live.alias_description)
            raise OperationError(
                f"No version before {live.version} is recorded for {function_name}:{alias}.",
                hint=(f"To undo the last rollback: `notifyctl rollback --to-version {undo}`. "
                      if undo and live.alias_description.startswith("notifyctl rollback")
                      else "") + "Choose a version with `--to-version N` "
                                 "(see `notifyctl versions`).")
        target = found
    if target == live.version:
        return RollbackResult(function_name, alias, live.version, target, changed=False)
    if get_or_none(lam.get_function_configuration, *LAMBDA_NOT_FOUND,
                   FunctionName=function_name, Qualifier=target) is None:
        raise OperationError(f"Version {target} of {function_name} does not exist; "
                             f"{alias} stays at version {live.version}.",
                             hint="See the published versions with `notifyctl versions`.")
    kwargs: dict[str, Any] = {}
    if live.alias_revision:
        kwargs["RevisionId"] = live.alias_revision
    lam.update_alias(FunctionName=function_name, Name=alias, FunctionVersion=target,
                     Description=history.alias_description("rollback", live.version),
                     RoutingConfig={}, **kwargs)
    return RollbackResult(function_name, alias, live.version, target, changed=True)
