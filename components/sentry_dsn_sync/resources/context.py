"""`ProviderContext`: everything one dynamic-provider process keeps between the calls it serves.

The engine runs every dynamic resource of a run through one provider process
and hands it the stack config once (`configure`). The settings, the Sentry
catalogs, the logged-in Vault clients, their KV stores and the read-ahead live
here and nowhere else, so that credentials are read at call time and never
travel inside the pickled provider, so that 500 resources cost a handful of
Sentry requests and one Vault login, and so that one `configure` (or a test)
drops them all at once. `sentry/` and `vault/` keep no state of their own.

A resource whose program built its settings with `parse_settings` carries a
`connection` input (see `Settings.connection`): its Sentry and Vault are those,
not the stack config's, so one program can publish from two organizations or
into two Vaults.

The program imports this module too (it pickles the provider class by
reference) but never reads Sentry or Vault through it, so httpx and hvac are
imported where they are first used: off the program's start, which the engine
waits for.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sentry_dsn_sync.config import (
    TOP_LEVEL_KEYS,
    Secret,
    Settings,
    VaultSettings,
    decode_namespace,
    parse_settings,
    parse_vault_settings,
)
from sentry_dsn_sync.errors import ConfigError, SentryDsnSyncError
from sentry_dsn_sync.resources import _engine_log as engine_log
from sentry_dsn_sync.resources.invocation_cache import InvocationCache, planned_paths, pulumi_invocation_id
from sentry_dsn_sync.resources.read_ahead import ReadAhead
from sentry_dsn_sync.resources._write_access import WriteAccess

if TYPE_CHECKING:
    import hvac
    import httpx

    from sentry_dsn_sync.sentry import OrganizationCatalog, RetryPolicy
    from sentry_dsn_sync.vault import KvStore, StoredSecret

__all__ = ["CatalogKey", "ProviderContext", "announce_wait", "organization_catalog", "provider_context"]

# The program refuses plain-text credentials before any provider runs, so the
# provider's own parse need not (and, seeing only decrypted values, could not).
_ALREADY_CHECKED = frozenset(TOP_LEVEL_KEYS)

Connection = Mapping[str, Any]
"""A resource's `connection` input with its `organization`, or None for the stack config."""


@dataclass(frozen=True)
class CatalogKey:
    """Which catalog a provider call shares: one per Sentry API root, organization, token and DSN forms kept."""

    api_root: str
    organization: str
    token: Secret
    dsn_forms: tuple[str, ...] = ()


