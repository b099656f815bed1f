"""The requests and urllib3 internals that `vault/_plain_http.py` relies on, pinned.

The cheap drift reads and publish writes reach past requests' public API. These tests fail on a
requests or urllib3 upgrade that renames or reshapes what it uses, before a
user's run would; the real-server behaviour is in test_vault_failures.py.
"""

from __future__ import annotations

import inspect
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import hvac
import hvac.exceptions
import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy

from devenv.openbao import OpenBaoServer
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


def test_the_adapter_still_sends_a_prepared_request_with_the_sessions_tls_settings() -> None:
    assert {"timeout", "verify", "cert", "proxies"} <= set(inspect.signature(HTTPAdapter.send).parameters)
    assert {"method", "url", "headers", "data"} <= set(inspect.signature(requests.PreparedRequest.prepare).parameters)


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


def test_a_write_answered_with_a_redirect_is_left_to_hvac() -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/v1/apps/data/x")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        standby = hvac.Client(url=f"http://127.0.0.1:{server.server_address[1]}", token="t")
        with pytest.raises(NotPlain):
            PlainHttp(standby).send("POST", "apps/data/x", {"data": {}})
    finally:
        server.shutdown()
        server.server_close()
