"""Files a command writes at the user's request (--out, --appspec, --failed-out):
checked before any work starts, and never a directory created on the user's behalf.

A typo in a directory name should be an error naming the option, not a crash
after the upload (FileNotFoundError) nor a new directory tree somewhere.
"""

from __future__ import annotations

from pathlib import Path

from notifyctl.errors import UsageError


def check_output_file(path: Path | str | None, option: str) -> None:
    """UsageError (exit 2) unless `path` can be created or replaced as a file."""
    if path is None:
        return
    target = Path(path).expanduser()
    parent = target.parent
    if target.is_dir():
        raise UsageError(f"{option}: {target} is a directory; expected a file path")
    if not parent.exists():
        raise UsageError(f"{option}: the directory {parent} does not exist; expected a file "
                         "in an existing directory", hint=f"Create it first: mkdir -p {parent}")
    if not parent.is_dir():
        raise UsageError(f"{option}: {parent} is not a directory")
