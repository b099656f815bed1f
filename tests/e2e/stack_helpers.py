"""Helpers for end-to-end tests: set a stack's config, and read Sentry's keys as the test's own eyes."""

from __future__ import annotations

from typing import Any

import httpx

from devenv.pulumi_cli import PulumiProject

STACK = "e2e"


def configure(project: PulumiProject, **values: Any) -> None:
    for key, value in values.items():
        project.set_config(STACK, f"sentry-dsn-sync:{key}", value)


def sentry_keys(simulator: Any, project: str) -> list[dict[str, Any]]:
    """The project's keys as Sentry's own API returns them (the test's view, not the tool's)."""
    response = httpx.get(
        f"{simulator.url}api/0/projects/acme/{project}/keys/",
        headers={"Authorization": "Bearer demo-token"},
    )
    response.raise_for_status()
    keys: list[dict[str, Any]] = response.json()
    return keys


def newest_active_key(simulator: Any, project: str) -> dict[str, Any]:
    active = [key for key in sentry_keys(simulator, project) if key["isActive"]]
    return max(active, key=lambda key: (key["dateCreated"], int(key["id"], 16)))
