"""Fixtures for the simulator's tests: seeds, a running simulator, the OpenAPI spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentry_simulator import DEMO_SEED_PATH
from sentry_simulator.testing import RunningSimulator, running_simulator
from simulator_helpers import EXTRA_TOKENS, SPEC_PATH, sentry_client


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="session")
def _demo_seed_pristine() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    loaded["tokens"].extend(EXTRA_TOKENS)
    return loaded


@pytest.fixture
def demo_seed(_demo_seed_pristine: dict[str, Any]) -> dict[str, Any]:
    """The shipped demo seed plus tokens with partial scopes; a private copy per test."""
    return copy.deepcopy(_demo_seed_pristine)


@pytest.fixture
def simulator(demo_seed: dict[str, Any]) -> Iterator[RunningSimulator]:
    with running_simulator(demo_seed) as running:
        yield running


@pytest.fixture
def client(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    with sentry_client(simulator.url) as http:
        yield http
