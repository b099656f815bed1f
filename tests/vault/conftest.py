"""One real OpenBao dev server for the whole session, plus helpers to build settings against it.

Tests isolate themselves by path (every test writes below its own random
prefix), not by server, so the suite pays the server start-up once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import hvac
import pytest

from sentry_dsn_sync.config import TokenAuth, VaultAuth, VaultSettings
from devenv.openbao import OpenBaoServer, dev_server, wait_for_kv_v2

V1_MOUNT = "kv1"
V2_MOUNT = "apps"


@pytest.fixture(scope="session")
def bao() -> Iterator[OpenBaoServer]:
    with dev_server() as server:
        root = server.client()
        root.sys.enable_secrets_engine("kv", path=V1_MOUNT, options={"version": "1"})
        root.sys.enable_secrets_engine("kv", path=V2_MOUNT, options={"version": "2"})
        wait_for_kv_v2(server, V2_MOUNT)
        yield server


@pytest.fixture
def root(bao: OpenBaoServer) -> hvac.Client:
    """An independent root client: the test's own eyes on Vault, and the "other writer"."""
    return bao.client()


@pytest.fixture
def path() -> str:
    """A secret path no other test uses."""
    return f"sentry/acme/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME, so no developer's ~/.vault-token takes part."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def root_env(bao: OpenBaoServer, home: Path) -> dict[str, str]:
    return {"VAULT_TOKEN": bao.root_token, "HOME": str(home)}


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


@pytest.fixture
def make_settings(bao: OpenBaoServer) -> MakeSettings:
    return MakeSettings(bao)
