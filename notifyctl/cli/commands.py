"""The list of command modules. Each exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Order here is the order in `notifyctl --help`.
MODULES = [
    "notifyctl.cli.config_cmd",
    "notifyctl.cli.bootstrap_cmd",
    "notifyctl.cli.publish_cmd",
    "notifyctl.cli.deploy_cmd",
    "notifyctl.cli.deployments_cmd",
    "notifyctl.cli.logs_cmd",
    "notifyctl.cli.local_cmd",
    "notifyctl.cli.local_faults_cmd",
    "notifyctl.cli.local_ses_cmd",  # `local ses ...`: a subgroup of local
    "notifyctl.cli.demo_cmd",
    "notifyctl.cli.doctor_cmd",
    "notifyctl.cli.trace_cmd",
    "notifyctl.cli.export_cmd",
    "notifyctl.cli.failures_cmd",
    "notifyctl.cli.suppression_cmd",
]


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        importlib.import_module(name).register(app)
    from notifyctl.cli import examples

    examples.attach(app)
