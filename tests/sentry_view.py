"""Sentry's client keys as the tests see them: read straight from Sentry's API, not through the tool."""

from __future__ import annotations

from typing import Any

import httpx

TOKEN = "demo-token"


def sentry_keys(simulator: Any, project: str) -> list[dict[str, Any]]:
    """The project's keys as Sentry's own API returns them (the test's view, not the tool's)."""
    response = httpx.get(
        f"{simulator.url}api/0/projects/acme/{project}/keys/",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    response.raise_for_status()
    keys: list[dict[str, Any]] = response.json()
    return keys


def newest_active_key(simulator: Any, project: str) -> dict[str, Any]:
    """The key the tool publishes when no keyId or keyLabel is set: the newest active one."""
    active = [key for key in sentry_keys(simulator, project) if key["isActive"]]
    return max(active, key=lambda key: (key["dateCreated"], int(key["id"], 16)))
