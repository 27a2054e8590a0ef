"""`notifyctl export terraform` from the command line: files, package, format, examples.

`terraform fmt -check` and `terraform validate` run where terraform (and, for
validate, a local provider mirror) is installed; otherwise those tests skip.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from terraform_cli import Terraform, find_mirror, unavailable

from notifyctl.config.loader import load
from notifyctl.export import module as export_module
from notifyctl.export import terraform
from notifyctl.release.package import build

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "notifyctl" / "config" / "default.yaml"
EXAMPLE = REPO / "examples" / "terraform"
REGENERATE = ("notifyctl --config notifyctl/config/default.yaml export terraform "
              "--out examples/terraform")


def _export(cli: Any, out: Path, *args: str) -> dict[str, Any]:
    result = cli("--config", str(DEFAULT_CONFIG), "-o", "json", *args, "export", "terraform",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_export_writes_the_module_and_the_reproducible_package(cli: Any, tmp_path: Path) -> None:
    data = _export(cli, tmp_path / "tf")
    assert data["files"] == ["main.tf", "variables.tf", "outputs.tf"]
    package = build()
    written = (tmp_path / "tf" / terraform.PACKAGE_FILE).read_bytes()
    assert written == package.data and data["package"]["code_sha256"] == package.sha256_b64
    assert zipfile.ZipFile(io.BytesIO(written)).namelist() == list(package.files)
    main = (tmp_path / "tf" / "main.tf").read_text(encoding="utf-8")
    assert 'filename         = "${path.module}/book_notifier.zip"' in main


def test_json_format_is_the_same_module_as_tf_json(cli: Any, tmp_path: Path) -> None:
    data = _export(cli, tmp_path / "tf", "--env", "prod")
    assert data["format"] == "hcl"
    result = cli("--config", str(DEFAULT_CONFIG), "--env", "prod", "export", "terraform",
                 "--out", str(tmp_path / "js"), "--format", "json")
    assert result.exit_code == 0, result.output
    main = json.loads((tmp_path / "js" / "main.tf.json").read_text(encoding="utf-8"))
    assert sorted(f"{t}.{n}" for t, named in main["resource"].items() for n in named) == \
        sorted(data["resources"])
    assert main["resource"]["aws_ses_domain_dkim"]["sender"]["domain"] == \
        "${aws_ses_domain_identity.sender.domain}"


def test_exporting_over_the_other_format_is_refused(cli: Any, tmp_path: Path) -> None:
    _export(cli, tmp_path / "tf")
    result = cli("--config", str(DEFAULT_CONFIG), "export", "terraform", "--out",
                 str(tmp_path / "tf"), "--format", "json")
    assert result.exit_code == 2
    assert "main.tf" in result.stderr and "Traceback" not in result.output


def test_export_needs_no_credentials(cli: Any, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    _export(cli, tmp_path / "tf", "--env", "prod")  # its profile `prod` does not exist here


def test_export_makes_no_aws_calls_it_does_not_even_import_boto3(tmp_path: Path) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from notifyctl.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run(['--config', {str(DEFAULT_CONFIG)!r}, 'export', 'terraform', "
        f"'--out', {str(tmp_path / 'tf')!r}]) == 0\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'moto'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "", f"imported: {out.stdout.strip()}"


def test_examples_terraform_is_the_export_of_the_default_config() -> None:
    env, _ = load(str(DEFAULT_CONFIG), "local")
    for name, text in export_module.render(terraform.build(env), export_module.HCL).items():
        committed = (EXAMPLE / name).read_text(encoding="utf-8")
        assert committed == text, f"examples/terraform/{name} is stale: run `{REGENERATE}`"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
@pytest.mark.parametrize("name", ["local", "dev", "prod"])
def test_terraform_fmt_leaves_the_module_unchanged(cli: Any, tmp_path: Path, name: str) -> None:
    _export(cli, tmp_path, "--env", name)
    checked = Terraform.offline(tmp_path, tmp_path, tmp_path).run("fmt", "-check", "-diff",
                                                                  check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))
def test_terraform_validates_both_formats_of_a_domain_environment(cli: Any,
                                                                  tmp_path: Path) -> None:
    mirror = find_mirror()
    assert mirror is not None
    hcl_dir, json_dir = tmp_path / "hcl", tmp_path / "json"
    _export(cli, hcl_dir, "--env", "prod")
    result = cli("--config", str(DEFAULT_CONFIG), "--env", "prod", "export", "terraform",
                 "--out", str(json_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    tf = Terraform.offline(hcl_dir, tmp_path, mirror)
    tf.run("init", "-input=false", "-backend=false")
    # The provider is installed once; the JSON copy reuses it.
    shutil.copytree(hcl_dir / ".terraform", json_dir / ".terraform", symlinks=True)
    shutil.copy(hcl_dir / ".terraform.lock.hcl", json_dir)
    for workdir in (hcl_dir, json_dir):
        Terraform.offline(workdir, tmp_path, mirror).run("validate")
