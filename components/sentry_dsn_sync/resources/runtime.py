"""What one dynamic-provider process shares between all the resources it serves.

The engine runs every dynamic resource of a run through one provider process
and hands it the stack config once (`configure`). Settings, the Sentry catalog
and the Vault client live here, per process, so that credentials are read at
call time and never travel inside the pickled provider, and so that 500
resources cost a handful of Sentry requests and one Vault login.

The program imports this module too (it pickles the provider class by
reference) but never reads Sentry or Vault through it, so httpx and hvac are
imported where they are first used: off the program's start, which the engine
waits for.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from sentry_dsn_sync.config import (
    TOP_LEVEL_KEYS,
    Settings,
    VaultSettings,
    decode_namespace,
    parse_settings,
    parse_vault_settings,
)
from sentry_dsn_sync.resources import _engine_log as engine_log
from sentry_dsn_sync.resources.read_ahead import ReadAhead

if TYPE_CHECKING:
    from sentry_dsn_sync.sentry import OrganizationCatalog
    from sentry_dsn_sync.vault import KvStore, StoredSecret

__all__ = ["ProviderRuntime", "runtime"]

# The program refuses plain-text credentials before any provider runs, so the
# provider's own parse need not (and, seeing only decrypted values, could not).
_ALREADY_CHECKED = frozenset(TOP_LEVEL_KEYS)


class ProviderRuntime:
    """Settings and clients of this provider process, built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._raw_config: dict[str, Any] = {}
        self._settings: Settings | None = None
        self._vault_settings: VaultSettings | None = None
        self._stores: dict[tuple[str, int], KvStore] = {}
        self._read_ahead = ReadAhead()

    def configure(self, raw_config: Mapping[str, Any]) -> None:
        engine_log.install()
        with self._lock:
            self._raw_config = dict(raw_config)
            self._settings = None
            self._vault_settings = None
            # Stores hold a client logged in with the previous config's address and auth.
            self._stores.clear()
        self._read_ahead.reset()

    def settings(self, *, stack: str) -> Settings:
        with self._lock:
            if self._settings is None:
                self._settings = parse_settings(
                    decode_namespace(self._raw_config),
                    os.environ,
                    stack=stack,
                    secret_keys=_ALREADY_CHECKED,
                    require_projects=False,
                )
            return self._settings

    def vault_settings(self) -> VaultSettings:
        with self._lock:
            if self._vault_settings is None:
                self._vault_settings = parse_vault_settings(
                    decode_namespace(self._raw_config), os.environ, secret_keys=_ALREADY_CHECKED
                )
            return self._vault_settings

    def catalog(self, *, stack: str) -> OrganizationCatalog:
        from sentry_dsn_sync.sentry import shared_catalog

        return shared_catalog(self.settings(stack=stack), announce=announce_wait)

    def kv_store(self, *, mount: str, kv_version: Literal[1, 2]) -> KvStore:
        from sentry_dsn_sync.vault import KvStore, shared_client

        vault = self.vault_settings()
        with self._lock:
            store = self._stores.get((mount, kv_version))
            if store is None:
                client = shared_client(vault, env=os.environ)
                store = KvStore(client, mount=mount, kv_version=kv_version)
                store.check_mount()
                self._stores[(mount, kv_version)] = store
            return store

    def start_read_ahead(self, *, stack: str, mount: str, kv_version: Literal[1, 2]) -> None:
        """Begin reading, in the background, every configured project's secret in this mount.

        Projects found through `team` are left to their own checks: listing
        them would cost this process one more Sentry request.
        """

        def open_store() -> tuple[KvStore, list[str]]:
            settings = self.settings(stack=stack)
            vault = settings.vault
            store = self.kv_store(mount=mount, kv_version=kv_version)
            if (vault.mount, vault.kv_version) != (mount, kv_version):
                return store, []  # resources of an earlier config; the checks read their own
            return store, [settings.vault_path(spec, stack=stack) for spec in settings.projects]

        self._read_ahead.start((mount, kv_version), open_store)

    def read_secret(self, store: KvStore, path: str) -> StoredSecret | None:
        """The secret at `path`: as read ahead when it was, else read now."""
        return self._read_ahead.read(store, path)


def announce_wait(message: str) -> None:
    """A long wait for Sentry, in `pulumi up`'s output: a 60-second pause must not look like a hang.

    Logged like the Vault client's waits, so both reach the engine the same way (see `_engine_log`).
    """
    logging.getLogger("sentry_dsn_sync.sentry").info(f"sentry-dsn-sync: {message}")


runtime = ProviderRuntime()
