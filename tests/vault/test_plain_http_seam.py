"""The requests and urllib3 internals that `vault/_plain_http.py` relies on, pinned.

The cheap drift reads and publish writes reach past requests' public API. These tests fail on a
requests or urllib3 upgrade that renames or reshapes what it uses, before a
user's run would: a plain write must fail as the session's own request fails,
so that the same Vault error reaches the user. The real-server behaviour is in
test_vault_failures.py.
"""

from __future__ import annotations

import inspect
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import hvac
import hvac.exceptions
import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy

from devenv.openbao import OpenBaoServer, free_port
from sentry_dsn_sync.config import TokenAuth, VaultSettings
from sentry_dsn_sync.vault import _plain_http, connect
from sentry_dsn_sync.vault._error_translation import CallSite, translate
from sentry_dsn_sync.vault._plain_http import NotPlain, PlainHttp, session_pool

URL = "https://vault.example.com:8200/v1/secret/data/x"


def test_the_adapter_still_picks_a_pool_from_a_request_and_its_tls_settings() -> None:
    parameters = list(inspect.signature(HTTPAdapter.get_connection_with_tls_context).parameters)

    assert parameters[:3] == ["self", "request", "verify"]
    assert {"proxies", "cert"} <= set(parameters)


def test_the_pool_carries_the_sessions_tls_settings_and_is_the_one_its_adapter_keeps() -> None:
    session = requests.Session()
    session.verify = "/etc/ssl/certs/ca-certificates.crt"
    pool = session_pool(session, URL)

    assert isinstance(pool, urllib3.HTTPSConnectionPool)
    assert (pool.host, pool.port) == ("vault.example.com", 8200)
    assert pool.ca_certs == session.verify
    assert pool.cert_reqs in ("CERT_REQUIRED", ssl.CERT_REQUIRED)
    assert session_pool(session, URL) is pool, "the pool manager keys its pools by origin and TLS settings"

    session.verify = False
    unverified = session_pool(session, URL)
    assert unverified is not pool
    assert unverified.cert_reqs in ("CERT_NONE", ssl.CERT_NONE)


def test_select_proxy_still_answers_per_scheme_and_host() -> None:
    assert select_proxy(URL, {"https": "http://proxy:3128"}) == "http://proxy:3128"
    assert select_proxy(URL, {"http": "http://proxy:3128"}) is None
    assert select_proxy(URL, {"https://vault.example.com": "http://p:1"}) == "http://p:1"


def test_a_proxied_session_is_left_to_hvac() -> None:
    session = requests.Session()
    session.proxies = {"https": "http://127.0.0.1:9"}

    with pytest.raises(NotPlain):
        session_pool(session, URL)


def test_the_pools_urlopen_still_takes_the_arguments_the_read_passes() -> None:
    parameters = inspect.signature(urllib3.HTTPConnectionPool.urlopen).parameters

    assert {"method", "url", "headers", "retries", "redirect", "timeout", "preload_content"} <= set(parameters)


def test_a_plain_read_answers_as_the_hvac_client_does(bao: OpenBaoServer, root: hvac.Client, path: str) -> None:
    secret = {"dsn": "https://k@o1.ingest.example/1"}
    root.secrets.kv.v2.create_or_update_secret(path, secret=secret, mount_point="apps")
    reader = PlainHttp(root)

    status, body = reader.get(f"apps/data/{path}")
    missing_status, _ = reader.get(f"apps/data/{path}-missing")

    expected = root.secrets.kv.v2.read_secret_version(path, mount_point="apps", raise_on_deleted_version=True)
    assert (status, body["data"]["data"]) == (200, expected["data"]["data"])
    assert missing_status == 404


def test_the_adapter_still_readies_a_pool_for_tls_and_keeps_its_retries() -> None:
    adapter = HTTPAdapter()

    assert list(inspect.signature(HTTPAdapter.cert_verify).parameters) == ["self", "conn", "url", "verify", "cert"]
    assert isinstance(adapter.max_retries, urllib3.Retry)


def test_a_plain_write_answers_and_fails_as_the_hvac_client_does(root: hvac.Client, path: str) -> None:
    writer = PlainHttp(root)

    written = writer.send("POST", f"apps/data/{path}", {"options": {"cas": 0}, "data": {"dsn": "d1"}})
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set") as refused:
        writer.send("POST", f"apps/data/{path}", {"options": {"cas": 0}, "data": {"dsn": "d2"}})
    patched = writer.send(
        "PATCH", f"apps/metadata/{path}", {"custom_metadata": {"a": "b"}}, content_type="application/merge-patch+json"
    )

    assert written["data"]["version"] == 1 and patched is None
    assert refused.value.errors
    metadata = root.secrets.kv.v2.read_secret_metadata(path, mount_point="apps")["data"]
    assert (metadata["current_version"], metadata["custom_metadata"]) == (1, {"a": "b"})


