"""The contract tests validate against a copy of Sentry's schema; it must be the shared one, byte for byte."""

from __future__ import annotations

from pathlib import Path

from tests.simulator.conftest import SPEC_PATH

# The project's checkouts (and CI's) sit beside the shared folder that holds the official schema.
SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "sentry-api" / "openapi-subset.json"


def test_the_schema_copy_is_the_shared_official_schema() -> None:
    assert SHARED_SPEC.is_file(), f"expected the official schema at {SHARED_SPEC}"
    assert SPEC_PATH.read_bytes() == SHARED_SPEC.read_bytes()
