"""Session-wide services: one real OpenBao dev server shared by integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devenv.openbao import OpenBaoServer, dev_server


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    with dev_server() as server:
        yield server