def test_a_pool_the_session_has_since_dropped_is_replaced_by_the_one_it_keeps(root: hvac.Client, path: str) -> None:
    writer = PlainHttp(root)
    writer.send("POST", f"apps/data/{path}", {"data": {"dsn": "d1"}})
    url = f"{root.adapter.base_uri}/v1/apps/data/{path}"
    # Drops and closes every pool, as the pool manager does to one it evicts.
    root.adapter.session.get_adapter(url).poolmanager.clear()

    writer.send("POST", f"apps/data/{path}", {"data": {"dsn": "d2"}})
    status, body = writer.get(f"apps/data/{path}")

    assert (status, body["data"]["data"]) == (200, {"dsn": "d2"})


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local HTTP server answering with `handler`; yields its http:// address."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_requests_name_the_path_alone_on_the_request_line_as_requests_does() -> None:
    """A full URL there is for proxies; a gate or reverse proxy in front of Vault may not take one."""
    seen: list[str] = []

    class Records(_QuietHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"data": {"version": 1}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    with _http_server(Records) as address:
        client = hvac.Client(url=f"{address}/behind/a/prefix", token="t")
        PlainHttp(client).get("apps/data/web")
        PlainHttp(client).send("POST", "apps/data/x", {"data": {}})

    assert seen == ["GET /behind/a/prefix/v1/apps/data/web", "POST /behind/a/prefix/v1/apps/data/x"]


def test_a_write_answered_with_a_redirect_is_left_to_hvac() -> None:
    class Redirect(_QuietHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/v1/apps/data/x")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with _http_server(Redirect) as address:
        standby = hvac.Client(url=address, token="t")
        with pytest.raises(NotPlain):
            PlainHttp(standby).send("POST", "apps/data/x", {"data": {}})


# -- transport failures -------------------------------------------------------------------------


@contextmanager
def _tcp_server(on_connection: Callable[[socket.socket], None]) -> Iterator[str]:
    """A local TCP server that hands each connection to `on_connection`; yields its http:// address."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=on_connection, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def _hangs_up(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.close()


def _never_answers(connection: socket.socket) -> None:
    connection.recv(65536)
    threading.Event().wait(5)  # longer than the client's timeout
    connection.close()


@contextmanager
def _refused() -> Iterator[str]:
    yield f"http://127.0.0.1:{free_port()}"


@contextmanager
def _plain_http_behind_https(bao: OpenBaoServer) -> Iterator[str]:
    yield bao.address.replace("http://", "https://")


FAILURES: dict[str, Callable[[OpenBaoServer], AbstractContextManager[str]]] = {
    "connection refused": lambda bao: _refused(),
    "connection closed without an answer": lambda bao: _tcp_server(_hangs_up),
    "no answer in time": lambda bao: _tcp_server(_never_answers),
    "TLS to a plain HTTP server": _plain_http_behind_https,
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_plain_write_fails_as_the_sessions_own_request_and_reads_as_the_same_vault_error(
    bao: OpenBaoServer, failure: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    timeout = 0.5
    monkeypatch.setattr(_plain_http, "DEFAULT_TIMEOUT", timeout)
    settings = VaultSettings(address=bao.address, namespace=None, mount="apps", kv_version=2, auth=TokenAuth())
    # The tool's own client (its retries and TLS adapter), then pointed at the failing address.
    client = connect(settings, env={"VAULT_TOKEN": bao.root_token, "HOME": str(tmp_path)})
    with FAILURES[failure](bao) as address:
        client.adapter.base_uri = address
        url = f"{address}/v1/apps/data/x"
        with pytest.raises(requests.exceptions.RequestException) as by_requests:
            client.adapter.session.post(url, json={"data": {}}, timeout=timeout)
        with pytest.raises(requests.exceptions.RequestException) as plain:
            PlainHttp(client).send("POST", "apps/data/x", {"data": {}})

    assert type(plain.value) is type(by_requests.value)
    site = CallSite(address=address, path="apps/data/x", capability="create")
    expected, got = translate(by_requests.value, site), translate(plain.value, site)
    assert (type(got), str(got)) == (type(expected), str(expected))
    assert bao.root_token not in str(got)
