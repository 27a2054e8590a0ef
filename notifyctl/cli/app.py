"""The CLI: the root command with every command group joined together.

Each command module registers itself with `register(app)`; commands are thin and
forward to the library (`notifyctl.infra`, `notifyctl.release`, ...).
"""

from __future__ import annotations

from notifyctl.cli import commands
from notifyctl.cli.root import new_app

app = new_app()
commands.register_all(app)
