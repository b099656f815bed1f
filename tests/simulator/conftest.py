"""Fixtures for the simulator's tests: seeds, a running simulator, the OpenAPI spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentry_simulator import DEMO_SEED_PATH
from sentry_simulator.testing import RunningSimulator, running_simulator
from simulator_helpers import sentry_client

# The subset of Sentry's OpenAPI schema the tool relies on, kept in the repository
# so CI on a clean clone checks the same schema.
SPEC_PATH = Path(__file__).with_name("openapi-subset.json")

# Tokens the demo seed lacks, to reach the 403 paths.
EXTRA_TOKENS = [
    {"token": "org-only-token", "scopes": ["org:read"]},
    {"token": "project-only-token", "scopes": ["project:read"]},
    {"token": "admin-scopes-token", "scopes": ["org:admin", "project:write"]},
]


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
