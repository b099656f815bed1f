"""The one place that reads Vault beside hvac: a plain `GET` over the session's own urllib3 pool.

Kept because it cuts the CPU of the drift read-ahead, which sends one read
per published project on every run: requests plus hvac spend more per call
(hooks, cookies, settings merging, response wrapping) than such a read needs.
bench/RESULTS.md profiles these reads in a no-op `up`. It leans on requests' adapter internals
(`HTTPAdapter.get_connection_with_tls_context`, `requests.utils.select_proxy`),
so tests/vault/test_plain_get_seam.py pins them: a requests or urllib3 upgrade
that changes them fails there, not in a user's run.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import hvac
import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import HTTPConnectionPool

from sentry_dsn_sync.vault.client import DEFAULT_TIMEOUT

__all__ = ["NotPlainGet", "PlainReader", "plain_get"]


class NotPlainGet(Exception):
    """A plain GET does not apply here (a proxy stands between us and Vault): use the hvac client."""


class PlainReader:
    """`GET /v1/<api_path>` as `client` would send it, over the pool its session's adapter picks.

    For many reads in a row whose failures are each read again through the
    hvac client. No retry and no redirect; a proxy raises NotPlainGet. The
    pool is looked up once per reader: its proxies and TLS are fixed when built.
    """

    def __init__(self, client: hvac.Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._pools: dict[str, HTTPConnectionPool] = {}

    def get(self, api_path: str) -> tuple[int, Any]:
        """The status and the decoded JSON body (None if empty)."""
        adapter = self._client.adapter
        while "//" in api_path:  # as hvac and the Vault CLI read a path
            api_path = api_path.replace("//", "/")
        url = f"{adapter.base_uri.rstrip('/')}/v1/{api_path}"
        headers = {"X-Vault-Request": "true", "X-Vault-Token": self._client.token}
        if adapter.namespace:
            headers["X-Vault-Namespace"] = adapter.namespace
        response = self._pool(adapter.session, url).urlopen(
            "GET", url, headers=headers, retries=False, redirect=False, timeout=DEFAULT_TIMEOUT, preload_content=True
        )
        return response.status, json.loads(response.data) if response.data else None

    def _pool(self, session: requests.Session, url: str) -> HTTPConnectionPool:
        origin = url.split("/v1/", 1)[0]
        with self._lock:
            pool = self._pools.get(origin)
            if pool is None:
                pool = self._pools[origin] = session_pool(session, url)
            return pool


def session_pool(session: requests.Session, url: str) -> HTTPConnectionPool:
    """The urllib3 pool `session` itself would send `url` over, with its TLS settings; NotPlainGet behind a proxy."""
    adapter = session.get_adapter(url)
    if not isinstance(adapter, HTTPAdapter) or select_proxy(url, session.proxies):
        raise NotPlainGet(url)
    request = requests.Request("GET", url).prepare()
    return adapter.get_connection_with_tls_context(request, session.verify, proxies={}, cert=session.cert)


def plain_get(client: hvac.Client, api_path: str) -> tuple[int, Any]:
    """One plain read, without keeping its pool lookup (see :class:`PlainReader`)."""
    return PlainReader(client).get(api_path)
