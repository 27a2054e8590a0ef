"""Adopting what Terraform built (issue 19, "Done when"): a stack applied from a
module WITHOUT notifyctl's tags -> `status` calls it not-ours and every changing
command refuses it -> `bootstrap --adopt --yes` -> everything ours, `bootstrap
--plan` nothing to do, `deploy-lambda` + `rollback` work -> the Terraform user adds
notifyctl's tags to their code (README "Adopting existing resources": the documented
way, so Terraform keeps the tags instead of removing them) -> `terraform plan` no
changes -> `terraform destroy` clean.

The untagged module is the export with every `tags` argument removed (built from
the same blocks, not edited as text): the names, documents and settings a careful
Terraform user would have written. Skips, with the reason, where terraform or the
provider mirror is missing; ~3-4 minutes, Terraform's own time dominating.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from emulator_configs import emulator_config
from terraform_cli import EMULATOR_AWS_ENV, Terraform, find_mirror, unavailable

from notifyctl.config.loader import load
from notifyctl.export import module as export_module
from notifyctl.export import terraform
from notifyctl.export.syntax import Attribute, Block, File

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))]

REPO = Path(__file__).resolve().parents[2]


def _without_tags(file: File) -> File:
    """The file as a Terraform user who never heard of notifyctl's tags writes it."""
    def strip(b: Block) -> Block:
        return replace(b, body=tuple(
            strip(i) if isinstance(i, Block) else i for i in b.body
            if not (isinstance(i, Attribute) and i.name == "tags")))
    return replace(file, blocks=tuple(strip(b) for b in file.blocks))


def _states(run: Any) -> dict[str, str]:
    status = json.loads(run("-o", "json", "status").stdout)
    return {f"{r['resource']} {r['name']}": r["state"] for r in status["resources"]}


@pytest.mark.timeout(900)
def test_a_terraform_built_stack_is_adopted_and_operated_without_either_undoing_the_other(
        cli: Any, emulator: Any, tmp_path: Path) -> None:
    prefix = f"tfa-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "notifyctl.yaml"
    config.write_text(emulator_config(emulator.endpoint, prefix, sender=f"{prefix}@example.com"),
                      encoding="utf-8")

    def run(*args: str) -> Any:
        return cli("--config", str(config), "--env", "local", "--endpoint-url",
                   emulator.endpoint, *args)

    module_dir = tmp_path / "module"
    run("-o", "json", "export", "terraform", "--out", str(module_dir)).json()
    built = terraform.build(load(str(config), "local")[0])
    tagged = export_module.render(built, export_module.HCL)
    assert tagged["main.tf"] == (module_dir / "main.tf").read_text(encoding="utf-8")
    untagged = replace(built, files=tuple(_without_tags(f) for f in built.files))
    for name, text in export_module.render(untagged, export_module.HCL).items():
        (module_dir / name).write_text(text, encoding="utf-8")
    assert "local.tags" not in (module_dir / "main.tf").read_text(encoding="utf-8")

    mirror = find_mirror()
    assert mirror is not None
    tf = Terraform.offline(module_dir, tmp_path, mirror, {**EMULATOR_AWS_ENV,
                                                          "AWS_REGION": "us-east-1"})
    endpoint = ["-var", f"endpoint_url={emulator.endpoint}"]
    with tf.applied(*endpoint):
        states = _states(run)
        # SES identities carry no tags; the account's suppression settings are nobody's
        assert {k for k, v in states.items() if v != "not-ours"} == {
            f"ses-identity {prefix}@example.com",
            "account-suppression account 123456789012 (us-east-1)"}, states
        refused = run("rollback")
        assert refused.exit_code == 1 and "bootstrap --adopt" in refused.stderr, refused.output

        adopted = run("-o", "json", "bootstrap", "--adopt", "--yes").json()
        assert adopted["conflicts"] == [] and adopted["pending_changes"] == 0, adopted
        assert set(_states(run).values()) == {"present"}
        plan = run("-o", "json", "bootstrap", "--plan").json()
        assert {step["action"] for step in plan} == {"unchanged"}, plan

        source = tmp_path / "lambda_src"
        shutil.copytree(REPO / "lambda_src", source)
        with (source / "book_notifier" / "handler.py").open("a", encoding="utf-8") as handler:
            handler.write("\n# release 2 (after adoption)\n")
        deployed = run("-o", "json", "deploy-lambda", "--source", str(source)).json()
        assert deployed["version"] == "2", deployed
        assert run("-o", "json", "rollback").json()["to_version"] == "1"

        # The documented hand-off: the Terraform code now declares notifyctl's tags (the
        # exported `local.tags`), so Terraform keeps what adopt added and changes nothing.
        for name, text in tagged.items():
            (module_dir / name).write_text(text, encoding="utf-8")
        tf.assert_no_changes(*endpoint)
    after = _states(run)
    # The account's suppression attributes are an account setting: never "missing".
    after.pop("account-suppression account 123456789012 (us-east-1)")
    assert set(after.values()) == {"missing"}
