"""The hand-off both ways: Terraform builds the stack from `notifyctl export terraform`,
notifyctl operates it, and neither undoes the other (issue 19's round trip).

terraform init (offline, from a local provider mirror) / apply on the session's
emulator -> `status` all present and ours -> `bootstrap --plan` nothing to do ->
`deploy-lambda` + `rollback` -> `terraform plan` no changes -> `publish-book
--wait` delivered -> `terraform destroy` clean. Skips, with the reason, where
terraform or the provider mirror is missing. Terraform dominates the run time:
each command loads the provider's schema, and the provider waits about 30 s for a
new SQS queue's attributes to settle (as it does on AWS).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from emulator_configs import emulator_config
from terraform_cli import EMULATOR_AWS_ENV, Terraform, find_mirror, unavailable

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))]

REPO = Path(__file__).resolve().parents[2]


def _states(status: dict[str, Any]) -> dict[str, str]:
    return {r["resource"]: r["state"] for r in status["resources"]}


@pytest.mark.timeout(900)
def test_terraform_round_trip_leaves_both_tools_in_agreement(cli: Any, emulator: Any,
                                                             tmp_path: Path) -> None:
    prefix = f"tf-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "notifyctl.yaml"
    # Its own sender too: `terraform destroy` deletes the SES identity it created.
    config.write_text(emulator_config(emulator.endpoint, prefix, sender=f"{prefix}@example.com"),
                      encoding="utf-8")

    def run(*args: str) -> Any:
        return cli("--config", str(config), "--env", "local", "--endpoint-url",
                   emulator.endpoint, *args)

    module = tmp_path / "module"
    exported = run("-o", "json", "export", "terraform", "--out", str(module)).json()
    assert (module / "main.tf").is_file() and (module / exported["package"]["file"]).is_file()

    mirror = find_mirror()
    assert mirror is not None
    tf = Terraform.offline(module, tmp_path, mirror, {**EMULATOR_AWS_ENV,
                                                      "AWS_REGION": "us-east-1"})
    endpoint = ["-var", f"endpoint_url={emulator.endpoint}"]
    with tf.applied(*endpoint):
        status = json.loads(run("-o", "json", "status").stdout)
        assert {r["state"] for r in status["resources"]} == {"present"}, _states(status)
        # every row is one resource, but the four roles' inline policies are their own
        assert len(status["resources"]) == len(exported["resources"]) - 4

        plan = run("-o", "json", "bootstrap", "--plan").json()
        assert {step["action"] for step in plan} == {"unchanged"}, plan

        source = tmp_path / "lambda_src"
        shutil.copytree(REPO / "lambda_src", source)
        with (source / "book_notifier" / "handler.py").open("a", encoding="utf-8") as handler:
            handler.write("\n# release 2 (the round trip's new code)\n")
        deployed = run("-o", "json", "deploy-lambda", "--source", str(source)).json()
        assert deployed["version"] == "2", deployed
        rolled = run("-o", "json", "rollback").json()
        assert rolled["to_version"] == "1", rolled

        # Live is back on version 1 while version 2 is the newest: without the
        # module's ignore_changes Terraform would move the alias (or upload code).
        tf.assert_no_changes(*endpoint)

        published = run("-o", "json", "publish-book", "--email", "reader@example.com",
                        "--title", "Dune", "--wait", "--timeout", "60").json()
        assert published["wait"]["sent"] == 1, published
    after = run("-o", "json", "status")
    states = _states(json.loads(after.stdout))
    # The account's suppression attributes are an account setting: never "missing".
    states.pop("account-suppression")
    assert set(states.values()) == {"missing"}, after.stdout
