"""Write the Terraform module of an environment into a directory.

No AWS calls: the account and Region are read by Terraform's data sources, so a
module can be exported offline and applied anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifyctl.config.schema import Environment
from notifyctl.errors import UsageError
from notifyctl.export import hcl, terraform, tfjson
from notifyctl.export.syntax import File

HCL, JSON = "hcl", "json"
# format -> (file extension, renderer)
FORMATS: dict[str, tuple[str, Callable[[File], str]]] = {
    HCL: (".tf", hcl.render),
    JSON: (".tf.json", tfjson.render),
}


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    format: str
    files: tuple[str, ...]
    resources: tuple[str, ...]
    package_file: str
    package_sha256: str
    package_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "format": self.format,
                "files": list(self.files), "resources": list(self.resources),
                "package": {"file": self.package_file, "code_sha256": self.package_sha256,
                            "bytes": self.package_bytes}}


def render(module: terraform.Module, fmt: str) -> dict[str, str]:
    """{file name: text} of the module in one format."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    extension, write = FORMATS[fmt]
    return {f.name + extension: write(f) for f in module.files}


def export_terraform(env: Environment, out: Path, fmt: str = HCL,
                     source: Path | None = None) -> ExportResult:
    """Write the module and the function's reproducible package into `out`."""
    from notifyctl.release.package import build as build_package

    module = terraform.build(env)
    texts = render(module, fmt)
    _refuse_other_format(module, out, fmt)
    package = build_package(source)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
    package.write(out / terraform.PACKAGE_FILE)
    return ExportResult(out, fmt, tuple(texts), tuple(module.resources), terraform.PACKAGE_FILE,
                        package.sha256_b64, package.size)


def _refuse_other_format(module: terraform.Module, out: Path, fmt: str) -> None:
    """Terraform loads `.tf` and `.tf.json` alike: the other format's copy of the same
    files would declare every resource twice."""
    for other, (extension, _) in FORMATS.items():
        if other == fmt:
            continue
        clash = [f.name + extension for f in module.files if (out / (f.name + extension)).exists()]
        if clash:
            raise UsageError(f"--out: {out} already holds {', '.join(clash)} ({other} format); "
                             "Terraform would load both",
                             hint="Remove them or export into another directory.")
