"""Translate hvac and requests exceptions into the project's Vault errors.

This is the one boundary where errors of the layer below become errors a user
can act on: every Vault call in this package runs inside :func:`vault_errors`,
so each failure names the address, the path and the capability involved, and
says what to do. Vault's own error text is kept (it is often the most precise
hint) but any credential the caller holds is scrubbed from it first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import hvac.exceptions
import requests.exceptions

from sentry_dsn_sync._redaction import scrubbed
from sentry_dsn_sync.errors import (
    VaultAuthError,
    VaultError,
    VaultMountError,
    VaultPermissionError,
    VaultSealedError,
    VaultTLSError,
    VaultUnavailableError,
)

__all__ = ["CallSite", "is_cas_conflict", "translate", "vault_errors"]


@dataclass(frozen=True)
class CallSite:
    """Where a Vault call went and why, so an error can say so.

    `path` is the full API path below /v1/ (e.g. `secret/data/sentry/acme/web`)
    and `capability` the policy capability the call needs there. A call with no
    capability is an authentication step: there a 400/401/403 means the
    credential was refused, not that a policy is missing.
    """

    address: str
    namespace: str | None = None
    path: str = ""
    capability: str = ""
    # Where the credential came from ("environment variable VAULT_TOKEN", ...), never its value.
    credential_source: str = ""


def is_cas_conflict(exc: BaseException) -> bool:
    """True for the 400 KV v2 answers when the check-and-set version is stale."""
    return isinstance(exc, hvac.exceptions.InvalidRequest) and "check-and-set" in _vault_text(exc)


@contextmanager
def vault_errors(site: CallSite, *, redact: Iterable[str] = ()) -> Iterator[None]:
    """Run one Vault call; re-raise whatever it throws as a project :class:`VaultError`."""
    try:
        yield
    except VaultError:
        raise
    except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
        raise translate(exc, site, redact=redact) from exc


def translate(
    exc: hvac.exceptions.VaultError | requests.exceptions.RequestException,
    site: CallSite,
    *,
    redact: Iterable[str] = (),
) -> VaultError:
    """The project error for one hvac/requests exception raised at `site`."""
    if isinstance(exc, requests.exceptions.RequestException):
        return _transport_error(exc, site)
    detail = scrubbed(_vault_text(exc), redact)
    where = _where(site)
    if isinstance(exc, hvac.exceptions.VaultDown):
        if "sealed" in detail.lower():
            return VaultSealedError(
                f"Vault at {site.address} is sealed; unseal it (`vault operator unseal`) and re-run", path=site.path
            )
        return VaultSealedError(
            f"Vault at {site.address} cannot serve requests (503: {detail}); "
            "it is in standby without an active leader or shutting down; retry when it is active",
            path=site.path,
        )
    if isinstance(exc, hvac.exceptions.VaultNotInitialized):
        return VaultUnavailableError(
            f"Vault at {site.address} is not initialised; run `vault operator init` first", path=site.path
        )
    if "Upgrading from non-versioned to versioned data" in detail:
        return VaultUnavailableError(
            f"the KV mount of `{site.path}`{where} is still upgrading to KV version 2 (it was just "
            "enabled or converted); re-run in a few seconds",
            path=site.path,
        )
    if "namespace not found" in detail:
        return VaultMountError(
            f"Vault namespace {site.namespace!r} does not exist at {site.address}; "
            "check vault.namespace / VAULT_NAMESPACE (nested namespaces are written parent/child)",
            path=site.path,
        )
    if not site.capability and site.path.endswith("/login") and isinstance(exc, hvac.exceptions.Forbidden):
        # Login endpoints need no token, so a 403 there is Vault's answer for an
        # unknown path: nothing is mounted at this auth mount.
        mount = site.path.removeprefix("auth/").removesuffix("/login")
        return VaultAuthError(
            f"Vault at {site.address} refused the login at `{site.path}`{_ns(site)} (permission denied): "
            f"it did not accept the {site.credential_source}, or no auth method is enabled at "
            f"`auth/{mount}/` (`vault auth enable -path={mount} <method>`); fix vault.auth",
            path=site.path,
        )
    if not site.capability and isinstance(
        exc, (hvac.exceptions.Unauthorized, hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest)
    ):
        return VaultAuthError(_auth_message(site, detail), path=site.path)
    if isinstance(exc, hvac.exceptions.InvalidPath) and "no handler for route" in detail:
        return _unrouted(site)
    for hvac_error, explain in _BY_STATUS:
        if isinstance(exc, hvac_error):
            return explain(site, detail)
    return VaultError(f"Vault refused the request on `{site.path}`{where}: {detail}", path=site.path)


def _unrouted(site: CallSite) -> VaultError:
    """Vault's 404 "no handler for route": nothing is mounted where the path points."""
    where = _where(site)
    if site.path.startswith("auth/"):
        mount = site.path.removeprefix("auth/").removesuffix("/login")
        return VaultAuthError(
            f"no auth method is enabled at `auth/{mount}/`{where}; enable it "
            f"(`vault auth enable -path={mount} <method>`) or fix vault.auth.mount",
            path=site.path,
        )
    mount = site.path.split("/", 1)[0]
    return VaultMountError(
        f"no secrets engine is mounted at `{mount}/`{where}; enable one "
        f"(`vault secrets enable -path={mount} kv-v2`) or fix vault.mount",
        path=site.path,
    )


