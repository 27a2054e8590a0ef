"""Which interpreter runs a function: the one its `Runtime` names, when installed.

Lambda runs `python3.12` code on Python 3.12. The emulator looks for that exact
minor version, in this order:

1. pyenv's installed versions (`$PYENV_ROOT/versions/3.12.*/bin/python3.12`,
   newest patch release first; the real binary, not pyenv's shim, which costs a
   shell and a `pyenv` call at every cold start);
2. `python3.12` on PATH (pyenv shims skipped for the reason above);
3. otherwise the emulator's own interpreter, with `exact=False` and a note that the
   emulator says once, loudly: in the environment's INIT_START line and in
   /_notifyctl/status (`local status`, bootstrap/deploy-lambda output read it).

A runtime the emulator cannot run (nodejs, java, dotnet, ruby, provided, ...) is
`None` here; the runtime fails its invocations with `Runtime.InvalidRuntime`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

_PYTHON_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Interpreter:
    """The interpreter a runtime maps to on this machine."""

    runtime: str  # "python3.12"
    path: str
    version: tuple[int, int]
    exact: bool  # False: the emulator's own Python stands in for the named one

    @property
    def note(self) -> str | None:
        """The one loud sentence when the named Python is missing, else None."""
        if self.exact:
            return None
        have = f"{self.version[0]}.{self.version[1]}"
        return (f"{self.runtime} is not installed here: running on the emulator's Python {have} "
                f"(install {self.runtime} with pyenv or put it on PATH)")


def python_version_of(runtime: str) -> tuple[int, int] | None:
    """(3, 12) for "python3.12"; None for a runtime that is not CPython."""
    match = _PYTHON_RUNTIME.match(runtime or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _pyenv_candidates(version: tuple[int, int]) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if not root.is_dir():
        return []
    minor = f"{version[0]}.{version[1]}"
    found = []
    for entry in root.iterdir():
        parts = entry.name.split(".")
        if entry.name.startswith(minor + ".") and len(parts) == 3 and parts[2].isdigit():
            found.append((int(parts[2]), entry / "bin" / f"python{minor}"))
    return [path for _, path in sorted(found, reverse=True) if path.is_file()]


def _path_candidate(version: tuple[int, int]) -> Path | None:
    found = shutil.which(f"python{version[0]}.{version[1]}")
    if found is None or "shims" in Path(found).parts:
        return None
    return Path(found)


def _reports(path: Path, version: tuple[int, int]) -> bool:
    """Whether `path` runs and is that minor version (a broken install is skipped)."""
    try:
        out = subprocess.run([str(path), "-I", "-S", "-c",
                              "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.split() == [str(version[0]), str(version[1])]


class InterpreterFinder:
    """Finds (once per runtime, then cached) the interpreter for a `Runtime` value."""

    def __init__(self, fallback: str = sys.executable) -> None:
        self._fallback = fallback
        self._cache: dict[str, Interpreter | None] = {}
        self._lock = threading.Lock()

    def find(self, runtime: str) -> Interpreter | None:
        with self._lock:
            if runtime not in self._cache:
                self._cache[runtime] = self._search(runtime)
            return self._cache[runtime]

    def _search(self, runtime: str) -> Interpreter | None:
        version = python_version_of(runtime)
        if version is None:
            return None
        host = (sys.version_info[0], sys.version_info[1])
        if version == host:
            return Interpreter(runtime, self._fallback, host, exact=True)
        candidates = _pyenv_candidates(version)
        on_path = _path_candidate(version)
        if on_path is not None:
            candidates.append(on_path)
        for path in candidates:
            if _reports(path, version):
                return Interpreter(runtime, str(path), version, exact=True)
        return Interpreter(runtime, self._fallback, host, exact=False)
