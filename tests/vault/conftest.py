"""Vault fixtures on the run's one OpenBao dev server (`openbao`, tests/conftest.py), with two mounts of their own.

Tests isolate themselves by path (every test writes below its own random
prefix), not by server, so the run pays the server start-up once.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import hvac
import pytest

from devenv.openbao import OpenBaoServer, wait_for_kv_v2
from tests.vault.vault_helpers import V1_MOUNT, V2_MOUNT, MakeSettings


@pytest.fixture(scope="session")
def bao(openbao: OpenBaoServer) -> OpenBaoServer:
    root = openbao.client()
    root.sys.enable_secrets_engine("kv", path=V1_MOUNT, options={"version": "1"})
    root.sys.enable_secrets_engine("kv", path=V2_MOUNT, options={"version": "2"})
    wait_for_kv_v2(openbao, V2_MOUNT)
    return openbao


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


@pytest.fixture
def make_settings(bao: OpenBaoServer) -> MakeSettings:
    return MakeSettings(bao)
