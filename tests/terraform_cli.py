"""Terraform for the tests, offline: the binary on PATH and a local provider mirror.

Terraform never reaches the network here: a generated CLI configuration installs
hashicorp/aws only from a filesystem mirror (`provider_installation {
filesystem_mirror }`, no `direct` source for it) and turns the update checkpoint
off. Tests that need Terraform skip, with the reason, where the binary or the
mirror is missing.

Where the mirror is looked for: `NOTIFYCTL_TF_MIRROR` (read before the test
fixtures clear NOTIFYCTL_* variables), then Terraform's own implied local mirror
directories, then /opt/tf-plugins. A mirror holds the provider in the unpacked
(`registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/`) or packed
(`terraform-provider-aws_<version>_<os>_<arch>.zip`) layout.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROVIDER = "registry.terraform.io/hashicorp/aws"
# The provider's credentials against the emulator (never a real account's).
EMULATOR_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_EC2_METADATA_DISABLED": "true"}
_MIRROR_FROM_ENV = os.environ.get("NOTIFYCTL_TF_MIRROR")
IMPLIED_MIRRORS = (
    Path.home() / ".terraform.d" / "plugins",
    Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
    Path("/opt/tf-plugins"),
)


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def holds_provider(mirror: Path) -> bool:
    provider = mirror / PROVIDER
    if not provider.is_dir():
        return False
    target = _platform()
    return any((version / target).is_dir() or any(version.glob(f"*_{target}.zip"))
               for version in provider.iterdir())


def find_mirror() -> Path | None:
    candidates = [Path(_MIRROR_FROM_ENV)] if _MIRROR_FROM_ENV else []
    return next((m for m in [*candidates, *IMPLIED_MIRRORS] if holds_provider(m)), None)


def unavailable() -> str | None:
    """Why Terraform cannot run offline here, or None when it can."""
    if shutil.which("terraform") is None:
        return "terraform is not installed (not on PATH)"
    if find_mirror() is None:
        return (f"no local filesystem mirror of {PROVIDER} for {_platform()} "
                f"(set NOTIFYCTL_TF_MIRROR, or see README 'Terraform against the emulator')")
    return None


@dataclass
class Terraform:
    """`terraform` in a working directory, with an offline CLI configuration."""

    workdir: Path
    cli_config: Path
    aws_env: dict[str, str]

    @classmethod
    def offline(cls, workdir: Path, scratch: Path, mirror: Path,
                aws_env: dict[str, str] | None = None) -> Terraform:
        config = scratch / "terraform.rc"
        config.write_text(
            "provider_installation {\n"
            f"  filesystem_mirror {{\n    path    = \"{mirror}\"\n"
            f"    include = [\"{PROVIDER}\"]\n  }}\n"
            "}\n"
            "disable_checkpoint = true\n", encoding="utf-8")
        return cls(workdir, config, dict(aws_env or {}))

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if k in ("PATH", "HOME", "TMPDIR", "LANG", "SSL_CERT_FILE")}
        return {**keep, "TF_CLI_CONFIG_FILE": str(self.cli_config), "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **self.aws_env}

    def run(self, *args: str, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command, *rest = args
        result = subprocess.run(["terraform", command, "-no-color", *rest], cwd=self.workdir,
                                env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    @contextlib.contextmanager
    def applied(self, *variables: str) -> Iterator[None]:
        """`init` + `apply`; on leaving, `destroy` — also when the body failed, so the
        emulator is left clean — and fail if that destroy did (after a passing body)."""
        self.run("init", "-input=false")
        self.run("apply", "-auto-approve", "-input=false", *variables)
        try:
            yield
        finally:
            destroyed = self.run("destroy", "-auto-approve", "-input=false", *variables,
                                 check=False)
        assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-3000:]

    def assert_no_changes(self, *variables: str) -> None:
        """`plan -detailed-exitcode` exits 0: everything reads back as Terraform wrote it."""
        again = self.run("plan", "-detailed-exitcode", "-input=false", *variables, check=False)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
