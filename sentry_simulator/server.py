"""HTTP plumbing: a threaded standard-library server in front of `Simulator`.

HTTP/1.1 with keep-alive and Nagle off, because clients under test pool
connections: with HTTP/1.0 or Nagle's delay every request would pay for a
new connection or a 40 ms stall, and benchmarks would measure the simulator.
"""

from __future__ import annotations

import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .app import Simulator
from .messages import Request, Response, detail_response

__all__ = ["SimulatorServer", "create_server"]


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, simulator: Simulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The base URL clients configure as `sentryUrl`: prefix included, trailing slash."""
        host, port = self.server_address[:2]
        return f"http://{_url_host(str(host))}:{port}{self.simulator.prefix}/"


def create_server(simulator: Simulator, *, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """Binds now (port 0 picks a free port); call `serve_forever()` to start answering."""
    return SimulatorServer(simulator, host=host, port=port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "sentry-simulator"
    sys_version = ""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: one line per request would drown test output and slow benchmarks."""

    def _dispatch(self) -> None:
        request = self._read_request()
        try:
            response = self.server.simulator.handle(request)
        except Exception:  # noqa: BLE001 - a bug must answer 500 and be seen, not kill the connection
            traceback.print_exc(file=sys.stderr)
            response = detail_response(500, "Internal Error")
        self._write(response)

    def _read_request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return Request(
            method=self.command,
            path=parts.path or "/",
            query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            origin=f"http://{host}",
        )

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if response.body or response.status != 301:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