class ProviderContext:
    """The provider process's settings, catalogs, Vault clients, stores and read-ahead, built on first use."""

    def __init__(self, *, env: Mapping[str, str] = os.environ) -> None:
        self._env = env
        self._lock = threading.Lock()
        self._raw_config: dict[str, Any] = {}
        self._settings: dict[str | None, Settings] = {}
        self._vault_settings: dict[str | None, VaultSettings] = {}
        self._api_roots: dict[str, str] = {}
        self._catalogs: dict[CatalogKey, OrganizationCatalog] = {}
        self._clients: dict[tuple[str, ...], hvac.Client] = {}
        # The lock held while a client logs in, so parallel checks do not each mint a token.
        self._login_lock = threading.Lock()
        self._stores: dict[tuple[tuple[str, ...], str, int], KvStore] = {}
        # Held while a store checks its mount, so the mount is read once, not once per parallel check.
        self._store_lock = threading.Lock()
        self._read_ahead = ReadAhead()
        self._write_access = WriteAccess()

    def configure(self, raw_config: Mapping[str, Any]) -> None:
        """Take a new stack config; everything built from the old one is dropped."""
        engine_log.install()
        self.close()
        with self._lock:
            self._raw_config = dict(raw_config)

    def close(self) -> None:
        """Forget every setting, catalog, client and read, and close their connections."""
        with self._store_lock, self._lock, self._login_lock:
            catalogs = list(self._catalogs.values())
            clients = list(self._clients.values())
            self._settings.clear()
            self._vault_settings.clear()
            self._catalogs.clear()
            self._clients.clear()
            self._stores.clear()
        self._read_ahead.reset()
        self._write_access.reset()
        for catalog in catalogs:
            catalog.api.client.close()
        for client in clients:
            client.adapter.close()

    # -- settings ----------------------------------------------------------------------------

    def settings(self, *, stack: str, connection: Connection | None = None) -> Settings:
        key = _connection_key(connection)
        with self._lock:
            settings = self._settings.get(key)
            if settings is None:
                settings = self._settings[key] = parse_settings(
                    self._values(connection),
                    self._env,
                    stack=stack,
                    secret_keys=_ALREADY_CHECKED,
                    require_projects=False,
                )
            return settings

    def vault_settings(self, connection: Connection | None = None) -> VaultSettings:
        key = _connection_key(connection)
        with self._lock:
            vault = self._vault_settings.get(key)
            if vault is None:
                vault = self._vault_settings[key] = parse_vault_settings(
                    self._values(connection), self._env, secret_keys=_ALREADY_CHECKED
                )
            return vault

    def _values(self, connection: Connection | None) -> dict[str, Any]:
        return decode_namespace(self._raw_config) if connection is None else dict(connection)

    # -- Sentry ------------------------------------------------------------------------------

    def catalog(
        self,
        *,
        stack: str,
        connection: Connection | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> OrganizationCatalog:
        """The catalog every resource of this process shares for its organization, Sentry and token."""
        settings = self.settings(stack=stack, connection=connection)
        with self._lock:
            # Every check asks: parsing the URL each time was about half of a no-op check's own CPU.
            root = self._api_roots.get(settings.sentry_url)
            if root is None:
                root = self._api_roots[settings.sentry_url] = _api_root_text(settings.sentry_url)
            key = CatalogKey(
                api_root=root,
                organization=settings.organization,
                token=settings.sentry_token,
                dsn_forms=settings.published_dsn_forms,
            )
            catalog = self._catalogs.get(key)
            if catalog is None:
                # Building a catalog makes no request, so holding the lock here is cheap.
                catalog = self._catalogs[key] = organization_catalog(
                    settings, transport=transport, retry=retry, announce=announce_wait
                )
            return catalog

    # -- Vault -------------------------------------------------------------------------------

    def vault_client(self, vault: VaultSettings) -> hvac.Client:
        """The logged-in client of `vault`'s identity, logging in on first use only."""
        from sentry_dsn_sync.vault import client_identity, connect

        key = client_identity(vault)
        with self._login_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = connect(vault, env=self._env)
            return client

    def kv_store(self, *, mount: str, kv_version: Literal[1, 2], connection: Connection | None = None) -> KvStore:
        """The one store of this mount in `connection`'s Vault; opening it checks the mount."""
        from sentry_dsn_sync.vault import KvStore, client_identity

        vault = self.vault_settings(connection)
        key = (client_identity(vault), mount, kv_version)
        with self._store_lock:
            store = self._stores.get(key)
            if store is None:
                store = KvStore(self.vault_client(vault), mount=mount, kv_version=kv_version)
                store.check_mount()
                self._stores[key] = store
            return store

    def start_read_ahead(
        self, *, stack: str, mount: str, kv_version: Literal[1, 2], connection: Connection | None = None
    ) -> None:
        """Begin reading, in the background, the secret of every project planned in this mount (`_planned_paths`)."""

        def open_store() -> tuple[KvStore, Iterator[str]]:
            store = self.kv_store(mount=mount, kv_version=kv_version, connection=connection)
            return store, self._planned_paths(stack=stack, mount=mount, kv_version=kv_version, connection=connection)

        self._read_ahead.start((_connection_key(connection), mount, kv_version), open_store)

    def read_secret(self, store: KvStore, path: str) -> StoredSecret | None:
        """The secret at `path`: as read ahead when it was, else read now."""
        return self._read_ahead.read(store, path)

    def require_write_access(
        self,
        store: KvStore,
        path: str,
        *,
        exists: bool,
        stack: str,
        mount: str,
        kv_version: Literal[1, 2],
        connection: Connection | None = None,
    ) -> None:
        """Fail unless the token may publish at `path`, asking Vault for many planned paths at once."""

        def planned() -> list[str]:
            return list(self._planned_paths(stack=stack, mount=mount, kv_version=kv_version, connection=connection))

        key = (_connection_key(connection), mount, kv_version)
        self._write_access.require(key, store, path, exists=exists, planned=planned)

    def _planned_paths(
        self, *, stack: str, mount: str, kv_version: Literal[1, 2], connection: Connection | None
    ) -> Iterator[str]:
        """The secret paths of every project published in this mount (none for another mount).

        For a program's own settings (`connection`), the plan its program wrote
        for this command (see `invocation_cache`). For the stack config, the
        configured projects' at once; then, for a `team`, those of the team's
        other projects as the organization's project list names them, once
        Sentry has answered. The program asks the team's own endpoint for the
        same list; a project the two lists disagree on is left to its own check.
        """
        if connection is not None:
            yield from planned_paths(connection, mount=mount, kv_version=kv_version)
            return
        settings = self.settings(stack=stack, connection=connection)
        vault = settings.vault
        if (vault.mount, vault.kv_version) != (mount, kv_version):
            return  # resources of an earlier config; their checks ask for themselves
        for spec in settings.projects:
            yield settings.vault_path(spec, stack=stack)
        if settings.team is None:
            return
        try:
            on_team = self.catalog(stack=stack, connection=connection).listed_team_projects(settings.team)
        except SentryDsnSyncError:
            return  # each check reports what Sentry said
        for spec in settings.all_projects(project.slug for project in on_team)[len(settings.projects) :]:
            try:
                yield settings.vault_path(spec, stack=stack)
            except ConfigError:
                continue  # a slug that makes no path: the program refuses it


def organization_catalog(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    announce: Callable[[str], None] | None = None,
) -> OrganizationCatalog:
    """A new catalog for `settings` that shares its read with the other processes of this `pulumi` run.

    The program (team discovery) and the provider processes of one `pulumi up`
    descend from the same `pulumi` process; see `invocation_cache`.
    """
    from sentry_dsn_sync.sentry import open_catalog

    shared_with = InvocationCache.for_invocation(
        pulumi_invocation_id(),
        api_root=_api_root_text(settings.sentry_url),
        organization=settings.organization,
        dsn_forms=settings.published_dsn_forms,
    )
    return open_catalog(settings, shared_with=shared_with, transport=transport, retry=retry, announce=announce)


def _api_root_text(base_url: str) -> str:
    from sentry_dsn_sync.sentry import api_root

    return str(api_root(base_url))


def _connection_key(connection: Connection | None) -> str | None:
    return None if connection is None else json.dumps(connection, sort_keys=True)


def announce_wait(message: str) -> None:
    """A long wait for Sentry, in `pulumi up`'s output: a 60-second pause must not look like a hang.

    Logged like the Vault client's waits, so both reach the engine the same way (see `engine_log`).
    """
    logging.getLogger("sentry_dsn_sync.sentry").info(f"sentry-dsn-sync: {message}")


provider_context = ProviderContext()
"""The context of this process: the provider's methods reach caches only through it."""
