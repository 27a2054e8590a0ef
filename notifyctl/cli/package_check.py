"""The check before any upload of function code: the package imports and its
handler resolves in a clean interpreter (deploy-lambda, and bootstrap --source)."""

from __future__ import annotations

from typing import Any


def check_package_imports(app: Any, data: bytes) -> None:
    """UsageError (exit 2) naming the cause when the package is broken."""
    from notifyctl.release.function_spec import desired_function_config
    from notifyctl.release.verify import verify_package

    wanted = desired_function_config(app.env)
    with app.out.status("checking that the package imports"):
        verified = verify_package(data, wanted.handler, wanted.runtime, wanted.environment)
    app.out.debug(f"the package imports ({verified.interpreter} -I)")
