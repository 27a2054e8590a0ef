"""The emulator's HTTP server: moto's WSGI app behind HTTP/1.1 keep-alive.

Werkzeug's development server answers every request with `Connection: close`, so
each call from a function (three per delivery of book_notifier) paid a TCP connect
and a new server thread. This handler keeps the connection open: botocore's pooled
connections (in the functions and in the CLI) are reused, and one server thread
serves one connection for as long as the client keeps it.

Keeping a connection open needs the request body read to its end before the next
request line, so the handler reads it whole first (Content-Length) and hands the app a
buffer; the response is buffered too, and sent with its Content-Length. A chunked
request body, an error or a client asking for `Connection: close` ends
the connection as before. Idle connections close after IDLE_TIMEOUT_S (botocore
opens a new one when it finds its pooled connection closed).
"""

from __future__ import annotations

import io
import logging
import traceback
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler

IDLE_TIMEOUT_S = 60.0


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler (its environ keeps S3's underscored headers) with a
    WSGI dispatch that leaves the connection open."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S  # an idle keep-alive connection is closed after this

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if not chunked:
            try:
                length = max(int(self.headers.get("Content-Length") or 0), 0)
            except ValueError:
                length = 0
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length else b"")
        else:
            self.close_connection = True  # werkzeug's de-chunking reader, then close
        response: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Any:
            response["status"], response["headers"] = status, headers
            return lambda data: response.setdefault("early", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                payload = b"".join([*response.get("early", []), *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except ConnectionError:  # the app dropped the connection (faults: lost response)
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - answer 500 and log, like werkzeug
            self.log_error("error on request %s %s:\n%s", self.command, self.path,
                           traceback.format_exc())
            response = {"status": "500 Internal Server Error",
                        "headers": [("Content-Type", "text/plain")]}
            payload = b"Internal Server Error"
            self.close_connection = True
        self._write(response["status"], response["headers"], payload)

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        lines = [f"HTTP/1.1 {code} {reason}\r\n"]
        given = {key.lower() for key, _ in headers}
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                lines.append(f"{key}: {value}\r\n")
        no_body = self.command == "HEAD" or code < 200 or code in (204, 304)
        if not no_body:
            lines.append(f"Content-Length: {len(payload)}\r\n")
        elif self.command == "HEAD":
            lengths = [v for k, v in headers if k.lower() == "content-length"]
            if lengths:
                lines.append(f"Content-Length: {lengths[0]}\r\n")
        if self.close_connection:
            lines.append("Connection: close\r\n")
        if "server" not in given:
            lines.append(f"Server: {self.version_string()}\r\n")
        if "date" not in given:
            lines.append(f"Date: {self.date_time_string()}\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1") + (b"" if no_body else payload))
        if _REQUEST_LOG.isEnabledFor(logging.INFO):  # server.py: NOTIFYCTL_EMULATOR_VERBOSE
            self.log_request(code, len(payload))


_REQUEST_LOG = logging.getLogger("werkzeug")
