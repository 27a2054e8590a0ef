"""Reproducible deployment packages of the notifier function.

The same source gives the same bytes, and so the same CodeSha256, on any machine
and any day: entries sorted, a fixed timestamp, fixed permissions, fixed
compression. Only the function's own package goes in (boto3 comes from the
Lambda runtime). Shared by `bootstrap` (create) and `deploy-lambda` (update).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from notifyctl.errors import UsageError

PACKAGE_NAME = "book_notifier"
HANDLER = f"{PACKAGE_NAME}.handler.handler"
# 1980-01-01 00:00:00, the earliest time a zip entry can carry.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# Entries are STORED, not deflated: deflate output depends on the zlib build
# (zlib, zlib-ng and Apple's differ byte-for-byte at the same level), so a
# compressed zip is only reproducible on machines that share a zlib. The
# package is a few small .py files, far below Lambda's 50 MB upload limit.
COMPRESSION = zipfile.ZIP_STORED
# UpdateFunctionCode with ZipFile takes at most 50 MB (before base64).
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
FILE_MODE = 0o644
INCLUDE_SUFFIXES = (".py", ".json", ".txt", ".html")
EXCLUDE_DIRS = {"__pycache__", "tests", "test", ".git", ".mypy_cache", ".pytest_cache"}
EXCLUDE_NAMES = {".env", ".DS_Store"}
EXCLUDE_SUFFIXES = (".pyc", ".pyo", ".swp", ".swo", "~", ".bak", ".orig", ".pem", ".key")


@dataclass(frozen=True)
class Package:
    data: bytes
    files: tuple[str, ...]
    source: Path

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256_b64(self) -> str:
        """The form Lambda reports as CodeSha256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode("ascii")

    def write(self, path: Path) -> None:
        path.write_bytes(self.data)


def default_source() -> Path:
    """The installed (or checked-out) `book_notifier` package directory."""
    spec = importlib.util.find_spec(PACKAGE_NAME)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"cannot find the {PACKAGE_NAME} package; pass --source DIR "
                         "(the lambda_src/ folder of a notifyctl checkout)")
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_source(source: Path | None) -> Path:
    """Accept the package dir itself or a folder that contains it (lambda_src/)."""
    if source is None:
        return default_source()
    source = source.expanduser().resolve()
    if (source / PACKAGE_NAME / "handler.py").is_file():
        return source / PACKAGE_NAME
    if (source / "handler.py").is_file():
        return source
    raise UsageError(f"--source: expected lambda_src/ or the {PACKAGE_NAME}/ package "
                     f"(with handler.py), got {source}")


def _included(rel: Path) -> bool:
    if any(part in EXCLUDE_DIRS or part.startswith(".") for part in rel.parts[:-1]):
        return False
    name = rel.name
    if name in EXCLUDE_NAMES or name.startswith(".") or name.endswith(EXCLUDE_SUFFIXES):
        return False
    if name.startswith("test_") or name == "conftest.py":
        return False
    return name.endswith(INCLUDE_SUFFIXES)


def collect(source: Path) -> list[tuple[str, Path]]:
    """(archive name, path) pairs, sorted by archive name.

    Symlinks (files or folders) are skipped: one could point outside the tree,
    at a secret, or make the package depend on the machine it is built on.
    """
    entries = []
    for folder, dirs, files in os.walk(source, followlinks=False):
        base = Path(folder)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
        for name in files:
            path = base / name
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(source)
            if _included(rel):
                entries.append(((Path(PACKAGE_NAME) / rel).as_posix(), path))
    return sorted(entries)


def build(source: Path | None = None) -> Package:
    src = resolve_source(source)
    entries = collect(src)
    if not any(name == f"{PACKAGE_NAME}/handler.py" for name, _ in entries):
        raise UsageError(f"{src}: no handler.py to package")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = COMPRESSION
            info.create_system = 3  # Unix, so external_attr means the same everywhere
            info.external_attr = (0o100000 | FILE_MODE) << 16
            # Normalise line endings: a Windows checkout must give the same bytes.
            data = path.read_bytes().replace(b"\r\n", b"\n")
            zf.writestr(info, data)
    return Package(buf.getvalue(), tuple(name for name, _ in entries), src)
