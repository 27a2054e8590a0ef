"""Small parts of the emulator: version guard, control helpers, runtime contract."""

from __future__ import annotations

import io
import json
import os
import random
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from notifyctl.emulator import control, patches
from notifyctl.emulator.outbox import AcceptedEmail
from notifyctl.emulator.runtime.code import extract_code, extract_layers
from notifyctl.emulator.runtime.environment import new_stream_name
from notifyctl.emulator.runtime.interpreters import InterpreterFinder, python_version_of
from notifyctl.emulator.runtime.pool import FunctionSpec, LoggingConfig
from notifyctl.emulator.runtime.view import (
    RUNTIME_SDK,
    ProcessView,
    build_runtime_sdk,
    function_environment,
)
from notifyctl.errors import OperationError

pytestmark = pytest.mark.unit

SPEC = FunctionSpec("123456789012", "eu-west-1", "fn", "3",
                    "arn:aws:lambda:eu-west-1:123456789012:function:fn", "pkg.mod.handler",
                    "python3.11", 256, 9, (("TABLE_NAME", "t"), ("AWS_REGION", "spoofed")), "c2hh")


@pytest.mark.parametrize("version", ["5.2.0", "5.2.5", "5.2.10.dev1"])
def test_supported_moto_versions_pass(version: str) -> None:
    assert patches.check_version(version) == version


@pytest.mark.parametrize("version", ["5.1.9", "5.3.0", "6.0.0", "4.2.14"])
def test_other_moto_versions_are_a_clear_error(version: str) -> None:
    with pytest.raises(patches.MotoVersionError, match=r">=5\.2,<5\.3.*" + re.escape(version)):
        patches.check_version(version)


def test_the_installed_moto_is_supported() -> None:
    patches.check_version()


VIEW = ProcessView(task_root="/task", sdk_dir="/sdk", opt_dir=None, tmp_mb=512, sandbox=False)


def test_function_environment_follows_the_contract_and_reserved_names_win() -> None:
    env = function_environment(SPEC, VIEW, stream="2024/01/02/[3]abc", tmpdir="/tmp/x",
                               endpoint="http://127.0.0.1:5000")

    assert env["TABLE_NAME"] == "t"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "pkg.mod.handler"
    assert env["LAMBDA_TASK_ROOT"] == "/task"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "3"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "2024/01/02/[3]abc"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["TMPDIR"] == "/tmp/x"


def test_stream_names_look_like_aws() -> None:
    name = new_stream_name("$LATEST", when=0)

    assert re.fullmatch(r"1970/01/01/\[\$LATEST\][0-9a-f]{32}", name)
    assert new_stream_name("1") != new_stream_name("1")


