"""Helpers for end-to-end tests: the stack they run, its Sentry seed, the services' environment, its config, and hand edits in Vault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devenv.pulumi_cli import PulumiProject

STACK = "e2e"
SEED_PATH = Path(__file__).resolve().parents[2] / "sentry_simulator" / "seeds" / "demo.json"


def service_env(simulator: Any, openbao: Any) -> dict[str, str]:
    """The environment a pipeline sets to reach this run's Sentry simulator and OpenBao."""
    return {
        "SENTRY_URL": simulator.url,
        "SENTRY_AUTH_TOKEN": "demo-token",
        "VAULT_ADDR": openbao.address,
        "VAULT_TOKEN": openbao.root_token,
    }


def configure(project: PulumiProject, **values: Any) -> None:
    for key, value in values.items():
        project.set_config(STACK, f"sentry-dsn-sync:{key}", value)


def edit_by_hand(vault: Any, mount: str, path: str, fields: dict[str, str]) -> None:
    """A hand edit as `bao kv patch` makes it: merged on the server, every other field kept."""
    vault.adapter.request(
        "PATCH",
        f"/v1/{mount}/data/{path}",
        json={"data": fields},
        headers={"Content-Type": "application/merge-patch+json"},
    )
