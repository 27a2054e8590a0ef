"""One example (or a few) per command, shown at the end of its `--help`.

Kept apart from the commands so that adding an example touches no command module;
`commands.register_all` attaches them. A test checks that every command has one.
"""

from __future__ import annotations

import typer

EXAMPLES: dict[str, list[str]] = {
    "config show": ["notifyctl config show",
                    "notifyctl --env prod --region eu-west-2 config show -o json"],
    "bootstrap": ["notifyctl bootstrap --plan", "notifyctl --env dev bootstrap --yes",
                  "notifyctl --env prod bootstrap --adopt --plan"],
    "status": ["notifyctl status", "notifyctl --env prod status -o json"],
    "teardown": ["notifyctl teardown", "notifyctl --env dev teardown --yes --delete-data"],
    "publish-book": ["notifyctl publish-book --email jane@example.com --title Dune",
                     "notifyctl publish-book --count 1000 --rate 200 --wait",
                     "notifyctl publish-book --file books.jsonl --failed-out failed.jsonl",
                     "notifyctl publish-book --count 1000 --start-index 420   # resume"],
    "deploy-lambda": ["notifyctl deploy-lambda --plan",
                      "notifyctl deploy-lambda --source lambda_src --prune 5",
                      "notifyctl deploy-lambda --package-only --out build/notifier.zip",
                      "notifyctl --env prod deploy-lambda --strategy canary10-5m"],
    "versions": ["notifyctl versions", "notifyctl versions --prune 5"],
    "rollback": ["notifyctl rollback", "notifyctl rollback --to-version 3"],
    "logs": ["notifyctl logs --since 1h --by-request", "notifyctl logs -f",
             "notifyctl logs --request-id 1f2e3d4c -o json"],
    "doctor": ["notifyctl doctor", "notifyctl --env prod doctor --recipient jane@example.com "
                                   "--rate 20", "notifyctl doctor --check wiring -o json"],
    "trace": ["notifyctl trace bk-42", "notifyctl trace 6f1c2a7e-... --lines",
              "notifyctl --env prod trace bk-42 --since 3d -o json"],
    "demo": ["notifyctl demo", "notifyctl demo --canary"],
    "deployments list": ["notifyctl --env prod deployments list",
                         "notifyctl deployments list --limit 3 -o json"],
    "deployments show": ["notifyctl deployments show d-4Q1C2RZ3V"],
    "deployments watch": ["notifyctl deployments watch d-4Q1C2RZ3V",
                          "notifyctl deployments watch d-4Q1C2RZ3V --stop-on-interrupt"],
    "deployments stop": ["notifyctl deployments stop d-4Q1C2RZ3V"],
    "local start": ["notifyctl local start",
                    "notifyctl local start --port 0   # any free port, printed",
                    "notifyctl local start --ses-sandbox --enforce-iam all",
                    "notifyctl local start --fresh   # discard the saved state, start empty"],
    "local stop": ["notifyctl local stop", "notifyctl --endpoint-url http://127.0.0.1:4570 "
                                           "local stop",
                   "notifyctl local stop --timeout 60   # let running deliveries finish"],
    "local reset": ["notifyctl local reset", "notifyctl local reset --port 4570 -o json"],
    "local status": ["notifyctl local status", "notifyctl local status --port 4570 -o json"],
    "local outbox": ["notifyctl local outbox", "notifyctl local outbox --since 10m "
                                               "--to jane@example.com --limit 5"],
    "local ses verify": ["notifyctl local ses verify notifications@example.com"],
    "export terraform": ["notifyctl export terraform --out infra/",
                         "notifyctl --env prod export terraform --out infra/ --format json"],
    "local faults add": ["notifyctl local faults add ses SendEmail --lost-response --count 1",
                         "notifyctl local faults add ses SendEmail --error SendingPausedException",
                         "notifyctl local faults add sns PublishBatch --lost-response --count 1 "
                         "--all-clients",
                         "notifyctl local faults add dynamodb UpdateItem --latency 500 "
                         "--percent 20"],
    "local faults list": ["notifyctl local faults list", "notifyctl local faults list -o json"],
    "local faults clear": ["notifyctl local faults clear"],
    "failures list": ["notifyctl failures list", "notifyctl --env prod failures list -o json"],
    "failures show": ["notifyctl failures show 6f1c2d3e"],
    "failures redrive": ["notifyctl failures redrive --all --dry-run",
                         "notifyctl --env prod failures redrive --all --yes",
                         "notifyctl failures redrive 6f1c2d3e 9a8b7c6d"],
}


def epilog(path: str) -> str | None:
    lines = EXAMPLES.get(path)
    if not lines:
        return None
    # "\b": click keeps the paragraph's line breaks instead of re-wrapping it.
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def attach(app: typer.Typer, prefix: str = "") -> None:
    """Give every registered command without an epilog its examples."""
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        if info.epilog is None:
            info.epilog = epilog(f"{prefix}{name}")
    for group in app.registered_groups:
        if group.typer_instance is not None and group.name:
            attach(group.typer_instance, f"{prefix}{group.name} ")
