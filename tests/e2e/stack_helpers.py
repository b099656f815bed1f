"""Helpers for end-to-end tests: the stack they run, and setting its config."""

from __future__ import annotations

from typing import Any

from devenv.pulumi_cli import PulumiProject

STACK = "e2e"


def configure(project: PulumiProject, **values: Any) -> None:
    for key, value in values.items():
        project.set_config(STACK, f"sentry-dsn-sync:{key}", value)
