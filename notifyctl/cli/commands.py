"""The list of command modules. Each exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Order here is the order in `notifyctl --help`.
MODULES = [
    "notifyctl.cli.config_cmd",
]


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        importlib.import_module(name).register(app)