def _rejected_credential(site: CallSite, detail: str) -> VaultError:
    return VaultAuthError(_auth_message(site, detail), path=site.path)


def _missing_capability(site: CallSite, detail: str) -> VaultError:
    return VaultPermissionError(
        f"permission denied: the Vault token needs the `{site.capability}` capability on "
        f"`{site.path}`{_where(site)}; add it to the token's policy",
        path=site.path,
    )


def _transient(site: CallSite, detail: str) -> VaultError:
    return VaultUnavailableError(
        f"Vault at {site.address} failed on `{site.path}` ({detail}); retry later", path=site.path
    )


# hvac's exception for a status (its `VaultError.from_status` table) -> ours, for answers that
# nothing above explains more precisely.
_BY_STATUS: tuple[tuple[type[hvac.exceptions.VaultError], Callable[[CallSite, str], VaultError]], ...] = (
    (hvac.exceptions.Unauthorized, _rejected_credential),  # 401
    (hvac.exceptions.Forbidden, _missing_capability),  # 403
    (hvac.exceptions.RateLimitExceeded, _transient),  # 429
    (hvac.exceptions.InternalServerError, _transient),  # 500
    (hvac.exceptions.BadGateway, _transient),  # 502
)


# A failure to talk to Vault at all -> our error and what to check; first match wins, and
# SSLError is a ConnectionError, so it comes first. `{reason}` is the TLS failure in short.
_TRANSPORT_FAILURES: tuple[tuple[type[requests.exceptions.RequestException], type[VaultError], str], ...] = (
    (
        requests.exceptions.SSLError,
        VaultTLSError,
        "TLS handshake with Vault at {address} failed ({reason}); {tls_fix}",
    ),
    (
        requests.exceptions.Timeout,
        VaultUnavailableError,
        "Vault at {address} did not answer in time; check vault.address / VAULT_ADDR and the network path to it",
    ),
    (
        requests.exceptions.ConnectionError,
        VaultUnavailableError,
        "cannot reach Vault at {address} (connection refused or host unreachable); "
        "check vault.address / VAULT_ADDR and that the server is running",
    ),
)


def _transport_error(exc: requests.exceptions.RequestException, site: CallSite) -> VaultError:
    for failure, kind, template in _TRANSPORT_FAILURES:
        if isinstance(exc, failure):
            reason = _ssl_reason(exc)
            message = template.format(address=site.address, reason=reason, tls_fix=_tls_fix(reason))
            return kind(message, path=site.path)
    return VaultUnavailableError(f"request to Vault at {site.address} failed: {type(exc).__name__}", path=site.path)


def _tls_fix(reason: str) -> str:
    if reason == "hostname mismatch":
        return (
            "the server's certificate does not name this host; set vault.tlsServerName "
            "(or VAULT_TLS_SERVER_NAME) to a name it carries, or use that name in vault.address"
        )
    return (
        "point vault.caCert (or VAULT_CACERT) at the CA bundle that signed the server's certificate, "
        "or vault.caPath (or VAULT_CAPATH) at a directory of CA certificates, "
        "or use http:// if the server does not speak TLS"
    )


def _auth_message(site: CallSite, detail: str) -> str:
    source = f" from {site.credential_source}" if site.credential_source else ""
    return (
        f"Vault at {site.address} rejected the credential{source} ({detail}); "
        "it is invalid, expired or revoked: log in again or fix vault.auth"
    )


def _where(site: CallSite) -> str:
    return f" at {site.address}{_ns(site)}"


def _ns(site: CallSite) -> str:
    return f" in namespace {site.namespace!r}" if site.namespace else ""


def _vault_text(exc: hvac.exceptions.VaultError) -> str:
    # hvac's str() appends ", on GET <url>"; the bare error list reads better inside our sentence.
    if exc.errors:
        return "; ".join(str(e) for e in exc.errors)
    return str(exc.args[0]) if exc.args and exc.args[0] else type(exc).__name__


def _ssl_reason(exc: requests.exceptions.RequestException) -> str:
    text = str(exc)
    # A name mismatch is also a CERTIFICATE_VERIFY_FAILED, with its own fix: look for it first.
    if "Hostname mismatch" in text or "IP address mismatch" in text:
        return "hostname mismatch"
    for marker in ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "wrong version number", "hostname mismatch"):
        if marker in text:
            return marker.lower().replace("_", " ")
    return "certificate or protocol error"
