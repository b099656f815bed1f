"""Helpers for the Vault tests: the session server's mounts, and settings pointing at it."""

from __future__ import annotations

from typing import Literal

from devenv.openbao import OpenBaoServer
from sentry_dsn_sync.config import TokenAuth, VaultAuth, VaultSettings

V1_MOUNT = "kv1"
V2_MOUNT = "apps"


class MakeSettings:
    """Builds VaultSettings pointing at the session server unless told otherwise."""

    def __init__(self, server: OpenBaoServer) -> None:
        self.server = server

    def __call__(
        self,
        *,
        auth: VaultAuth | None = None,
        address: str | None = None,
        namespace: str | None = None,
        mount: str = V2_MOUNT,
        kv_version: Literal[1, 2] = 2,
        ca_cert: str | None = None,
    ) -> VaultSettings:
        return VaultSettings(
            address=address or self.server.address,
            namespace=namespace,
            mount=mount,
            kv_version=kv_version,
            auth=auth or TokenAuth(),
            ca_cert=ca_cert,
        )
