"""The deployment zip is reproducible and holds only the function's own files."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from release_helpers import source_tree

from notifyctl.errors import UsageError
from notifyctl.release.package import FIXED_DATE_TIME, HANDLER, build, resolve_source

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return source_tree(tmp_path / "a")


def add_clutter(pkg: Path) -> None:
    (pkg / "__pycache__").mkdir(exist_ok=True)
    (pkg / "__pycache__" / "handler.cpython-312.pyc").write_bytes(b"\x00junk")
    (pkg / "handler.pyc").write_bytes(b"\x00junk")
    (pkg / "tests").mkdir(exist_ok=True)
    (pkg / "tests" / "test_handler.py").write_text("def test(): pass\n")
    (pkg / "test_inline.py").write_text("def test(): pass\n")
    (pkg / "conftest.py").write_text("\n")
    (pkg / ".env").write_text("SECRET=1\n")
    (pkg / "handler.py~").write_text("backup\n")
    (pkg / ".handler.py.swp").write_bytes(b"swap")
    (pkg / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (pkg / ".git").mkdir(exist_ok=True)
    (pkg / ".git" / "config").write_text("[core]\n")


def test_two_builds_of_the_same_tree_are_byte_identical(src: Path) -> None:
    assert build(src).data == build(src).data


def test_a_copy_elsewhere_with_new_mtimes_and_modes_gives_the_same_bytes(
        src: Path, tmp_path: Path) -> None:
    first = build(src)
    other = tmp_path / "somewhere" / "else" / "checkout"
    shutil.copytree(src, other)
    for path in other.rglob("*"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
        if path.is_file():
            path.chmod(0o755)
    add_clutter(other / "book_notifier")
    second = build(other)
    assert second.data == first.data
    assert second.sha256_b64 == first.sha256_b64


def test_windows_line_endings_do_not_change_the_package(src: Path, tmp_path: Path) -> None:
    other = tmp_path / "crlf"
    shutil.copytree(src, other)
    for path in other.rglob("*.py"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert build(other).data == build(src).data


def test_the_zip_holds_no_pycache_tests_or_secrets(src: Path) -> None:
    add_clutter(src / "book_notifier")
    package = build(src)
    names = zipfile.ZipFile(__import__("io").BytesIO(package.data)).namelist()
    assert "book_notifier/handler.py" in names and "book_notifier/__init__.py" in names
    for name in names:
        assert "__pycache__" not in name and "/tests/" not in name
        assert not name.endswith((".pyc", "~", ".swp", ".pem")), name
        assert "/." not in name and "test_" not in name and "conftest" not in name
    assert names == sorted(names) == list(package.files)


def test_symlinks_are_left_out(src: Path, tmp_path: Path) -> None:
    secret = tmp_path / "credentials.txt"
    secret.write_text("aws_secret_access_key=x\n")
    (src / "book_notifier" / "leak.txt").symlink_to(secret)
    (src / "book_notifier" / "linked").symlink_to(tmp_path, target_is_directory=True)
    assert not any("leak" in n or "linked" in n for n in build(src).files)


def test_entries_have_fixed_time_mode_and_no_compression_variance(src: Path) -> None:
    import io

    with zipfile.ZipFile(io.BytesIO(build(src).data)) as zf:
        assert zf.testzip() is None
        for info in zf.infolist():
            assert info.date_time == FIXED_DATE_TIME
            assert (info.external_attr >> 16) & 0o777 == 0o644
            assert info.compress_type == zipfile.ZIP_STORED


def test_sha256_is_the_form_lambda_reports(src: Path) -> None:
    package = build(src)
    digest = hashlib.sha256(package.data).digest()
    assert package.sha256_b64 == base64.b64encode(digest).decode()
    assert package.size == len(package.data)


def test_source_may_be_lambda_src_or_the_package_itself(src: Path) -> None:
    assert resolve_source(src) == resolve_source(src / "book_notifier")
    assert build(src).data == build(src / "book_notifier").data


def test_a_source_without_handler_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--source"):
        build(tmp_path)


def test_handler_contract() -> None:
    assert HANDLER == "book_notifier.handler.handler"


def test_the_default_source_is_found_through_imports_like_an_installed_wheel(
        src: Path, tmp_path: Path) -> None:
    # A wheel installs book_notifier next to notifyctl in site-packages; the
    # default source is found by import, not relative to a checkout.
    site = tmp_path / "site"
    shutil.copytree(src / "book_notifier", site / "book_notifier")
    code = ("from notifyctl.release.package import build, default_source;"
            "print(default_source()); print(build().sha256_b64)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=True).stdout.split()
    assert Path(out[0]) == site / "book_notifier"
    assert out[1] == build(src).sha256_b64
