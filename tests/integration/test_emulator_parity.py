"""Issue 13's table, the Lambda half: one probe per row, made through boto3 as a user
would, each checking what AWS documents (docs/research: aws-behaviours.md)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from tests.integration.conftest import zip_source

pytestmark = pytest.mark.integration


def make_function(emulator: Any, source: str | dict[str, str], **config: Any) -> str:
    """Create a function (Runtime python3.11 unless given) and return its name."""
    files = {"app.py": source} if isinstance(source, str) else source
    name = emulator.unique("parity")
    spec: dict[str, Any] = {"FunctionName": name, "Runtime": "python3.11",
                            "Role": emulator.role_arn(), "Handler": "app.handler", "Timeout": 10,
                            "Code": {"ZipFile": zip_source(files)}}
    spec.update(config)
    emulator.client("lambda").create_function(**spec)
    emulator.wait_for_function(name)
    return name


def invoke(emulator: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[dict, Any]:
    resp = emulator.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kwargs)
    return resp, json.loads(resp["Payload"].read() or b"null")


def log_text(emulator: Any, group: str) -> str:
    events = emulator.client("logs").filter_log_events(logGroupName=group)["events"]
    return "".join(e["message"] for e in events)


# -- the runtime's view -------------------------------------------------------------------
IMPORTS = """
import importlib

def handler(event, context):
    importlib.import_module(event["module"])
    return "imported"
"""


@pytest.mark.parametrize("module", ["requests", "yaml", "notifyctl", "moto", "pytest"])
def test_the_emulators_own_libraries_are_not_importable(emulator: Any, module: str) -> None:
    name = make_function(emulator, f"import {module}\n\ndef handler(event, context):\n    pass\n")

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert f"No module named '{module}'" in body["errorMessage"]


def test_the_runtime_sdk_and_the_standard_library_are_importable(emulator: Any) -> None:
    name = make_function(emulator, IMPORTS)

    for module in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
                   "json", "sqlite3", "ctypes"):
        resp, body = invoke(emulator, name, {"module": module})
        assert "FunctionError" not in resp, (module, body)


@pytest.mark.parametrize(("runtime", "version"), [("python3.12", [3, 12]),
                                                   ("python3.13", [3, 13])])
def test_the_runtime_names_the_interpreter(emulator: Any, runtime: str,
                                           version: list[int]) -> None:
    source = ("import sys, itertools\n\ndef handler(event, context):\n"
              "    return {'version': list(sys.version_info[:2]),\n"
              "            'batched': hasattr(itertools, 'batched')}\n")
    name = make_function(emulator, source, Runtime=runtime)

    _, body = invoke(emulator, name)

    init_start = log_text(emulator, f"/aws/lambda/{name}").split("\n")[0]
    if body["version"] == version:  # installed here (pyenv, PATH)
        assert body["batched"] is (version >= [3, 12])
        assert "WARNING" not in init_start
    else:  # not installed: the emulator's Python, said loudly
        assert f"WARNING: {runtime} is not installed here" in init_start
        notes = emulator.status()["runtime"]["runtime_notes"]
        assert any(runtime in note for note in notes)


def test_a_runtime_the_emulator_cannot_run_fails_clearly(emulator: Any) -> None:
    name = make_function(emulator, {"index.js": "exports.handler = async () => 1;\n"},
                         Runtime="nodejs20.x", Handler="index.handler")

    resp, body = invoke(emulator, name)

    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidRuntime"
    assert "nodejs20.x" in body["errorMessage"]


LAYER_USER = """
import os
import layer_mod

def handler(event, context):
    return {"value": layer_mod.VALUE, "opt": sorted(os.listdir(os.path.dirname(
        os.path.dirname(layer_mod.__file__))))}
"""


def test_layers_are_under_opt_and_on_the_path_later_layers_win(emulator: Any) -> None:
    lam = emulator.client("lambda")
    first = lam.publish_layer_version(
        LayerName=emulator.unique("layer"),
        Content={"ZipFile": zip_source({"python/layer_mod.py": "VALUE = 'first'\n"})})
    second = lam.publish_layer_version(
        LayerName=emulator.unique("layer"),
        Content={"ZipFile": zip_source({"python/layer_mod.py": "VALUE = 'second'\n"})})
    name = make_function(emulator, LAYER_USER,
                         Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])

    resp, body = invoke(emulator, name)

    assert "FunctionError" not in resp, body
    assert body["value"] == "second"
    assert body["opt"] == ["python"]


FILES = """
import os, tempfile

def handler(event, context):
    out = {"tmpdir": tempfile.gettempdir()}
    path = "/tmp/notifyctl-parity-probe"
    out["seen_before"] = os.path.exists(path)
    with open(path, "w") as fh:
        fh.write(event["tag"])
    try:
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as fh:
            fh.write("x")
        out["task_root"] = "writable"
    except OSError as exc:
        out["task_root"] = exc.strerror
    return out
"""


def test_tmp_is_private_to_each_environment_and_the_task_root_read_only(emulator: Any) -> None:
    if emulator.status()["runtime"]["sandbox"] == "off":
        pytest.skip("the emulator runs without a sandbox here (documented difference)")
    first = make_function(emulator, FILES)
    second = make_function(emulator, FILES)
    tag = uuid.uuid4().hex

    _, one = invoke(emulator, first, {"tag": tag})
    _, two = invoke(emulator, second, {"tag": tag})

    assert emulator.status()["runtime"]["sandbox"].startswith("private /tmp")
    assert one["tmpdir"] == "/tmp"
    assert one["seen_before"] is False and two["seen_before"] is False
    assert one["task_root"] == two["task_root"] == "Read-only file system"
    assert not os.path.exists("/tmp/notifyctl-parity-probe")  # the host's /tmp untouched
