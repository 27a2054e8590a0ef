"""What a function sees: its interpreter, its sys.path, its environment variables.

Lambda's Python runtime gives a function the standard library, the runtime's
boto3/botocore (and their dependencies), its own zip root and its layers under
/opt, nothing else. The emulator reproduces that view:

    sys.path = [task root, /opt/python/lib/pythonX.Y/site-packages, /opt/python,
                <the interpreter's standard library>, <the runtime SDK directory>]

- the process is started `python -I -S` (no site-packages, no user site, no
  PYTHON* variables), so `requests`, `yaml`, `notifyctl` or `moto` installed next to
  the emulator raise `Runtime.ImportModuleError`, as on AWS;
- the runtime SDK directory (one per emulator, under its state directory) holds
  only symlinks to boto3, botocore, s3transfer, jmespath, dateutil, urllib3 and six
  (and their .dist-info), the libraries Lambda's runtime ships;
- on Linux the process enters its own mount namespace (user namespace too when
  not root): a private tmpfs on /tmp (EphemeralStorage MB), the task root
  read-only and the layers mounted at the literal /opt. Elsewhere, or when the
  kernel refuses, /tmp stays the host's (TMPDIR points at a per-environment
  directory) and the task root is writable; `sandbox` in /_notifyctl/status says
  which. NOTIFYCTL_EMULATOR_SANDBOX=off turns it off.

`function_environment` is THE one place that builds a function's process
environment: the execution role's credentials and the SDK's user-agent app id
are set there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifyctl.emulator.runtime.pool import FunctionSpec

FUNCTION_PROCESS = str(Path(__file__).with_name("function_process.py"))
ENV_SANDBOX = "NOTIFYCTL_EMULATOR_SANDBOX"  # "off" keeps /tmp shared and the task root writable
VIEW_VARIABLE = "_NOTIFYCTL_VIEW"  # the child pops it before the function's code runs

# What Lambda's Python runtime ships besides the standard library: (import name,
# distribution name). six is a module, the rest are packages.
RUNTIME_SDK = (("boto3", "boto3"), ("botocore", "botocore"), ("s3transfer", "s3transfer"),
               ("jmespath", "jmespath"), ("dateutil", "python-dateutil"),
               ("urllib3", "urllib3"), ("six", "six"))


def _origin(module: str) -> Path | None:
    """The file or package directory `module` would be imported from (not imported)."""
    found = importlib.util.find_spec(module)
    if found is None:
        return None
    if found.submodule_search_locations:
        return Path(list(found.submodule_search_locations)[0])
    return Path(found.origin) if found.origin else None


def build_runtime_sdk(target: Path) -> Path:
    """(Re)create `target` holding symlinks to the runtime SDK and nothing else.

    Symlinks, not copies: built at every emulator start in a few milliseconds, and
    they follow the emulator's own boto3 (the one its tests were run against).
    A single-file module (six.py) is copied instead: the sandbox binds back only
    directories under a private /tmp, and the emulator's venv may live under /tmp.
    """
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for module, dist in RUNTIME_SDK:
        origin = _origin(module)
        if origin is None:
            continue
        if origin.is_file():
            shutil.copy2(origin, target / origin.name)
        else:
            (target / origin.name).symlink_to(origin)
        wanted = dist.replace("-", "_").lower()
        for info in origin.parent.glob("*.dist-info"):
            if info.name.split("-", 1)[0].replace("-", "_").lower() == wanted:
                (target / info.name).symlink_to(info)
    return target


def sandbox_wanted() -> bool:
    return sys.platform.startswith("linux") and \
        os.environ.get(ENV_SANDBOX, "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True)
class ProcessView:
    """What the child needs to build the function's view (passed as JSON, then dropped)."""

    task_root: str
    sdk_dir: str
    opt_dir: str | None  # the extracted layers, mounted at /opt when sandboxed
    tmp_mb: int  # EphemeralStorage
    sandbox: bool

    def keep_visible(self) -> list[str]:
        """Paths that must stay readable inside a private /tmp (the state directory may
        live under /tmp, in tests): the task root, the layers, the SDK and its targets."""
        paths = [self.task_root, self.sdk_dir, *([self.opt_dir] if self.opt_dir else [])]
        sdk = Path(self.sdk_dir)
        if sdk.is_dir():
            paths += [str(link.resolve()) for link in sorted(sdk.iterdir())]
        return paths

    def to_json(self) -> str:
        data: dict[str, Any] = {"task_root": self.task_root, "sdk": self.sdk_dir,
                                "opt": self.opt_dir, "sandbox": None}
        if self.sandbox:
            data["sandbox"] = {"tmp_mb": self.tmp_mb, "keep": self.keep_visible()}
        return json.dumps(data)


# The execution role's credentials for a new environment (the emulator sets
# emulator/iam_enforce.issue, which calls its STS; the runtime itself has no moto in it).
_issuer: Callable[[FunctionSpec], Mapping[str, str]] | None = None


def set_credential_issuer(issuer: Callable[[FunctionSpec], Mapping[str, str]] | None) -> None:
    global _issuer
    _issuer = issuer


def function_environment(spec: FunctionSpec, view: ProcessView, *, stream: str, tmpdir: str,
                         endpoint: str) -> dict[str, str]:
    """THE process environment of a function's execution environment.

    The function's own variables first; the reserved ones win, as AWS forbids
    setting them. Hooks for other parts of the emulator belong here (one line each):
    the execution role's credentials, the SDK user-agent app id.
    """
    env = dict(spec.environment)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": tmpdir,
        "TMPDIR": tmpdir,  # the child sets /tmp instead when it got a private /tmp
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": view.task_root,
        "LAMBDA_RUNTIME_DIR": str(Path(FUNCTION_PROCESS).parent),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        # Dummy credentials, replaced below by the role's when an issuer is set.
        "AWS_ACCESS_KEY_ID": "ASIAEMULATOREXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "emulator-secret-key",
        "AWS_SESSION_TOKEN": "emulator-session-token",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        VIEW_VARIABLE: view.to_json(),
    })
    env.update(_issuer(spec) if _issuer is not None and spec.role else {})  # the role's keys
    if spec.logging.log_format == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
    if spec.logging.application_level:
        env["AWS_LAMBDA_LOG_LEVEL"] = spec.logging.application_level
    return env
