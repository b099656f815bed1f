"""The one exception tree of sentry-dsn-sync.

Every error a user can see derives from :class:`SentryDsnSyncError` and says
what failed, where, and what to do about it. Messages never carry a token, a
Vault credential or a key's secret part.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InvalidDsnError",
    "KeySelectionError",
    "SentryAuthError",
    "SentryDsnSyncError",
    "SentryError",
    "SentryNotFoundError",
    "SentryPermissionError",
    "SentryProjectRenamedError",
    "SentryRateLimitError",
    "SentryResponseError",
    "SentryUnavailableError",
    "VaultAuthError",
    "VaultConflictError",
    "VaultError",
    "VaultMountError",
    "VaultPermissionError",
    "VaultSealedError",
    "VaultTLSError",
    "VaultUnavailableError",
]


class SentryDsnSyncError(Exception):
    """Root of every error this tool raises on purpose."""


class ConfigError(SentryDsnSyncError):
    """The stack configuration or environment is invalid; nothing was read or written."""


class KeySelectionError(SentryDsnSyncError):
    """No client key of a project matches the selection rule."""


class SentryError(SentryDsnSyncError):
    """A Sentry API call failed.

    Carries the method, the URL (never the token) and, when there was a
    response, its status code.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status


class SentryAuthError(SentryError):
    """401: the token is missing, invalid or expired."""


class SentryPermissionError(SentryError):
    """403: the token lacks a scope the endpoint needs."""


class SentryNotFoundError(SentryError):
    """404: the organization, team or project does not exist (or the token cannot see it)."""


class SentryProjectRenamedError(SentryError):
    """302: the project slug was renamed in Sentry; `new_slug` is what it is called now."""

    def __init__(
        self, message: str, *, new_slug: str, method: str = "", url: str = "", status: int | None = None
    ) -> None:
        super().__init__(message, method=method, url=url, status=status)
        self.new_slug = new_slug


class SentryRateLimitError(SentryError):
    """429 persisted past the retry budget."""


class SentryUnavailableError(SentryError):
    """5xx, time-outs or connection failures persisted past the retry budget."""


class SentryResponseError(SentryError):
    """The response was not the JSON the endpoint promises."""


class VaultError(SentryDsnSyncError):
    """A Vault call failed; carries the Vault path involved when there is one."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class VaultAuthError(VaultError):
    """Login failed, or the token is expired or revoked."""


class VaultPermissionError(VaultError):
    """403: the policy lacks a capability on a path."""


class VaultMountError(VaultError):
    """The KV mount is missing or is not the configured KV version."""


class VaultSealedError(VaultError):
    """503: Vault is sealed or in standby without a leader."""


class VaultTLSError(VaultError):
    """The TLS handshake failed: the CA setting does not match the server."""


class VaultUnavailableError(VaultError):
    """Vault could not be reached."""


class VaultConflictError(VaultError):
    """Check-and-set kept losing to another writer past the retry budget."""


class InvalidDsnError(SentryResponseError):
    """A key's public DSN is not a DSN of that key and project; it is not published."""
