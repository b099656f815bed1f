"""Vault half of sentry-dsn-sync: log in as the Vault CLI would, then read and publish KV secrets.

`connect` turns :class:`sentry_dsn_sync.config.VaultSettings` into a logged-in
hvac client; `KvStore` reads, merges and writes one mount's secrets without
clobbering fields or metadata that others own. Every failure is a
:class:`sentry_dsn_sync.errors.VaultError` subclass that says what to fix.
A plain library: it keeps no state between calls; the provider process's
context owns the clients and stores it shares.
"""

from __future__ import annotations

from sentry_dsn_sync.vault.client import DEFAULT_TIMEOUT, client_identity, connect
from sentry_dsn_sync.vault.kv import DEFAULT_CAS_ATTEMPTS, KvStore, PublishResult, StoredSecret

__all__ = [
    "DEFAULT_CAS_ATTEMPTS",
    "DEFAULT_TIMEOUT",
    "KvStore",
    "PublishResult",
    "StoredSecret",
    "client_identity",
    "connect",
]
