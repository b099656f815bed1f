"""Helpers for end-to-end tests: the stack they run, its Sentry seed, and setting its config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devenv.pulumi_cli import PulumiProject

STACK = "e2e"
SEED_PATH = Path(__file__).resolve().parents[2] / "sentry_simulator" / "seeds" / "demo.json"


def configure(project: PulumiProject, **values: Any) -> None:
    for key, value in values.items():
        project.set_config(STACK, f"sentry-dsn-sync:{key}", value)
