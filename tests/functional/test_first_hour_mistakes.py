"""Issue 14: a user's mistake is exit 2 with one line naming the value and what was
expected, never "This is a bug in notifyctl"."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.functional


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["--endpoint-url", "127.0.0.1:45123"], {}, "--endpoint-url: expected a URL starting "
                                                    "with http:// or https://, got '127.0.0.1:45123'"),
        (["--endpoint-url", "http://127.0.0.1:99999"], {},
         "--endpoint-url: expected a port from 1 to 65535, got 'http://127.0.0.1:99999'"),
        ([], {"AWS_ENDPOINT_URL": "notaurl"},
         "AWS_ENDPOINT_URL: expected a URL starting with http:// or https://, got 'notaurl'"),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["publish-book"], ["config", "show"]])
def test_a_bad_endpoint_is_exit_2_naming_it(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                            args: list[str], environ: dict[str, str],
                                            expected: str, command: list[str]) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = cli(*args, *command)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == f"error: {expected}"
    assert "bug" not in result.output


def test_a_bad_endpoint_in_the_config_names_the_key(cli: Any, tmp_path: Any) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("environments:\n  local:\n    endpoint_url: http://127.0.0.1:70000\n")
    result = cli("--config", str(cfg), "status")
    assert result.exit_code == 2
    assert "environments.local.endpoint_url: expected a port from 1 to 65535" in result.stderr


class _WebPage(http.server.BaseHTTPRequestHandler):
    """A plain web server: 200 and an HTML page for everything."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>Welcome to my blog</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_endpoint_that_is_not_aws_is_one_actionable_line(cli: Any, web_server: str) -> None:
    result = cli("--endpoint-url", web_server, "publish-book")
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {web_server} did not answer like an AWS API")
    assert "bug" not in result.output and "KeyError" not in result.output


def test_config_show_prints_effective_values_as_json(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                     repo_config: Any) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    result = cli("-o", "json", "config", "show", "--endpoint-url", "http://127.0.0.1:4570")
    data = json.loads(result.stdout)
    assert data["region"] == "ap-south-1"
    assert data["endpoint_url"] == "http://127.0.0.1:4570"
    assert data["overridden"]["region"] == {"file": "us-east-1", "effective": "ap-south-1"}
    assert data["profile"] is None


def test_config_show_text_says_null_and_a_real_path(cli: Any, tmp_path: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    monkeypatch.chdir(tmp_path)  # outside the repository: the packaged copy
    result = cli("--region", "eu-west-2", "config", "show")
    assert "profile: null" in result.stdout and "None" not in result.stdout
    assert "region: eu-west-2  (file: us-east-1)" in result.stdout
    path = result.stdout.splitlines()[0].split("(")[1].rstrip(")")
    assert Path(path).is_file()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """Accepts connections, never answers."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_endpoint_that_never_answers_gives_up_after_the_read_timeout(
        cli: Any, silent_endpoint: str) -> None:
    result = cli("--endpoint-url", silent_endpoint, "--read-timeout", "1", "publish-book")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: AWS did not answer in time")
    assert silent_endpoint.split("//")[1] in result.stderr
