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


def _is_data_write(method: str, path: str) -> bool:
    return method in ("POST", "PUT") and "/data/" in path


class VaultGate:
    def __init__(self, upstream: str, *, writes_allowed: int, before_write: Callable[[str], None] | None = None) -> None:
        self.upstream = upstream
        self.writes_allowed = writes_allowed
        self.before_write = before_write
        self.writes = 0  # data writes admitted and not refused
        self._in_flight = 0  # data writes admitted whose answer has not come back
        # Set once a request is held while no admitted write is still in flight: exactly
        # `writes_allowed` writes have then landed, and nothing else will.
        self.held = threading.Event()
        self.release = threading.Event()
        self._changed = threading.Condition()

    def admit(self, method: str, path: str) -> bool:
        """Whether to forward: once the allowed writes are spent, the caller is held, then dropped.

        A data write counts as it is admitted, and stops counting if Vault refuses it (a
        check-and-set that finds the path taken changes nothing): a held request is let through
        after all if that frees a place. A request still held when the gate is released never
        reaches Vault: its sender was killed while it waited, and the write it carried must not
        land after the kill.
        """
        with self._changed:
            while self.writes >= self.writes_allowed:
                if self._in_flight == 0:
                    self.held.set()
                if self.release.is_set():
                    return False
                self._changed.wait(0.05)
            if _is_data_write(method, path):
                self.writes += 1
                self._in_flight += 1
        if self.before_write is not None and _is_data_write(method, path):
            self.before_write(path)
        return True

    def answered(self, method: str, path: str, status: int) -> None:
        """An admitted request came back; a refused data write gives its place back."""
        if not _is_data_write(method, path):
            return
        with self._changed:
            self._in_flight -= 1
            if status >= 300:
                self.writes -= 1
            self._changed.notify_all()


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
            gate.answered(self.command, self.path, answer.status_code)
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
