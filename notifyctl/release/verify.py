"""Before uploading: does the package import, and does its handler resolve?

A syntax error in handler.py otherwise deploys, moves `live`, exits 0, and every
event then fails at init. The check runs the package as Lambda would load it: the
zip extracted to a temporary directory, a fresh interpreter in isolated mode
(`python -I`: no PYTHONPATH, no user site, not the current directory), that
directory first on sys.path, the function's environment variables set (its
module scope reads them) and no real credentials. The interpreter is the one of
the function's runtime (`python3.12` for runtime python3.12) when this machine has
it, else the current one (said in the result).

No AWS call is made: building boto3 clients at module scope needs a Region, not
the network.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from notifyctl.errors import UsageError

VERIFY_TIMEOUT_S = 60.0

# Runs inside the clean interpreter: argv = [dir, "module.function"].
_PROBE = """
import importlib, sys, traceback
root, handler = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
module_name, _, attr = handler.rpartition(".")
try:
    module = importlib.import_module(module_name)
except BaseException as exc:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{f.filename[len(root) + 1:]}:{f.lineno}" for f in reversed(tb)
                  if f.filename.startswith(root)), "")
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root):
        where = f"{exc.filename[len(root) + 1:]}:{exc.lineno}"
    print(f"cannot import {module_name}: {type(exc).__name__}: {exc}"
          + (f" ({where})" if where else ""))
    sys.exit(3)
function = getattr(module, attr, None)
if not callable(function):
    print(f"{module_name} has no function {attr!r} (the handler {handler})")
    sys.exit(4)
print("ok")
"""


@dataclass(frozen=True)
class Verified:
    handler: str
    interpreter: str  # what ran the check, e.g. "python3.12" or the current executable
    runtime_match: bool  # the interpreter is the runtime's version


def interpreter_for(runtime: str) -> tuple[str, bool]:
    """The runtime's interpreter if installed here (python3.12 for python3.12) with boto3,
    which the Lambda runtime provides; else this one."""
    version = runtime.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable, True
    found = shutil.which(f"python{version}")
    if found:
        try:  # a pyenv shim of an inactive version, or no boto3: not usable
            usable = subprocess.run([found, "-I", "-c", "import boto3"], capture_output=True,
                                    timeout=30, check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            usable = False
        if usable:
            return found, True
    return sys.executable, False


def verify_package(data: bytes, handler: str, runtime: str,
                   environment: Mapping[str, str] | None = None, *,
                   timeout: float = VERIFY_TIMEOUT_S) -> Verified:
    """UsageError (exit 2) with the interpreter's own reason when the package does
    not import or the handler does not resolve; nothing is uploaded then."""
    python, match = interpreter_for(runtime)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "verify",
           "AWS_SECRET_ACCESS_KEY": "verify", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           **(environment or {})}
    with tempfile.TemporaryDirectory(prefix="notifyctl-verify-") as root:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(root)
        try:
            proc = subprocess.run([python, "-I", "-c", _PROBE, root, handler], env=env,
                                  cwd=root, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"the package did not finish importing within {timeout:g} s "
                             f"(handler {handler})",
                             hint="Does module scope wait on something? --no-verify skips "
                                  "this check.") from None
    if proc.returncode != 0:
        lines = (proc.stdout.strip() or proc.stderr.strip() or "no output").splitlines()
        reason = lines[-1] if proc.returncode in (3, 4) else lines[-1][:300]
        raise UsageError(f"the package is broken, nothing was uploaded: {reason}",
                         hint=f"checked with {Path(python).name} -I; fix the source, or skip "
                              "the check with --no-verify")
    return Verified(handler, python if not match else Path(python).name, match)
