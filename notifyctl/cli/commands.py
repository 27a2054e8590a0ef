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
]


# Commands that must start fast (scripts run them in loops; benchmarks/bench_logs.py
# times `logs` against awslogs), each with the one module that registers it. When
# argv names one, `main.run` registers that module alone: importing every command
# module and building every command's options costs ~0.15 s of CPU per start.
# Its `--help`, options and errors are the same (a test compares them).
SOLO = {"logs": "notifyctl.cli.logs_cmd"}


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        importlib.import_module(name).register(app)
    _attach_examples(app)


def register_solo(app: typer.Typer, command: str) -> None:
    """Register only `command`, one of SOLO, as `register_all` would."""
    importlib.import_module(SOLO[command]).register(app)
    _attach_examples(app)


def _attach_examples(app: typer.Typer) -> None:
    from notifyctl.cli import examples

    examples.attach(app)
