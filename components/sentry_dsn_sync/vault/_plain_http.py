"""The one place that talks to Vault beside hvac: plain reads and writes over the session's own pools.

Kept because it cuts CPU where a run sends one request per project: the drift
read-ahead (one read per published project on every run) and a first run's
writes (two per project). requests plus hvac spend more per call (preparing
the request, cookies, settings merging, building a Response) than such a
request needs: both go straight to the urllib3 pool that the session's adapter
keeps, with its TLS settings and retries. bench/RESULTS.md profiles them. It
leans on requests' adapter internals (`HTTPAdapter.get_connection_with_tls_context`,
`HTTPAdapter.cert_verify`, `requests.utils.select_proxy`) and repeats how
`HTTPAdapter.send` names a transport failure, so tests/vault/test_plain_http_seam.py
pins them: a requests or urllib3 upgrade that changes them fails there, not in
a user's run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import hvac
import requests
import requests.exceptions
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import BaseHTTPResponse, HTTPConnectionPool
from urllib3.util import parse_url

from sentry_dsn_sync.vault.client import DEFAULT_TIMEOUT

__all__ = ["NotPlain", "PlainHttp", "plain_get"]


class NotPlain(Exception):
    """A plain request does not apply here (a proxy, or a redirect to another node): use the hvac client."""


class PlainHttp:
    """Requests to `/v1/<api_path>` as `client` would send them, over the pools its session's adapter keeps.

    `get`: for many reads in a row whose failures are each read again through
    the hvac client; no retry and no redirect. `send`: writes, with the
    adapter's retries. Both use the pool looked up once per instance (the
    session's proxies and TLS are fixed when it is built). A proxy raises NotPlain.
    """

    def __init__(self, client: hvac.Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._pools: dict[str, HTTPConnectionPool] = {}

    def get(self, api_path: str) -> tuple[int, Any]:
        """The status and the decoded JSON body (None if empty)."""
        adapter = self._client.adapter
        url = self._url(api_path)
        response = self._pool(adapter.session, url).urlopen(
            "GET", _target(url), headers=self._headers(), retries=False, redirect=False, timeout=DEFAULT_TIMEOUT,
            preload_content=True,
        )
        return response.status, json.loads(response.data) if response.data else None

    def send(
        self, method: str, api_path: str, body: Mapping[str, Any], *, content_type: str = "application/json"
    ) -> Any:
        """`<method> /v1/<api_path>` with a JSON body, answered as hvac's JSON adapter answers.

        With the adapter's retries and TLS settings, but without what requests
        and hvac add per call. Returns the decoded body (None if empty); raises
        hvac's exception for an error status, the exception requests would
        raise for a transport failure, NotPlain behind a proxy or when Vault
        answers with a redirect (the write was not made then).
        """
        adapter = self._client.adapter
        url = self._url(api_path)
        pool = self._pool(adapter.session, url)
        headers = {**self._headers(), "Content-Type": content_type}
        try:
            response = pool.urlopen(
                method, _target(url), body=json.dumps(body).encode(), headers=headers,
                retries=adapter.session.get_adapter(url).max_retries, redirect=False, timeout=DEFAULT_TIMEOUT,
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise _as_requests_error(exc) from exc
        except OSError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        if response.get_redirect_location():
            # A standby Vault that does not forward points at the active node; hvac follows that.
            raise NotPlain(url)
        answer = _json_or_none(response)
        if response.status >= 400:
            errors = answer.get("errors") if isinstance(answer, dict) else None
            text = response.data.decode("utf-8", "replace")
            hvac.utils.raise_for_error(
                method, url, response.status, None if errors else text, errors=errors, text=text, json=answer
            )
        return answer

    def _url(self, api_path: str) -> str:
        while "//" in api_path:  # as hvac and the Vault CLI read a path
            api_path = api_path.replace("//", "/")
        return f"{self._client.adapter.base_uri.rstrip('/')}/v1/{api_path}"

    def _headers(self) -> dict[str, str]:
        headers = {"X-Vault-Request": "true", "X-Vault-Token": self._client.token}
        if self._client.adapter.namespace:
            headers["X-Vault-Namespace"] = self._client.adapter.namespace
        return headers

    def _pool(self, session: requests.Session, url: str) -> HTTPConnectionPool:
        origin = url.split("/v1/", 1)[0]
        with self._lock:
            pool = self._pools.get(origin)
            # The session's pool manager closes a pool it drops (it keeps a few): take the one it keeps now.
            if pool is None or pool.pool is None:
                pool = self._pools[origin] = session_pool(session, url)
            return pool


def session_pool(session: requests.Session, url: str) -> HTTPConnectionPool:
    """The urllib3 pool `session` itself would send `url` over, with its TLS settings; NotPlain behind a proxy."""
    adapter = session.get_adapter(url)
    if not isinstance(adapter, HTTPAdapter) or select_proxy(url, session.proxies):
        raise NotPlain(url)
    request = requests.Request("GET", url).prepare()
    pool = adapter.get_connection_with_tls_context(request, session.verify, proxies={}, cert=session.cert)
    # What the adapter does to the pool before each of its own sends (a subclass may narrow the CAs).
    adapter.cert_verify(pool, url, session.verify, session.cert)
    return pool


def _target(url: str) -> str:
    """The path and query alone, as requests sends them: a full URL on the request line is for proxies."""
    return parse_url(url).request_uri


def _as_requests_error(exc: urllib3.exceptions.HTTPError) -> requests.exceptions.RequestException:
    """The exception `HTTPAdapter.send` raises for this urllib3 failure, so callers see one kind either way."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
            reason, urllib3.exceptions.NewConnectionError
        ):
            return requests.exceptions.ConnectTimeout(exc)
        if isinstance(reason, urllib3.exceptions.ResponseError):
            return requests.exceptions.RetryError(exc)
        if isinstance(reason, urllib3.exceptions.SSLError):
            return requests.exceptions.SSLError(exc)
        return requests.exceptions.ConnectionError(exc)
    if isinstance(exc, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    # A broken connection or answer (ProtocolError and the like): requests says ConnectionError.
    return requests.exceptions.ConnectionError(exc)


def _json_or_none(response: BaseHTTPResponse) -> Any:
    try:
        return json.loads(response.data) if response.data else None
    except ValueError:
        return None


def plain_get(client: hvac.Client, api_path: str) -> tuple[int, Any]:
    """One plain read, without keeping its pool lookup (see :class:`PlainHttp`)."""
    return PlainHttp(client).get(api_path)
