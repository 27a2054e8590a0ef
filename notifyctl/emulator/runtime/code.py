"""A function version's files on disk: its task root and its layers' `/opt`.

Both are extracted once per content (the directory name carries the hash) and
shared, read-only where the OS allows (see view.py), by every execution
environment of that version. Extraction goes to a temporary sibling and is
renamed into place, so two threads racing on a cold start never see half a tree.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path


def _safe_name(text: str) -> str:
    return text.replace("/", "_").replace("+", "-").replace("$", "").rstrip("=")[:24]


def _unzip(archive_bytes: bytes, dest: Path) -> None:
    """Extract into dest; a member escaping dest (zip-slip) is skipped, as unzip refuses it."""
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        for info in archive.infolist():
            if not (root / info.filename).resolve().is_relative_to(root):
                continue
            archive.extract(info, dest)


def _extract_once(target: Path, zips: Iterable[bytes]) -> Path:
    """Unzip `zips` in order (later files win, as layers do) into target, once."""
    if target.is_dir():  # only a complete tree is ever renamed into place
        return target
    tmp = target.with_name(target.name + f".tmp{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    for data in zips:
        _unzip(data, tmp)
    try:
        tmp.rename(target)
    except OSError:  # another thread won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def extract_code(name: str, version: str, code_sha256: str, code: bytes, root: Path) -> Path:
    """The task root: the version's zip unzipped into root/<name>/<version>-<sha>/."""
    return _extract_once(root / name / f"{_safe_name(version)}-{_safe_name(code_sha256)}", [code])


def extract_layers(layers: list[tuple[str, bytes]], root: Path) -> Path | None:
    """The environment's /opt: the layers (sha, zip) merged in order, or None without layers.

    As on Lambda, a later layer's file replaces an earlier one's at the same path.
    """
    if not layers:
        return None
    key = hashlib.sha256("|".join(sha for sha, _ in layers).encode()).hexdigest()[:24]
    return _extract_once(root / "layers" / key, [data for _, data in layers])