def test_code_is_extracted_once_and_paths_cannot_escape(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("pkg/mod.py", "X = 1\n")
        archive.writestr("../escape.py", "bad\n")
        archive.writestr("pkg/../../escape2.py", "bad\n")

    first = extract_code("fn", "$LATEST", "c2hh", buf.getvalue(), tmp_path / "code")
    second = extract_code("fn", "$LATEST", "c2hh", buf.getvalue(), tmp_path / "code")

    assert first == second
    assert (first / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert sorted(p.name for p in (tmp_path / "code" / "fn").rglob("*.py")) == ["mod.py"]


def test_layers_merge_in_order_later_layers_win(tmp_path: Path) -> None:
    def layer(files: dict[str, str]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return buf.getvalue()

    opt = extract_layers([("a", layer({"python/shared.py": "A", "python/a.py": "a"})),
                          ("b", layer({"python/shared.py": "B"}))], tmp_path)

    assert opt is not None
    assert (opt / "python" / "shared.py").read_text() == "B"
    assert (opt / "python" / "a.py").read_text() == "a"
    assert extract_layers([], tmp_path) is None


def test_the_runtime_sdk_holds_only_what_lambda_ships(tmp_path: Path) -> None:
    sdk = build_runtime_sdk(tmp_path / "sdk")

    names = {p.name for p in sdk.iterdir()}
    packages = {n for n in names if not n.endswith(".dist-info")}
    assert {"boto3", "botocore"} <= packages
    assert packages <= {name for name, _ in RUNTIME_SDK} | {"six.py"}
    assert any(n.startswith("boto3-") and n.endswith(".dist-info") for n in names)


def test_the_runtime_sdk_links_only_directories(tmp_path: Path) -> None:
    # The sandbox binds back only directories under its private /tmp; a link to a
    # file of a venv under /tmp (as in CI's mktemp venv) would dangle: copy files.
    sdk = build_runtime_sdk(tmp_path / "sdk")

    assert all(p.resolve().is_dir() for p in sdk.iterdir() if p.is_symlink())
    assert (sdk / "six.py").is_file() and not (sdk / "six.py").is_symlink()


def test_logging_config_reaches_the_environment() -> None:
    spec = FunctionSpec(**{**SPEC.__dict__, "logging": LoggingConfig("JSON", "DEBUG", "WARN",
                                                                     "/custom/group")})

    env = function_environment(spec, VIEW, stream="s", tmpdir="/t", endpoint="http://e")

    assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert env["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/custom/group"


@pytest.mark.parametrize(("runtime", "expected"), [
    ("python3.12", (3, 12)), ("python3.9", (3, 9)), ("nodejs20.x", None), ("java21", None),
    ("provided.al2023", None), ("", None),
])
def test_python_runtimes_are_recognised(runtime: str, expected: tuple[int, int] | None) -> None:
    assert python_version_of(runtime) == expected


def test_a_missing_python_falls_back_to_the_host_loudly(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))

    found = InterpreterFinder(fallback="/host/python").find("python3.99")

    assert found is not None and not found.exact and found.path == "/host/python"
    assert found.note is not None and "python3.99 is not installed" in found.note
    assert InterpreterFinder().find("nodejs20.x") is None


def test_alias_weights_pick_versions_in_proportion() -> None:
    from notifyctl.emulator.backends import MotoBackend

    backend = MotoBackend(rng=random.Random(7))
    alias = SimpleNamespace(function_version="1",
                            routing_config={"AdditionalVersionWeights": {"2": 0.25}})

    picks = [backend._pick_version(alias) for _ in range(4000)]

    assert 0.2 < picks.count("2") / len(picks) < 0.3
    assert set(picks) == {"1", "2"}


@pytest.mark.parametrize(("function", "qualifier", "expected"), [
    ("fn", None, ("fn", None)),
    ("fn:live", None, ("fn", "live")),
    ("fn", "2", ("fn", "2")),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn", "live", ("fn", "live")),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn:3", None, ("fn", "3")),
])
def test_function_names_arns_and_qualifiers(function: str, qualifier: str | None,
                                            expected: tuple[str, str | None]) -> None:
    from notifyctl.emulator.backends import split_function

    assert split_function(function, qualifier) == expected


def test_state_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert control.state_root() == tmp_path / "notifyctl"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert control.state_root() == Path.home() / ".local" / "state" / "notifyctl"


def test_endpoint_for_any_interface_connects_to_loopback() -> None:
    assert control.endpoint_for("0.0.0.0", 4566) == "http://127.0.0.1:4566"
    assert control.endpoint_for("127.0.0.1", 5000) == "http://127.0.0.1:5000"


def test_wait_ready_gives_up_at_the_deadline_without_real_sleeping() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(OperationError, match="did not answer"):
        control.wait_ready(f"http://127.0.0.1:{control.free_port()}", timeout=1.0,
                           sleep=sleep, clock=lambda: now[0])
    assert slept and max(slept) <= 0.1


def test_a_corrupt_record_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "emulator-4566.json").write_text("{not json")
    assert control._read_record(tmp_path / "emulator-4566.json") is None


def test_emails_round_trip_to_json_with_a_from_key() -> None:
    email = AcceptedEmail.from_json({"message_id": "m", "source": "a@x.com", "to": ["b@y.org"],
                             "subject": "s", "text": "t", "html": None, "time": "T"})

    data = email.to_dict()

    assert data["from"] == "a@x.com" and email.from_ == "a@x.com"
    assert json.loads(json.dumps(data))["to"] == ["b@y.org"]


FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
TOPIC = "arn:aws:sns:us-east-1:123456789012:books"


def statement(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": FN + ":live",
        "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC}},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(("st", "resource", "allowed"), [
    (statement(), FN + ":live", True),
    (statement(), FN, False),  # a permission is per qualifier
    (statement(Resource=FN), FN, True),
    (statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:*:other"}}),
     FN + ":live", False),
    (statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:*:*"}}),
     FN + ":live", True),
    (statement(Principal={"Service": "events.amazonaws.com"}), FN + ":live", False),
    (statement(Action="lambda:GetFunction"), FN + ":live", False),
    (statement(Effect="Deny"), FN + ":live", False),
    (statement(Condition={"StringEquals": {"AWS:SourceAccount": "999999999999"}}),
     FN + ":live", False),
])
def test_resource_policy_statements(st: dict[str, object], resource: str, allowed: bool) -> None:
    from notifyctl.emulator.backends import _allows

    assert _allows(st, resource, "sns.amazonaws.com", TOPIC, "123456789012") is allowed


def test_the_emulator_process_gets_none_of_the_users_aws_settings() -> None:
    from notifyctl.emulator.control import emulator_environment

    env = emulator_environment({"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAREAL",
                                "AWS_SECRET_ACCESS_KEY": "real", "AWS_SESSION_TOKEN": "t",
                                "AWS_ENDPOINT_URL": "https://x", "PATH": "/bin", "HOME": "/h"},
                               {"NOTIFYCTL_EMULATOR_RETRY_SCALE": "0.5"})
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert "AWS_ENDPOINT_URL" not in env
    assert env["AWS_ACCESS_KEY_ID"] == "test" and env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert env["PATH"] == "/bin" and env["NOTIFYCTL_EMULATOR_RETRY_SCALE"] == "0.5"
