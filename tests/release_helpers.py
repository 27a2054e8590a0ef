"""Helpers for tests and benchmarks of the release path (kept under tests/: not shipped).

`seed_function` creates the notifier function the way `bootstrap` leaves it
(a role, the function, version 1, `live` -> 1) so release tests do not depend on
bootstrap; `source_tree` makes a private, editable copy of the function source.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from notifyctl.release.function_spec import FunctionConfig
from notifyctl.release.package import PACKAGE_NAME, Package, default_source

_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})
_STUB_HANDLER = '''"""Stand-in handler for release tests."""


def handler(event, context):
    return {"ok": True}
'''


def source_tree(dest: Path) -> Path:
    """Copy the book_notifier package into dest/lambda_src; return that lambda_src.

    Falls back to a stub package when the real one has no handler yet.
    """
    root = dest / "lambda_src"
    pkg = root / PACKAGE_NAME
    try:
        real = default_source()
    except Exception:
        real = None
    if real is not None and (real / "handler.py").is_file():
        shutil.copytree(real, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text('"""stub"""\n')
        (pkg / "handler.py").write_text(_STUB_HANDLER)
    return root


def change_one_line(root: Path, marker: str) -> None:
    """Append one line to handler.py (a code change that keeps it importable)."""
    handler = root / PACKAGE_NAME / "handler.py"
    with handler.open("a", encoding="utf-8") as fh:
        fh.write(f"\nDEPLOY_MARKER = {marker!r}\n")


def seed_function(lam: Any, iam: Any, function_name: str, alias: str, package: Package,
                  config: FunctionConfig, *, owner: Any, role_name: str = "notifier-test-role",
                  publish: bool = True) -> dict[str, Any]:
    """Create role + function (+ version 1 and alias -> 1 when publish), tagged as
    environment `owner`'s as bootstrap tags it (commands refuse an untagged one)."""
    from notifyctl.infra.specs import tags_for

    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except Exception:
        role_arn = iam.create_role(RoleName=role_name,
                                   AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    created = lam.create_function(FunctionName=function_name, Role=role_arn,
                                  Code={"ZipFile": package.data}, Publish=False,
                                  Tags=tags_for(owner), **config.as_api())
    # As on AWS, a new function is Pending for a moment: PublishVersion waits for Active.
    lam.get_waiter("function_active_v2").wait(FunctionName=function_name,
                                              WaiterConfig={"Delay": 0.05, "MaxAttempts": 600})
    if publish:
        version = lam.publish_version(FunctionName=function_name,
                                      Description="created by the test fixture")["Version"]
        lam.create_alias(FunctionName=function_name, Name=alias, FunctionVersion=version)
    return dict(created)


def deploy_series(aws: Any, env: Any, workdir: Path,
                  markers: tuple[str, ...]) -> tuple[Any, Path]:
    """Seed version 1, then deploy one changed source per marker (live -> the last).

    Returns the Lambda client and the source tree (as the last deploy left it)."""
    from notifyctl.release.deploy import deploy
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.package import build

    lam = aws.client("lambda")
    src = source_tree(workdir)
    wanted = desired_function_config(env)
    seed_function(lam, aws.client("iam"), env.function_name, env.alias_name, build(src), wanted,
                  owner=env)
    for marker in markers:
        change_one_line(src, marker)
        deploy(lam, env.function_name, env.alias_name, build(src), wanted, sleep=lambda s: None)
    return lam, src
