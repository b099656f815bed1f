"""A pass-through HTTP proxy in front of Vault that lets a set number of KV writes through, then
holds every later request: a run can then be killed exactly between two Vault writes. It can also
run another writer's real write just before each KV write it forwards, so that every
check-and-set the tool attempts really loses."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

__all__ = ["VaultGate", "vault_gate"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class VaultGate:
    def __init__(self, upstream: str, *, writes_allowed: int, before_write: Callable[[str], None] | None = None) -> None:
        self.upstream = upstream
        self.writes_allowed = writes_allowed
        self.before_write = before_write
        self.writes = 0
        self.held = threading.Event()  # set once a request is being held
        self.release = threading.Event()
        self._lock = threading.Lock()

    def admit(self, method: str, path: str) -> bool:
        """Whether to forward: once the allowed writes are spent, the caller is held, then dropped.

        A data write counts as it is admitted. A held request never reaches Vault: its sender is
        killed while it waits, and the write it carried must not land after the kill.
        """
        with self._lock:
            closed = self.writes >= self.writes_allowed
            if not closed and method in ("POST", "PUT") and "/data/" in path:
                self.writes += 1
        if closed:
            self.held.set()
            self.release.wait()
            return False
        if self.before_write is not None and method in ("POST", "PUT") and "/data/" in path:
            self.before_write(path)
        return True


def _handler(gate: VaultGate) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            if not gate.admit(self.command, self.path):
                self.close_connection = True
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
            answer = requests.request(self.command, gate.upstream + self.path, headers=headers, data=body, timeout=30)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Forward


@contextmanager
def vault_gate(
    upstream: str, *, writes_allowed: int, before_write: Callable[[str], None] | None = None
) -> Iterator[tuple[VaultGate, str]]:
    """The gate and its address; stopped (and every held request released) on exit."""
    gate = VaultGate(upstream, writes_allowed=writes_allowed, before_write=before_write)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gate))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gate, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        gate.release.set()
        server.shutdown()
        server.server_close()
