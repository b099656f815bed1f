"""Fixtures for the Sentry client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sentry_dsn_sync.sentry import reset_shared_catalogs

from .fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _no_shared_catalogs() -> Iterator[None]:
    reset_shared_catalogs()
    yield
    reset_shared_catalogs()
