"""What one dynamic-provider process shares between all the resources it serves.

The engine runs every dynamic resource of a run through one provider process
and hands it the stack config once (`configure`). Settings, the Sentry catalog
and the Vault client live here, per process, so that credentials are read at
call time and never travel inside the pickled provider, and so that 500
resources cost a handful of Sentry requests and one Vault login.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from components.config import Settings, decode_namespace, parse_settings
from components.sentry import OrganizationCatalog, shared_catalog
from components.vault import KvStore, shared_client

__all__ = ["ProviderRuntime", "runtime"]


class ProviderRuntime:
    """Settings and clients of this provider process, built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._raw_config: dict[str, Any] = {}
        self._settings: Settings | None = None
        self._stores: dict[tuple[str, int], KvStore] = {}

    def configure(self, raw_config: Mapping[str, Any]) -> None:
        with self._lock:
            self._raw_config = dict(raw_config)
            self._settings = None
            # Stores hold a client logged in with the previous config's address and auth.
            self._stores.clear()

    def settings(self, *, stack: str) -> Settings:
        with self._lock:
            if self._settings is None:
                # The program has validated the config already, so the
                # plain-text token check is not repeated here.
                self._settings = parse_settings(
                    decode_namespace(self._raw_config),
                    os.environ,
                    stack=stack,
                    secret_keys={"sentryToken"},
                    require_projects=False,
                )
            return self._settings

    def catalog(self, *, stack: str) -> OrganizationCatalog:
        return shared_catalog(self.settings(stack=stack))

    def kv_store(self, *, stack: str, mount: str, kv_version: int) -> KvStore:
        settings = self.settings(stack=stack)
        with self._lock:
            store = self._stores.get((mount, kv_version))
            if store is None:
                client = shared_client(settings.vault, env=os.environ)
                store = KvStore(client, mount=mount, kv_version=kv_version)
                store.check_mount()
                self._stores[(mount, kv_version)] = store
            return store


runtime = ProviderRuntime()
