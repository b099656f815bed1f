"""A real OpenBao dev server with a file audit device, and counts of the tool's KV calls from it.

OpenBao refuses to enable audit devices through its API, so the device is
declared in a config file given to `bao server -dev -config=...`. The audit log
records every request the server answered, which makes "Vault reads and
writes per run" a count taken outside the tool.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from devenv.openbao import OpenBaoServer, bao_binary, free_port

__all__ = ["AuditLog", "VaultCounts", "audited_dev_server", "count_kv_calls"]

_AUDIT_CONFIG = """\
audit "file" "bench" {{
  options {{
    file_path = "{path}"
  }}
}}
"""
# KV v2 operations that create a new version or change metadata.
_WRITE_OPERATIONS = frozenset({"create", "update", "patch", "delete"})


@dataclass(frozen=True)
class VaultCounts:
    """KV reads and writes under one mount; `other` counts every other request (mount and capability checks)."""

    reads: int
    writes: int
    other: int


def count_kv_calls(lines: list[str], *, mount: str) -> VaultCounts:
    """Count the `request` entries of an audit log window in which only the tool talked to Vault."""
    reads = writes = other = 0
    prefix = mount.strip("/") + "/"
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("type") != "request":
            continue
        request = entry.get("request") or {}
        path = str(request.get("path", ""))
        operation = request.get("operation")
        if path.startswith(prefix) and operation == "read":
            reads += 1
        elif path.startswith(prefix) and operation in _WRITE_OPERATIONS:
            writes += 1
        else:
            other += 1
    return VaultCounts(reads=reads, writes=writes, other=other)


@dataclass
class AuditLog:
    path: Path

    def mark(self) -> int:
        """Where the log ends now; pass it to `since` after the run."""
        return self.path.stat().st_size if self.path.exists() else 0

    def since(self, offset: int) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(offset)
            return log.read().decode().splitlines()


@contextmanager
def audited_dev_server() -> Iterator[tuple[OpenBaoServer, AuditLog]]:
    """`bao server -dev` with a file audit device; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="bench-openbao-") as tmp:
        audit = AuditLog(Path(tmp) / "audit.log")
        config = Path(tmp) / "audit.hcl"
        config.write_text(_AUDIT_CONFIG.format(path=audit.path))
        port = free_port()
        token = f"root-{secrets.token_hex(12)}"
        log_path = Path(tmp) / "server.log"
        argv = [
            bao_binary(), "server", "-dev", f"-dev-root-token-id={token}",
            f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token", f"-config={config}",
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = OpenBaoServer(
            address=f"http://127.0.0.1:{port}", root_token=token, process=process, log_path=log_path
        )
        try:
            _wait_until_ready(server)
            yield server, audit
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(server: OpenBaoServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"bao server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if requests.get(f"{server.address}/v1/sys/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"bao server at {server.address} did not become ready:\n{server.log()}")
