"""The fault suite: one sealable OpenBao and one broken-and-repaired stack for the whole package
(every test leaves it converged, so the next fault starts from a known good state), and the
summary line pytest prints at the end of the run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devenv.openbao import SealableOpenBaoServer, sealable_server, wait_for_kv_v2
from devenv.pulumi_cli import toolchain_bin
from sentry_simulator.testing import running_simulator
from tests.faults.ledger import LEDGER
from tests.faults.stack import FaultStack, fault_seed


@pytest.fixture(scope="package")
def bao() -> Iterator[SealableOpenBaoServer]:
    """A real (non-dev) OpenBao that faults may seal, stop and restart."""
    with sealable_server() as server:
        yield server


@pytest.fixture(scope="package")
def stack(bao: SealableOpenBaoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """A converged stack with a simulator, a KV v2 mount and a file backend of its own."""
    mount = f"faults-{uuid.uuid4().hex[:8]}"
    bao.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    wait_for_kv_v2(bao, mount)
    with running_simulator(fault_seed()) as sentry:
        built = FaultStack.create(
            Path(tmp_path_factory.mktemp("faults")),
            bin_dir=toolchain_bin(),
            sentry=sentry,
            vault_address=bao.address,
            root_token=bao.root_token,
            root=bao.client,
            mount=mount,
        )
        yield built
        assert built.scan_for_leaks() == [], "a credential or key secret leaked"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LEDGER.ran:
        for line in LEDGER.by_class():
            terminalreporter.write_line(line)
        terminalreporter.write_line(LEDGER.summary())
