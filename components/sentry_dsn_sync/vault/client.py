"""Build a logged-in hvac client from :class:`VaultSettings`, the way the Vault CLI would.

The settings say where Vault is (address, namespace, TLS) and how to log in;
the credentials themselves are read from config secrets, the environment or
files only when :func:`connect` runs, and afterwards live only inside the
returned hvac client. Keeping one client per identity for a whole provider
process is the caller's business (`resources/context.py`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hvac
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, SSLError
from urllib3.util.retry import Retry

from sentry_dsn_sync.config import VaultSettings
from sentry_dsn_sync.vault._auth import login
from sentry_dsn_sync.vault._error_translation import CallSite

__all__ = ["DEFAULT_TIMEOUT", "client_identity", "connect"]

DEFAULT_TIMEOUT = 30.0
_log = logging.getLogger(__name__)

# Transient answers worth one more try. 503 is left out on purpose: it means
# sealed (or standby without a leader), which needs a human, and retrying only
# delays the message that says so.
_RETRY_STATUSES = (429, 500, 502, 504)
# Connection errors are retried for every method (the request never reached
# Vault); read errors and statuses only where repeating a request is harmless.
# POST writes are check-and-set, so a lost answer surfaces as a CAS conflict
# that the KV layer resolves by re-reading.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "LIST", "OPTIONS"})
# urllib3 would honour a Retry-After of up to six hours; a run waits for Vault at most this long per retry.
RETRY_AFTER_MAX = 30
# Connections kept open to Vault (requests keeps ten): see `_TlsAdapter.__init__`.
_POOL_SIZE = 16


# A wait at least this long is announced (INFO), so that a pause never looks like a hang.
ANNOUNCED_WAIT = 1.0


class _Retry(Retry):
    """urllib3's Retry, minus retrying TLS failures (a CA mismatch will not heal in a second), saying why it waits."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def]
        if isinstance(error, SSLError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_retry_after(self, response: Any) -> float | None:
        # Vault's Retry-After is the rest of the quota window rounded down to whole
        # seconds; a retry that waits exactly that long can land before the window ends.
        seconds = super().get_retry_after(response)
        return None if seconds is None else seconds + 1

    def sleep(self, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        wait = retry_after if retry_after is not None else self.get_backoff_time()
        if self.history:
            last = self.history[-1]
            reason = f"HTTP {last.status}" if last.status else f"{type(last.error).__name__}"
            why = "Retry-After plus one second" if retry_after is not None else "backing off"
            level = logging.INFO if wait >= ANNOUNCED_WAIT else logging.DEBUG
            _log.log(level, "sentry-dsn-sync: Vault answered %s %s with %s; waiting %.1fs (%s) before retrying",
                     last.method, last.url, reason, wait, why)
        super().sleep(response)


def connect(settings: VaultSettings, *, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> hvac.Client:
    """A new hvac client for `settings`, logged in and with its token checked.

    Raises a :class:`sentry_dsn_sync.errors.VaultError` subclass that names what to
    fix: no or rejected credentials (:class:`VaultAuthError`), a sealed Vault,
    an unknown namespace, a TLS mismatch or an unreachable address.
    """
    verify = _verify(settings, env)
    cert = (settings.client_cert, settings.client_key) if settings.client_cert and settings.client_key else None
    client = hvac.Client(
        url=settings.address,
        # An explicit empty token: hvac would otherwise pick up VAULT_TOKEN from
        # os.environ, bypassing `env` and the configured auth method.
        token="",
        namespace=settings.namespace or None,
        verify=verify,
        # hvac sends these on every request; the session keeps them too, for the plain requests (`_plain_http`).
        cert=cert,
        timeout=timeout,
        session=_session(settings, verify=verify, cert=cert),
    )
    site = CallSite(address=settings.address, namespace=settings.namespace)
    login(client, settings.auth, env=env, site=site)
    return client


_WHO = ("role", "role_id", "username", "name")
_CREDENTIAL_ENV = ("jwt_env", "secret_id_env", "token_env", "password_env")


def client_identity(settings: VaultSettings) -> tuple[str, ...]:
    """What makes two settings log in as the same identity, without any credential in it.

    A cache key for logged-in clients: it is safe to keep in memory for the
    life of the process and would be safe to log.
    """
    auth = settings.auth
    # Who logs in (role, role id, user or certificate role) and where its credential is read from.
    role = next((getattr(auth, name) for name in _WHO if getattr(auth, name, None)), "")
    credential_env = next((getattr(auth, name) for name in _CREDENTIAL_ENV if getattr(auth, name, None)), "")
    mount = getattr(auth, "mount", "")
    return (
        settings.address,
        settings.namespace or "",
        settings.ca_cert or "",
        settings.ca_path or "",
        settings.client_cert or "",
        settings.tls_server_name or "",
        str(settings.skip_verify),
        auth.method,
        mount,
        role,
        credential_env,
    )


def _verify(settings: VaultSettings, env: Mapping[str, str]) -> bool | str:
    # Always explicit: left as None, hvac would consult VAULT_CACERT in os.environ
    # at import time, out of reach of the settings the user sees. Without a CA
    # of its own, the bundle requests itself would take from the environment.
    if settings.skip_verify:
        return False
    if settings.ca_cert:
        return settings.ca_cert
    if settings.ca_path:
        return True  # the directory's certificates are loaded by _TlsAdapter
    return env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True


class _TlsAdapter(HTTPAdapter):
    """An HTTPAdapter that also speaks the Vault CLI's VAULT_CAPATH and VAULT_TLS_SERVER_NAME.

    The Vault CLI trusts every PEM certificate in VAULT_CAPATH, whatever the
    file names; OpenSSL's own CA directories need hashed names, so the
    certificates are loaded as data. The server name is the one TLS sends
    (SNI) and checks the certificate against, whatever host the address has.
    """

    def __init__(self, *, ca_data: str | None, server_name: str | None, max_retries: Retry) -> None:
        self._ca_data = ca_data
        self._server_name = server_name
        # One session serves the provider's reads ahead (eight at once) and the four calls Pulumi's
        # dynamic provider host takes at a time: in a pool of ten, a connection beyond that would
        # be closed after its request and opened again for the next.
        super().__init__(max_retries=max_retries, pool_maxsize=_POOL_SIZE)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        if self._ca_data is not None:
            pool_kwargs["ca_cert_data"] = self._ca_data
        if self._server_name is not None:
            pool_kwargs["server_hostname"] = self._server_name
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)
        if self._ca_data is not None and verify is True:
            conn.ca_certs = None  # requests' default bundle: the directory's CAs replace it, as in the Vault CLI


def _ca_path_data(ca_path: str | None, ca_cert: str | None) -> str | None:
    """The PEM certificates of every file in `ca_path`, unless `ca_cert` (which wins, as in the Vault CLI) is set."""
    if ca_path is None or ca_cert is not None:
        return None
    pems = []
    for entry in sorted(os.scandir(ca_path), key=lambda e: e.name):
        if entry.is_file():
            text = Path(entry.path).read_text(errors="replace")
            if "-----BEGIN CERTIFICATE-----" in text:
                pems.append(text)
    return "\n".join(pems) or None


def _session(
    settings: VaultSettings, *, verify: bool | str, cert: tuple[str, str] | None = None
) -> requests.Session:
    session = requests.Session()
    session.verify = verify
    session.cert = cert
    # requests would look up proxies, a CA bundle and ~/.netrc in the environment
    # again for every request; at hundreds of reads per run that costs more CPU
    # than the request itself. Proxies are settled once here, the CA bundle in
    # `_verify`, and ~/.netrc is left out: Vault takes a token, not a password.
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(settings.address))
    retry = _Retry(
        total=3,
        connect=2,
        read=2,
        status=2,
        backoff_factor=0.2,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=_IDEMPOTENT,
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_MAX,
        # Return the last response so hvac maps its status to a named error.
        raise_on_status=False,
    )
    adapter = _TlsAdapter(
        ca_data=_ca_path_data(settings.ca_path, settings.ca_cert),
        server_name=settings.tls_server_name,
        max_retries=retry,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
