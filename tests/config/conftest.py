"""Fixtures for the config tests: a Pulumi program context under mocks, for reading the stack's config."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.config import set_all_config


class _NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        raise AssertionError("reading settings creates no resource")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError("reading settings calls nothing")


@pytest.fixture
def pulumi_stack() -> Iterator[None]:
    pulumi.runtime.set_mocks(_NoResources(), project="sentry-dsn-sync", stack="dev", preview=True)
    yield
    set_all_config({}, [])
    pulumi.runtime.settings.reset_options()
