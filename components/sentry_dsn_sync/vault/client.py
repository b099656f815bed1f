"""Build a logged-in hvac client from :class:`VaultSettings`, the way the Vault CLI would.

The settings say where Vault is (address, namespace, TLS) and how to log in;
the credentials themselves are read from config secrets, the environment or
files only when :func:`connect` runs, and afterwards live only inside the
returned hvac client. Keeping one client per identity for a whole provider
process is the caller's business (`resources/context.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import hvac
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, SSLError
from urllib3.util.retry import Retry

from sentry_dsn_sync.config import VaultSettings
from sentry_dsn_sync.vault._auth import login
from sentry_dsn_sync.vault._errors import CallSite

__all__ = ["DEFAULT_TIMEOUT", "client_identity", "connect"]

DEFAULT_TIMEOUT = 30.0

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


class _Retry(Retry):
    """urllib3's Retry, minus retrying TLS failures: a CA mismatch will not heal in a second."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def]
        if isinstance(error, SSLError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def connect(settings: VaultSettings, *, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> hvac.Client:
    """A new hvac client for `settings`, logged in and with its token checked.

    Raises a :class:`sentry_dsn_sync.errors.VaultError` subclass that names what to
    fix: no or rejected credentials (:class:`VaultAuthError`), a sealed Vault,
    an unknown namespace, a TLS mismatch or an unreachable address.
    """
    verify = _verify(settings, env)
    client = hvac.Client(
        url=settings.address,
        # An explicit empty token: hvac would otherwise pick up VAULT_TOKEN from
        # os.environ, bypassing `env` and the configured auth method.
        token="",
        namespace=settings.namespace or None,
        verify=verify,
        timeout=timeout,
        session=_session(settings, verify=verify),
    )
    site = CallSite(address=settings.address, namespace=settings.namespace)
    login(client, settings.auth, env=env, site=site)
    return client


def client_identity(settings: VaultSettings) -> tuple[str, ...]:
    """What makes two settings log in as the same identity, without any credential in it.

    A cache key for logged-in clients: it is safe to keep in memory for the
    life of the process and would be safe to log.
    """
    auth = settings.auth
    role = getattr(auth, "role", None) or getattr(auth, "role_id", None) or ""
    mount = getattr(auth, "mount", "")
    return (
        settings.address,
        settings.namespace or "",
        settings.ca_cert or "",
        str(settings.skip_verify),
        auth.method,
        mount,
        role,
        getattr(auth, "jwt_env", None) or getattr(auth, "secret_id_env", None) or getattr(auth, "token_env", None) or "",
    )


def _verify(settings: VaultSettings, env: Mapping[str, str]) -> bool | str:
    # Always explicit: left as None, hvac would consult VAULT_CACERT in os.environ
    # at import time, out of reach of the settings the user sees. Without a CA
    # of its own, the bundle requests itself would take from the environment.
    if settings.skip_verify:
        return False
    return settings.ca_cert or env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True


def _session(settings: VaultSettings, *, verify: bool | str) -> requests.Session:
    session = requests.Session()
    session.verify = verify
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
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
