"""End-to-end fixtures: the real `pulumi` CLI, a real OpenBao and the Sentry simulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devenv.openbao import wait_for_kv_v2
from devenv.pulumi_cli import PulumiProject, copy_project, toolchain_bin
from sentry_simulator.seed import load_seed
from sentry_simulator.testing import running_simulator
from tests.e2e.stack_helpers import SEED_PATH, STACK, service_env


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    return toolchain_bin()


@pytest.fixture
def demo_seed() -> Any:
    return load_seed(SEED_PATH)


@pytest.fixture
def simulator(demo_seed: dict[str, Any]) -> Iterator[Any]:
    with running_simulator(demo_seed) as sim:
        yield sim


@pytest.fixture
def vault_mount(openbao: Any) -> str:
    """A KV v2 mount of this test's own, so tests sharing the server never see each other's secrets."""
    mount = f"e2e-{uuid.uuid4().hex[:8]}"
    openbao.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    wait_for_kv_v2(openbao, mount)
    return mount


@pytest.fixture
def pulumi_project(tmp_path: Path, pulumi_bin: Path, simulator: Any, openbao: Any, vault_mount: str) -> PulumiProject:
    """A fresh copy of the program with its own file backend, pointed at the simulator and OpenBao."""
    project = PulumiProject(
        project_dir=copy_project(tmp_path / "project"),
        backend_dir=tmp_path / "state",
        bin_dir=pulumi_bin,
        extra_env=service_env(simulator, openbao),
    )
    project.init_stack(STACK)
    project.set_config(STACK, "sentry-dsn-sync:vault", {"mount": vault_mount})
    return project
